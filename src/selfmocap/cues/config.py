"""The configs of the cues stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2

from selfmocap import config as cfg

_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


@dataclass(frozen=True)
class FlowConfig:
    """OpenCV DIS optical flow settings, and the forward-backward consistency check."""

    preset: Literal["ultrafast", "fast", "medium"] = cfg.field("medium", help="DIS preset the settings below refine")
    finest_scale: int = cfg.field(0, help="finest pyramid level DIS estimates at (0: full resolution)")
    patch_size: int = cfg.field(8, help="DIS patch side in pixels")
    patch_stride: int = cfg.field(4, help="DIS patch stride in pixels")
    consistency_check: bool = cfg.field(True, help="mark flow invalid where forward and backward flow disagree")
    consistency_alpha: float = cfg.field(0.01, help="consistency: tolerance relative to the squared flow magnitudes")
    consistency_beta: float = cfg.field(0.5, help="consistency: absolute tolerance, squared pixels")

    def __post_init__(self) -> None:
        if self.preset not in _PRESETS:
            raise ValueError(f"preset must be one of {sorted(_PRESETS)}, got {self.preset!r}")
        if self.finest_scale < 0 or self.patch_size < 2 or not 1 <= self.patch_stride <= self.patch_size:
            raise ValueError("need finest_scale >= 0, patch_size >= 2 and 1 <= patch_stride <= patch_size")

    def create(self) -> cv2.DISOpticalFlow:
        """A DIS instance with these settings (reuse it across the pairs of a clip)."""
        dis = cv2.DISOpticalFlow_create(_PRESETS[self.preset])
        dis.setFinestScale(self.finest_scale)
        dis.setPatchSize(self.patch_size)
        dis.setPatchStride(self.patch_stride)
        return dis
