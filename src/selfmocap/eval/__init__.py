"""Evaluation: 3D error metrics (:mod:`selfmocap.eval.metrics`)."""
