"""Datasets: the synthetic clip format and its readers."""

from selfmocap.data.clip import Clip, list_clips
from selfmocap.data.records import ClipLabels, ClipMeta

__all__ = ["Clip", "ClipLabels", "ClipMeta", "list_clips"]
