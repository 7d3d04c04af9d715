"""The configs of the adaptation stage: ``selfmocap adapt``, ``predict`` and ``optimize``, and the
parts ``capture`` and ``bench`` nest (:class:`StepOptions`, :class:`CropConfig`, the objective).

Decisions behind the defaults: ``docs/adaptation.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from selfmocap import config as cfg
from selfmocap.body import BodyModelConfig
from selfmocap.losses import LOSS_NAMES, LossName, SegmentationForm, SelfSupervisedLossWeights
from selfmocap.losses.world3d import WorldAlignment


@dataclass(frozen=True)
class CropConfig:
    """How person crops and frame pairs are made from the 2D keypoints."""

    margin: float = cfg.field(0.2, help="crop margin on each side, fraction of the keypoint extent")
    box_smoothing: int = cfg.field(5, help="frames in the moving average of crop centres and sides (1: off)")
    pair_gap: int = cfg.field(2, help="frames between the two frames of a motion-loss pair (optical flow t -> t+gap)")


@dataclass(frozen=True)
class InputConfig:
    """Which 2D measurements a method sees, and how crops are made from them."""

    inputs: Literal["oracle", "estimated"] = cfg.field(
        "estimated", help="2D inputs: ground-truth keypoints/masks/flow ('oracle') or noisy keypoints, degraded masks and DIS flow ('estimated')"
    )
    keypoint_noise: float = cfg.field(0.015, help="estimated inputs: keypoint noise std, fraction of the person's extent")
    keypoint_dropout: float = cfg.field(0.08, help="estimated inputs: probability that a visible keypoint is missed")
    noise_seed: int = cfg.field(0, help="seed of the simulated detector and segmenter errors")
    crop: CropConfig = cfg.field(default_factory=CropConfig, help="person crops and frame pairs")


@dataclass(frozen=True)
class ObjectiveConfig:
    """Which self-supervised losses are on, their weights, and the pose prior."""

    losses: tuple[LossName, ...] = cfg.field(
        ("kpt", "seg", "motion"), help="self-supervised losses, comma-separated: kpt (Eq. 4), seg (Eq. 5), motion (section 3.1), "
        "world3d (mediapipe's 3D world landmarks, aligned up to a similarity; not in the paper)")
    weights: SelfSupervisedLossWeights = cfg.field(default_factory=SelfSupervisedLossWeights, help="loss weights", prefix="weight-")
    prior: float = cfg.field(0.1, help="weight of the joint-limit pose prior (0: off; SMPL: through Anny's bones, docs/smpl.md)")
    segmentation_form: SegmentationForm = cfg.field("chamfer", help="'chamfer': Eq. 5 point sets; 'distance_map': Eq. 6-7 thresholded distance maps")
    segmentation_downsample: int = cfg.field(2, help="segmentation loss resolution divisor (the paper: 2, half resolution)")
    world3d_alignment: WorldAlignment = cfg.field(
        "similarity", help="world3d: align up to a similarity (the pose's shape only) or up to scale (mediapipe's orientation in the camera counts too; docs/losses.md)")

    def __post_init__(self) -> None:
        if not isinstance(self.losses, tuple) or not self.losses or set(self.losses) - set(LOSS_NAMES):
            shown = ",".join(map(str, self.losses)) if isinstance(self.losses, tuple) else self.losses
            raise ValueError(f"--losses must be a comma-separated subset of {','.join(LOSS_NAMES)}, got {shown!r}")
        if self.segmentation_downsample < 1:
            raise ValueError(f"segmentation_downsample must be >= 1, got {self.segmentation_downsample}")


@dataclass(frozen=True)
class StepOptions:
    """What every adaptation step does: one Adam update of the network weights on a batch of frame pairs."""

    lr: float = cfg.field(1e-5, help="Adam learning rate (the paper: plain gradient descent at 1e-4; docs/adaptation.md)")
    batch: int = cfg.field(8, help="frame pairs (t, t + gap) per step")
    batchnorm: Literal["frozen", "adapt"] = cfg.field("frozen", help="batch-norm statistics: keep the pretraining ones, or re-estimate on test frames")
    seed: int = cfg.field(0, help="seed of the pair sampling and of the replay batches")


@dataclass(frozen=True)
class ReplayOptions:
    """Supervised replay of synthetic training clips against drift (``adapt/replay.py``)."""

    data: Path | None = cfg.field(
        None, help="folder of synthetic *training* clips whose supervised pretraining loss (their own ground truth, "
        "never the adapted clips') is added at every step against drift (default: no replay)")
    weight: float = cfg.field(1.0, help="weight W of the replay term: objective + W x supervised loss (pretraining's weights)")
    batch: int = cfg.field(8, help="replay frames per step")

    def __post_init__(self) -> None:
        if self.weight < 0:
            raise ValueError(f"--replay-weight must be >= 0, got {self.weight}")
        if self.batch < 1:
            raise ValueError(f"--replay-batch must be >= 1, got {self.batch}")


@dataclass(frozen=True)
class AdaptOptions:
    """Optimisation of the network weights on the test frames."""

    iters: int = cfg.field(480, help="gradient steps (each on --batch frame pairs); 480 chosen on the development splits (docs/adaptation.md)")
    step: StepOptions = cfg.field(default_factory=StepOptions, help="each step")
    scope: Literal["joint", "per-clip"] = cfg.field("joint", help="one network for all clips, or a fresh one per clip")
    replay: ReplayOptions = cfg.field(default_factory=ReplayOptions, prefix="replay-", help="supervised replay against drift")


@dataclass(frozen=True)
class RefineConfig:
    """The final per-frame fit: schedule and the weight of each term."""

    steps: int = cfg.field(20, help="refinement: Adam steps per window of frames (0: off)")
    window: int = cfg.field(32, help="refinement: frames fitted together (bounds memory)")
    lr: float = cfg.field(0.03, help="refinement: Adam learning rate of the per-frame parameters")
    keypoint: float = cfg.field(1.0, help="refinement: weight of the keypoint re-projection term (squared crop sides)")
    segmentation: float = cfg.field(0.1, help="refinement: weight of the segmentation Chamfer term (0: off)")
    seg_every: int = cfg.field(10, help="refinement: the segmentation term every this many steps (it costs several keypoint steps)")
    world3d: float = cfg.field(1.0, help="refinement: weight of the aligned 3D term against mediapipe's world landmarks (0: off)")
    world3d_alignment: WorldAlignment = cfg.field("similarity", help="refinement: the 3D term's alignment (similarity or scale, as --world3d-alignment)")
    smooth: float = cfg.field(0.3, help="refinement: weight of the squared camera-space keypoint acceleration (units of 2 m)")
    anchor: float = cfg.field(0.002, help="refinement: weight of the squared distance of bone rotations to the adapted ones")
    prior: float = cfg.field(0.1, help="refinement: weight of the joint-limit pose prior")

    def __post_init__(self) -> None:
        if self.steps < 0 or self.window < 1 or self.seg_every < 1:
            raise ValueError(f"refinement needs steps >= 0, window >= 1 and seg_every >= 1, got {self.steps}, "
                             f"{self.window}, {self.seg_every}")


@dataclass(frozen=True)
class AdaptConfig:
    """``selfmocap adapt``."""

    data: Path = cfg.field(help="folder of clips (the synthetic format) to adapt to")
    out: Path = cfg.field(help="predictions folder to write")
    checkpoint: Path | None = cfg.field(None, help="pretrained network (default: the shipped checkpoint)")
    vertices: bool = cfg.field(False, help="also write per-frame vertices")
    adapt: AdaptOptions = cfg.field(default_factory=AdaptOptions, help="the adaptation")
    objective: ObjectiveConfig = cfg.field(default_factory=ObjectiveConfig, help="the self-supervised objective")
    refine: RefineConfig = cfg.field(default_factory=lambda: RefineConfig(steps=0), prefix="refine-",
                                     help="a final per-frame fit after adaptation (off by default: the paper's method)")
    input: InputConfig = cfg.field(default_factory=InputConfig, help="the 2D inputs")
    body: BodyModelConfig = cfg.field(default_factory=BodyModelConfig, help="the body model")


@dataclass(frozen=True)
class PredictConfig:
    """``selfmocap predict``."""

    data: Path = cfg.field(help="folder of clips (the synthetic format)")
    out: Path = cfg.field(help="predictions folder to write")
    checkpoint: Path | None = cfg.field(None, help="pretrained network (default: the shipped checkpoint)")
    vertices: bool = cfg.field(False, help="also write per-frame vertices")
    input: InputConfig = cfg.field(default_factory=InputConfig, help="the 2D inputs")
    body: BodyModelConfig = cfg.field(default_factory=BodyModelConfig, help="the body model")


#: The optimization baseline's initialisations (``adapt/optimize.py``).
Init = Literal["random", "gt-rotation", "gt-rotation-translation", "gt-pose"]


@dataclass(frozen=True)
class OptimizeConfig:
    """``selfmocap optimize``."""

    data: Path = cfg.field(help="folder of clips (the synthetic format)")
    out: Path = cfg.field(help="predictions folder to write")
    init: Init = cfg.field("random", help="initialisation: random, or with ground-truth rotation / rotation+translation / pose")
    iters: int = cfg.field(200, help="gradient steps per clip (each on --batch frame pairs)")
    lr: float = cfg.field(0.02, help="Adam learning rate of the per-frame parameters")
    batch: int = cfg.field(8, help="frame pairs per step")
    depth: float = cfg.field(4.0, help="fixed root depth D0 of the camera (metres), as the network's")
    seed: int = cfg.field(0, help="seed of the random initialisation and pair sampling")
    vertices: bool = cfg.field(False, help="also write per-frame vertices")
    objective: ObjectiveConfig = cfg.field(default_factory=ObjectiveConfig, help="the self-supervised objective")
    input: InputConfig = cfg.field(default_factory=InputConfig, help="the 2D inputs")
    body: BodyModelConfig = cfg.field(default_factory=BodyModelConfig, help="the body model")
