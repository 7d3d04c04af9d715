"""The configs of the eval stage: ``selfmocap evaluate`` on synthetic clips and on real annotation files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selfmocap import config as cfg
from selfmocap.body import BodyModelConfig
from selfmocap.eval.annotations import JointOrder


@dataclass(frozen=True)
class RealConfig:
    """``selfmocap evaluate`` on real annotation files (``docs/evaluation.md``)."""

    annotations: Path | None = cfg.field(None, help="SPIN / mmpose annotation npz (imgname, S, part, center, scale) or a folder of them; with --capture")
    capture: Path | None = cfg.field(None, help="a capture of the annotated images (selfmocap capture --out), or a folder of such captures")
    images_root: Path | None = cfg.field(None, help="where the captured image folders are now, if moved: DIR/<folder name> (default: the paths the captures recorded)")
    joint_order: JointOrder = cfg.field("auto", help="joint order of S (auto: 24 joints = SPIN's, 17 = Human3.6M's or MPI-INF-3DHP's, told apart by the root)")
    mediapipe_reference: bool = cfg.field(False, help="also score mediapipe's world landmarks, run on the images, when the captures did not keep them")


@dataclass(frozen=True)
class EvaluateConfig:
    """``selfmocap evaluate``."""

    pred: Path | None = cfg.field(None, help="predictions folder (written by predict, adapt or optimize); with --data")
    data: Path | None = cfg.field(None, help="the clips the predictions are for, with their ground truth; with --pred")
    json: Path | None = cfg.field(None, help="also write the metrics as JSON to this file")
    decompose: bool = cfg.field(False, help="also split the per-joint error into global orientation, body size and pose (analysis, eval/decompose.py)")
    body: BodyModelConfig = cfg.field(default_factory=BodyModelConfig, help="the body model")
    real: RealConfig = cfg.field(default_factory=RealConfig, help="real annotation files")
