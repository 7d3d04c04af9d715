"""The world3d term of the adaptation objective: camera axes for the scale-only alignment."""

from __future__ import annotations

import pytest
import roma
import torch

from selfmocap.adapt.objective import world3d_term
from selfmocap.geometry.camera import Camera, to_camera_space


def _camera(n: int) -> Camera:
    g = torch.Generator().manual_seed(0)
    rotation = roma.rotvec_to_rotmat(torch.randn(n, 3, generator=g, dtype=torch.float64) * 0.3)
    return Camera(focal=torch.full((n,), 500.0, dtype=torch.float64), rotation=rotation,
                  trans=torch.tensor([[0.1, -0.2]] * n, dtype=torch.float64), depth=torch.full((n,), 4.0, dtype=torch.float64),
                  principal=torch.zeros(n, 2, dtype=torch.float64))


def test_scale_alignment_compares_in_camera_axes():
    g = torch.Generator().manual_seed(1)
    keypoints = torch.randn(3, 23, 3, generator=g, dtype=torch.float64) * 0.4
    camera = _camera(3)
    seen = 1.2 * to_camera_space(keypoints, camera) - 0.5  # what a camera-aligned 3D estimate gives
    world = torch.cat([seen, torch.ones(3, 23, 1, dtype=torch.float64)], -1)
    detected = torch.ones(3, dtype=torch.float64)
    assert world3d_term(keypoints, camera, world, detected, "scale").item() == pytest.approx(0.0, abs=1e-18)
    assert world3d_term(keypoints, camera, world, detected, "similarity").item() == pytest.approx(0.0, abs=1e-18)
    turned = world.clone()
    turned[..., :3] = seen @ roma.euler_to_rotmat("y", [0.4], dtype=torch.float64).transpose(-1, -2)
    assert world3d_term(keypoints, camera, turned, detected, "scale").item() > 1e-4
    assert world3d_term(keypoints, camera, turned, detected, "similarity").item() == pytest.approx(0.0, abs=1e-18)
