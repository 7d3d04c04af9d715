"""Configuration of the self-supervised losses: their weights and options, and the record of
the unweighted terms (section 3.1; ``docs/losses.md``)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, get_args

import torch

from selfmocap import config as cfg

SegmentationForm = Literal["chamfer", "distance_map"]

#: A self-supervised loss by its ``--losses`` name: kpt (Eq. 4), seg (Eq. 5), motion (section
#: 3.1), world3d (mediapipe's 3D world landmarks; not in the paper).
LossName = Literal["kpt", "seg", "motion", "world3d"]
LOSS_NAMES: tuple[LossName, ...] = get_args(LossName)
#: Each loss's field in :class:`SelfSupervisedLossWeights` and :class:`SelfSupervisedTerms`.
LOSS_FIELDS: dict[LossName, str] = {"kpt": "keypoint", "seg": "segmentation", "motion": "motion", "world3d": "world3d"}


@dataclass(frozen=True)
class SelfSupervisedLossWeights:
    """Weight of each self-supervised term in the adaptation loss (the paper gives none; chosen on
    the development splits at the default 480 steps, ``docs/adaptation.md``). With ``scale`` = crop
    side, keypoint and segmentation terms are squared distances in crop sides and the motion term
    an L1 distance in crop sides (``docs/losses.md``)."""

    keypoint: float = cfg.field(
        1.0, help="Eq. 4 keypoint re-projection: confidence-weighted squared error in crop sides")
    segmentation: float = cfg.field(
        0.1, help="Eq. 5 segmentation Chamfer: mean squared distance in crop sides (both ways); "
        "chosen on the development splits (docs/adaptation.md)")
    motion: float = cfg.field(
        0.01, help="section 3.1 motion re-projection: mean L1 flow error of visible vertices in crop sides "
        "(L1 where the others are squared, so it is weighted down further; docs/adaptation.md)")
    world3d: float = cfg.field(
        1.0, help="3D keypoints against mediapipe's world landmarks, aligned up to rotation, translation and scale: "
        "weighted squared error in units of 2 m (losses/world3d.py; docs/losses.md)")


@dataclass(frozen=True)
class SelfSupervisedTerms:
    """Unweighted self-supervised terms (scalars), named as in :class:`SelfSupervisedLossWeights`."""

    keypoint: torch.Tensor
    segmentation: torch.Tensor
    motion: torch.Tensor
    world3d: torch.Tensor

    def total(self, weights: SelfSupervisedLossWeights) -> torch.Tensor:
        return sum(getattr(weights, f.name) * getattr(self, f.name) for f in fields(self))

    def stacked(self) -> torch.Tensor:
        """(4,) the detached terms in field order (for logging)."""
        return torch.stack([getattr(self, f.name).detach() for f in fields(self)])

    @staticmethod
    def names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(SelfSupervisedTerms))
