"""Evaluation of predictions against clips and real 3D annotation files (the metrics: :mod:`selfmocap.body.metrics`)."""
