"""Replay of synthetic supervised batches during test-time adaptation (a guard against drift,
beyond the paper; ``docs/adaptation.md``).

Every adaptation step may also compute the supervised pretraining loss
(:func:`~selfmocap.training.pretrain.supervised_batch_losses`, the function pretraining uses,
with the default :class:`~selfmocap.training.losses.LossWeights`) on a batch of frames of
*synthetic training* clips, cropped and augmented with the checkpoint's frame config. Its ground
truth is that of the synthetic training clips only; the adapted clips' 3D ground truth is never
read. The term pulls the weights back towards what pretraining taught while the self-supervised
losses move them towards the test frames.

Batch ``s`` is a pure function of ``(seed, s)``: frames drawn without replacement and an
augmentation seed per frame, so runs repeat and do not depend on the pair sampling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from selfmocap.body.model import BodyModel
from selfmocap.data.frames import FrameBatch, FrameDataset, collate_frames
from selfmocap.errors import UserError
from selfmocap.models.pretrained import ModelCard
from selfmocap.training.losses import LossTerms, LossWeights
from selfmocap.training.pretrain import supervised_batch_losses


class ReplayError(UserError):
    """Unusable ``--replay-data`` (a one-line error)."""


@dataclass
class ReplayBatches:
    """Seeded batches of synthetic training frames and their supervised loss for a network.

    Attributes:
        dataset: the replay frames, cropped with the checkpoint's frame config.
        card: the checkpoint's card (network input size, fixed depth, heatmap sigma).
        batch: frames per batch.
        seed: base seed of the frame draws and augmentation.
        weights: weights of the supervised terms (pretraining's defaults).
    """

    dataset: FrameDataset
    card: ModelCard
    batch: int
    seed: int
    weights: LossWeights = LossWeights()

    def batch_at(self, step: int) -> FrameBatch:
        """The frames of step ``step``: a pure function of ``(seed, step)``."""
        rng = np.random.default_rng([self.seed, step])
        index = rng.choice(len(self.dataset), size=min(self.batch, len(self.dataset)), replace=False)
        seeds = rng.integers(0, 2**32, size=len(index))
        return collate_frames([self.dataset[(int(i), int(s))] for i, s in zip(index, seeds)])

    def losses(self, net: torch.nn.Module, body: BodyModel, step: int) -> tuple[torch.Tensor, LossTerms]:
        """Weighted supervised loss (scalar, with gradient) and its terms on batch ``step``.

        The network runs in eval mode for this batch (and is put back in its mode after): its
        batch-norm statistics stay those that adaptation keeps (the pretraining ones with
        ``--batchnorm frozen``, the test frames' with ``adapt``) and synthetic frames never enter them.
        """
        was_training = net.training
        net.eval()
        try:
            terms = supervised_batch_losses(net, body, self.batch_at(step), self.card.network_config, self.card.frame_config.heatmap_sigma)
        finally:
            net.train(was_training)
        return terms.total(self.weights), terms


def open_replay(folder: Path, card: ModelCard, batch: int, seed: int, body=None) -> ReplayBatches:
    """Replay batches from the clips under ``folder`` for a checkpoint with ``card``.

    ``body`` (a :class:`~selfmocap.body.BodyModelConfig`) locates body model files where the
    clips' labels need them. Raises :class:`ReplayError` for a missing folder, one without clips,
    clips of another body model than the checkpoint's, or ``batch < 1``.
    """
    if batch < 1:
        raise ReplayError(f"--replay-batch must be >= 1, got {batch}")
    try:
        dataset = FrameDataset([folder], card.network_config.input_size, replace(card.frame_config, workers=0), body=body)
    except (FileNotFoundError, ValueError) as err:
        raise ReplayError(f"--replay-data: {err}") from None
    if dataset.body_model != card.body_model:
        raise ReplayError(f"--replay-data {folder}: clips of body model {dataset.body_model}, but the checkpoint predicts {card.body_model}")
    if len(dataset) == 0:
        raise ReplayError(f"--replay-data {folder}: the clips hold no frames")
    return ReplayBatches(dataset=dataset, card=card, batch=batch, seed=seed)
