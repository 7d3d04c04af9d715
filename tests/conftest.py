"""Shared fixtures: the Anny body model is loaded once per test session."""

from __future__ import annotations

import pytest
import torch


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
