"""Shared fixtures for the render tests; ``anny`` marks tests that need the built Anny model."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "anny: needs the Anny body model built in $ANNY_CACHE_DIR")


@pytest.fixture(scope="session")
def anny_body():
    """The Anny body model; skips when Anny is not installed or not built yet (building takes
    minutes, which a unit test must not do)."""
    pytest.importorskip("anny")
    from selfmocap.body.anny_body import anny_cache_dir

    if not os.path.isdir(anny_cache_dir()):
        pytest.skip(f"Anny is not built in {anny_cache_dir()}")
    from selfmocap.body import load_body_model

    return load_body_model()


@pytest.fixture(scope="session")
def anny_mesh(anny_body) -> tuple[np.ndarray, np.ndarray]:
    """Anny in the rest pose 3 m in front of the camera: (V, 3) float32 vertices, (F, 3) faces."""
    with torch.no_grad():
        out = anny_body(torch.zeros(1, anny_body.num_pose_joints, 3), torch.full((1, 6), 0.5))
    vertices = out.vertices[0].numpy().astype(np.float32)
    vertices[:, 2] += 3.0
    return vertices, anny_body.faces.numpy()
