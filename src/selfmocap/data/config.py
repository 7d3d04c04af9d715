"""The configuration of the per-frame training data (crops, heatmaps, augmentation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from selfmocap.config import field
@dataclass(frozen=True)
class FrameConfig:
    """Crops, heatmaps and augmentation of the per-frame data."""

    margin: float = field(0.2, help="box margin on each side, as a fraction of the keypoint extent")
    box_source: Literal["keypoints", "mask"] = field("keypoints", help="what the person box is built around")
    heatmap_sigma: float = field(3.0, help="standard deviation of the keypoint heatmaps, crop pixels")
    augment: bool = field(True, help="augment training frames (validation frames never are)")
    jitter_scale: float = field(0.15, help="box side multiplied by exp(U(-a, a))")
    jitter_shift: float = field(0.08, help="box centre moved by U(-a, a) box sides")
    colour_jitter: float = field(0.25, help="brightness, contrast and saturation factors in 1 +- a")
    keypoint_noise: float = field(0.01, help="input keypoint noise std, as a fraction of the person's extent")
    keypoint_dropout: float = field(0.08, help="probability that a visible input keypoint is dropped")
    flip: bool = field(True, help="horizontal flip with left/right swap, half of the time")
    world_dropout: float = field(0.2, help="probability that a frame's 3D world landmarks are withheld (a world-input network must also work where mediapipe finds nobody)")
    workers: int = field(1, help="DataLoader worker processes per rank (0: load in the main process)")

