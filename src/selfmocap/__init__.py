"""selfmocap: monocular motion capture by self-supervised test-time adaptation.

The package follows the data flow, one folder per stage; the README's "Layout" gives the order
in which the stages import each other (``tests/test_import_cycles.py`` checks it).
"""

__version__ = "0.1.0"
