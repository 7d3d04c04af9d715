"""Small shared builders for the loss tests."""

from __future__ import annotations

import torch

from selfmocap.geometry.camera import Camera, euler_to_rotmat


def random_camera(b: int, dtype=torch.float64, seed: int = 0, size: float = 64.0) -> Camera:
    """B cameras looking at a body-sized object 4-5 m away, roughly filling a size x size image."""
    g = torch.Generator().manual_seed(seed)
    euler = (torch.rand(b, 3, generator=g, dtype=dtype) - 0.5) * 1.0
    return Camera(
        focal=size * (2.0 + torch.rand(b, generator=g, dtype=dtype)),
        rotation=euler_to_rotmat(euler),
        trans=(torch.rand(b, 2, generator=g, dtype=dtype) - 0.5) * 0.2,
        depth=4 + torch.rand(b, generator=g, dtype=dtype),
        principal=torch.full((b, 2), size / 2, dtype=dtype),
    )


def identity_camera(b: int, focal: float, depth: float, principal=(32.0, 32.0), dtype=torch.float64) -> Camera:
    return Camera(
        focal=torch.full((b,), focal, dtype=dtype),
        rotation=torch.eye(3, dtype=dtype).expand(b, 3, 3).clone(),
        trans=torch.zeros(b, 2, dtype=dtype),
        depth=torch.full((b,), depth, dtype=dtype),
        principal=torch.tensor(principal, dtype=dtype).expand(b, 2).clone(),
    )
