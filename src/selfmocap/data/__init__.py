"""Datasets: the synthetic clip format and its readers."""

from selfmocap.data.clip import Clip, ClipLabels, ClipMeta, list_clips

__all__ = ["Clip", "ClipLabels", "ClipMeta", "list_clips"]
