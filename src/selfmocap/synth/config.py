"""The configs of the synth stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from selfmocap import config as cfg
from selfmocap.body.config import BodyModelConfig


@dataclass(frozen=True)
class SynthConfig:
    """``selfmocap synth``."""

    out: Path = cfg.field(help="dataset folder to write (created; rerunning resumes)")
    split: Literal["train", "test", "shift"] = cfg.field(help="which distribution to draw from (docs/dataset.md)")
    clips: int = cfg.field(help="number of clips in the folder when done")
    frames: int = cfg.field(30, help="frames per clip")
    seed: int = cfg.field(0, help="base random seed; clip i of a split is a pure function of (seed, split, i)")
    size: int = cfg.field(256, help="frame width and height in pixels (at least 64)")
    fps: float = cfg.field(30.0, help="frame rate of the motion")
    workers: int = cfg.field(1, help="worker processes (the output does not depend on it)")
    preview: bool = cfg.field(False, help="also write preview.png, a contact sheet, into every clip")
    world_landmarks: bool = cfg.field(False, help="also run mediapipe on every clip's frames and keep its 3D world landmarks (world_landmarks.npz: the 3D input of a --world-input network in pretraining)")
    body: BodyModelConfig = cfg.field(default_factory=BodyModelConfig, help="body model of the clips (default: anny)")
    motions: Path | None = cfg.field(
        None, help="BVH motion capture (a file, or a folder searched for *.bvh) to draw the motions from, "
        "instead of the split's procedural families (docs/motion.md)"
    )
    motion_map: Path | None = cfg.field(
        None, help="bone map (JSON) from the BVH skeletons to the body model's bones; the shipped map covers "
        "CMU, MotionBuilder/Mixamo, MB-Lab/game and SMPL names"
    )
