"""Many videos: ``selfmocap batch`` captures a folder or manifest of inputs, each exactly as
``selfmocap capture`` would, resumably, with local worker processes or on a Ray cluster
(``docs/batch.md``).

Kept light on purpose (spawned workers import this package before they size their threads).
"""
