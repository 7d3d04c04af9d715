"""The configs of the capture stage: ``selfmocap capture`` (which nests the adaptation step, the
crops, the objective, the final fit and the world frame of the stages before it) and ``selfmocap demo``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from selfmocap import config as cfg
from selfmocap.adapt.config import CropConfig, ObjectiveConfig, RefineConfig, StepOptions
from selfmocap.body import BodyModelConfig
from selfmocap.capture.smoothing import SmoothingLevel
from selfmocap.export.config import WorldOptions

#: Seed of the demo clip: not 0 (training, test and shift splits, model card), not 7
#: (development splits used to choose adaptation settings).
DEMO_SEED = 2026


@dataclass(frozen=True)
class SourceOptions:
    """Which frames to read, and where the 2D cues come from."""

    start: float | None = cfg.field(None, help="first second of the video to use")
    end: float | None = cfg.field(None, help="last second of the video to use")
    fps: float | None = cfg.field(None, help="subsample to this frame rate (never upsamples)")
    max_size: int = cfg.field(480, help="resize so the longer side is at most this many pixels (never upscales)")
    keypoints: Path | None = cfg.field(None, help="your own 2D keypoints: an OpenPose JSON folder/file or a COCO JSON (default: mediapipe)")
    masks: Path | None = cfg.field(None, help="your own person masks: a folder of PNGs, one per frame (default: mediapipe)")
    model_complexity: int = cfg.field(1, help="mediapipe pose model (only 1, the full model, ships in the wheel; 0 and 2 would need a download)")


@dataclass(frozen=True)
class CaptureOptions:
    """Adaptation schedule, crops, smoothing and which outputs to write."""

    epochs: float = cfg.field(3.0, help="adaptation steps per segment: this many passes over its frame pairs (at least --min-iters)")
    min_iters: int = cfg.field(60, help="fewest adaptation steps per segment")
    iters: int = cfg.field(0, help="adaptation steps per segment, overriding --epochs/--min-iters (0: automatic; use --no-adapt to skip)")
    adapt: bool = cfg.field(True, help="run test-time adaptation (off: the pretrained network only)")
    step: StepOptions = cfg.field(default_factory=StepOptions, help="each adaptation step (its seed + k for the k-th segment)")
    segment: int = cfg.field(240, help="frames per adaptation segment (bounds memory; docs/capture.md)")
    crop: CropConfig = cfg.field(default_factory=CropConfig, help="person crops and frame pairs")
    smoothing: SmoothingLevel = cfg.field("light", help="temporal smoothing of the exported motion")
    smoothing_tolerance: float = cfg.field(3.0, help="smoothing never raises a frame's mean 2D keypoint error by more than this (pixels)")
    meshes: Literal["none", "obj", "ply"] = cfg.field("none", help="also write one mesh per frame")
    overlay: bool = cfg.field(True, help="write the overlay video")
    overwrite: bool = cfg.field(False, help="replace a result already in --out")


@dataclass(frozen=True)
class CaptureConfig:
    """``selfmocap capture``."""

    video: Path = cfg.field(help="video file (mp4, avi, mov, webm, ...) or folder of images", flag="")
    out: Path = cfg.field(help="output folder (must not hold a result unless --overwrite)")
    checkpoint: Path | None = cfg.field(None, help="pretrained network (default: the shipped checkpoint)")
    body: BodyModelConfig = cfg.field(default_factory=BodyModelConfig, help="the body model")
    source: SourceOptions = cfg.field(default_factory=SourceOptions, help="frames and 2D cues")
    capture: CaptureOptions = cfg.field(default_factory=CaptureOptions, help="adaptation, crops, smoothing, outputs")
    objective: ObjectiveConfig = cfg.field(default_factory=ObjectiveConfig, help="the self-supervised objective")
    refine: RefineConfig = cfg.field(default_factory=RefineConfig, help="the final per-frame fit", prefix="refine-")
    world: WorldOptions = cfg.field(default_factory=WorldOptions, help="the exports' world frame (docs/exports.md)")


@dataclass(frozen=True)
class DemoConfig:
    """``selfmocap demo``."""

    out: Path = cfg.field(Path("out/demo"), help="folder for the clip, its video and the capture result")
    json: Path | None = cfg.field(None, help="also write the scores as JSON (the evaluate format, one object per result)")
    split: Literal["test", "shift"] = cfg.field("test", help="synthetic distribution the held-out clip is drawn from")
    frames: int = cfg.field(60, help="frames in the clip (30 fps)")
    size: int = cfg.field(384, help="frame width and height of the rendered video, pixels")
    seed: int = cfg.field(DEMO_SEED, help="seed of the clip (the default is used by no training or tuning run)")
