"""Loss weights: typed config, CLI round trip, weighted total."""

from __future__ import annotations

import argparse

import pytest
import torch

from selfmocap import config as cfg
from selfmocap.adapt.objective import ObjectiveConfig
from selfmocap.losses import SelfSupervisedLossWeights, SelfSupervisedTerms


def test_cli_round_trip():
    parser = argparse.ArgumentParser()
    cfg.add_options(parser, ObjectiveConfig)
    args = parser.parse_args(["--weight-motion", "0.25", "--segmentation-form", "distance_map"])
    config = cfg.from_args(ObjectiveConfig, args)
    assert config.weights == SelfSupervisedLossWeights(motion=0.25)
    assert config.segmentation_form == "distance_map" and config.segmentation_downsample == 2
    assert cfg.to_dict(config)["weights"]["motion"] == 0.25
    with pytest.raises(SystemExit):
        parser.parse_args(["--segmentation-form", "nope"])


def test_total_and_names():
    terms = SelfSupervisedTerms(torch.tensor(1.0), torch.tensor(2.0), torch.tensor(4.0), torch.tensor(8.0))
    weights = SelfSupervisedLossWeights(keypoint=0.5, segmentation=0.25, motion=2.0, world3d=0.125)
    assert terms.total(weights).item() == pytest.approx(0.5 + 0.5 + 8.0 + 1.0)
    assert SelfSupervisedTerms.names() == ("keypoint", "segmentation", "motion", "world3d")
    assert torch.equal(terms.stacked(), torch.tensor([1.0, 2.0, 4.0, 8.0]))


def test_bad_downsample():
    with pytest.raises(ValueError, match="downsample"):
        ObjectiveConfig(segmentation_downsample=0)
