"""Loss weights and names: one name per weight and term, the weighted total."""

from __future__ import annotations

from dataclasses import fields

import pytest
import torch

from selfmocap.losses import LOSS_FIELDS, LOSS_NAMES, SelfSupervisedLossWeights, SelfSupervisedTerms


def test_total_and_names():
    terms = SelfSupervisedTerms(torch.tensor(1.0), torch.tensor(2.0), torch.tensor(4.0), torch.tensor(8.0))
    weights = SelfSupervisedLossWeights(keypoint=0.5, segmentation=0.25, motion=2.0, world3d=0.125)
    assert terms.total(weights).item() == pytest.approx(0.5 + 0.5 + 8.0 + 1.0)
    assert SelfSupervisedTerms.names() == ("keypoint", "segmentation", "motion", "world3d")
    assert torch.equal(terms.stacked(), torch.tensor([1.0, 2.0, 4.0, 8.0]))


def test_every_loss_name_names_a_weight_and_a_term():
    assert tuple(LOSS_FIELDS) == LOSS_NAMES == ("kpt", "seg", "motion", "world3d")
    assert tuple(LOSS_FIELDS.values()) == SelfSupervisedTerms.names() == tuple(f.name for f in fields(SelfSupervisedLossWeights))
