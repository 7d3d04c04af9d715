"""The adaptation stage's configs: the objective's CLI round trip and checks."""

from __future__ import annotations

import argparse

import pytest

from selfmocap import config as cfg
from selfmocap.adapt.config import ObjectiveConfig
from selfmocap.losses import SelfSupervisedLossWeights


def test_cli_round_trip():
    parser = argparse.ArgumentParser()
    cfg.add_options(parser, ObjectiveConfig)
    args = parser.parse_args(["--weight-motion", "0.25", "--segmentation-form", "distance_map", "--losses", "kpt,world3d"])
    config = cfg.from_args(ObjectiveConfig, args)
    assert config.weights == SelfSupervisedLossWeights(motion=0.25) and config.losses == ("kpt", "world3d")
    assert config.segmentation_form == "distance_map" and config.segmentation_downsample == 2
    assert cfg.to_dict(config)["weights"]["motion"] == 0.25 and cfg.to_dict(config)["losses"] == ["kpt", "world3d"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--segmentation-form", "nope"])


def test_bad_downsample():
    with pytest.raises(ValueError, match="downsample"):
        ObjectiveConfig(segmentation_downsample=0)


@pytest.mark.parametrize("losses", [(), ("kpt", "foo"), "kpt,seg"])
def test_bad_losses(losses):
    with pytest.raises(ValueError, match="--losses must be a comma-separated subset of kpt,seg,motion,world3d"):
        ObjectiveConfig(losses=losses)
