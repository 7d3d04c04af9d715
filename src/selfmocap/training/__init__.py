"""Supervised pretraining: losses, resumable data-parallel loop, checkpoints and logs."""

from selfmocap.training.config import PretrainConfig
from selfmocap.training.losses import LossTerms, LossWeights, supervised_losses
from selfmocap.training.pretrain import pretrain, validate

__all__ = ["LossTerms", "LossWeights", "PretrainConfig", "pretrain", "supervised_losses", "validate"]
