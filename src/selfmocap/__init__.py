"""selfmocap: monocular motion capture by self-supervised test-time adaptation.

The package follows the data flow: ``synth`` (synthetic clips) -> ``data`` (records, readers)
-> ``geometry`` (camera, crops) -> ``body`` (body model) -> ``render`` (ray casting, visibility).
"""

__version__ = "0.1.0"
