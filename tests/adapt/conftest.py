"""A tiny shift clip and a tiny random network, so adaptation tests need no shipped checkpoint."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from selfmocap.data.frames import FrameConfig
from selfmocap.models.network import MocapNet, NetworkConfig
from selfmocap.models.pretrained import ModelCard, export_pretrained
from selfmocap.synth.run import SynthConfig, generate


@pytest.fixture(scope="session")
def tiny_clips(tmp_path_factory):
    out = tmp_path_factory.mktemp("adapt") / "shift"
    generate(SynthConfig(out=out, split="shift", clips=2, frames=5, seed=1, size=96))
    return out


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    config = NetworkConfig(width=4, fc_factor=4)
    card = ModelCard(
        network=dataclasses.asdict(config), frames=dataclasses.asdict(FrameConfig()), recipe={}, data={}, metrics={},
        step=0, images_seen=0, versions={}, created="test",
    )
    return export_pretrained(MocapNet(config), card, tmp_path_factory.mktemp("ckpt") / "tiny.pt")


@pytest.fixture(scope="session")
def tiny_train_clips(tmp_path_factory):
    """Synthetic training clips for the replay term (another split and seed than ``tiny_clips``)."""
    out = tmp_path_factory.mktemp("replay") / "train"
    generate(SynthConfig(out=out, split="train", clips=2, frames=3, seed=2, size=96))
    return out
