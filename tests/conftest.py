"""Shared fixtures: the Anny body model is loaded once per test session; a tiny shift clip and a
tiny random network, so adaptation and bench tests need no shipped checkpoint.

Two tiers: ``pytest -m "not slow"`` is the fast one; ``pytest`` (what CI runs) runs everything.
A test is slow when it is marked ``@pytest.mark.slow`` or ``@pytest.mark.anny``, or when it uses
one of the fixtures of :data:`SLOW_FIXTURES` (directly or through another fixture): they build
the Anny body model, render synthetic clips with it, or run a whole capture or training.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

#: Fixtures that build Anny, render synthetic clips or run a pipeline (seconds to minutes each).
SLOW_FIXTURES = frozenset({
    "body", "body64", "anny_body",  # the Anny body model
    "tiny_clips", "tiny_train_clips", "test_split", "shift_split",  # synthetic clips rendered with Anny
    "captured",  # a whole capture of a rendered video (tests/capture, tests/blender)
    "smpl_run", "smplx_run",  # synth, pretrain, predict and adapt with the tiny SMPL / SMPL-X
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that use a slow fixture, or need Anny, as ``slow``."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("anny"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def body():
    from selfmocap.body import load_body_model

    return load_body_model()


@pytest.fixture(scope="session")
def body64():
    from selfmocap.body import load_body_model

    return load_body_model(dtype=torch.float64)


@pytest.fixture(scope="session")
def tiny_smpl_path(tmp_path_factory):
    """A tiny SMPL-format model file (``tests/tiny_smpl.py``): SMPL itself cannot ship."""
    from tiny_smpl import write_tiny_smpl

    return write_tiny_smpl(tmp_path_factory.mktemp("smpl") / "SMPL_NEUTRAL.npz")


@pytest.fixture(scope="session")
def smpl_body(tiny_smpl_path):
    from selfmocap.body import load_body_model

    return load_body_model("smpl", tiny_smpl_path)


@pytest.fixture(scope="session")
def tiny_smplx_path(tmp_path_factory):
    """A tiny SMPL-X-format model file (``tests/tiny_smpl.py``, 55 joints): SMPL-X cannot ship."""
    from tiny_smpl import write_tiny_smpl

    return write_tiny_smpl(tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz", smplx=True)


@pytest.fixture(scope="session")
def smplx_body(tiny_smplx_path):
    from selfmocap.body import load_body_model

    return load_body_model("smplx", tiny_smplx_path)


@pytest.fixture(scope="session")
def tiny_clips(tmp_path_factory):
    from selfmocap.synth.config import SynthConfig
    from selfmocap.synth.run import generate

    out = tmp_path_factory.mktemp("adapt") / "shift"
    generate(SynthConfig(out=out, split="shift", clips=2, frames=5, seed=1, size=96))
    return out


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    from selfmocap.data.config import FrameConfig
    from selfmocap.models.network import MocapNet
    from selfmocap.models.config import NetworkConfig
    from selfmocap.models.pretrained import ModelCard, export_pretrained

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
    from selfmocap.synth.config import SynthConfig
    from selfmocap.synth.run import generate

    out = tmp_path_factory.mktemp("replay") / "train"
    generate(SynthConfig(out=out, split="train", clips=2, frames=3, seed=2, size=96))
    return out


@pytest.fixture(scope="session")
def fake_data(tmp_path_factory, body):
    """Two tiny training clips and one validation clip (``tests/fake_clips.py``)."""
    from fake_clips import write_fake_clips

    root = tmp_path_factory.mktemp("fake")
    write_fake_clips(root / "train", body, clips=2, frames=4, seed=0)
    write_fake_clips(root / "val", body, clips=1, frames=4, seed=1)
    return root
