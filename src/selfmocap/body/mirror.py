"""The mirror image of a body (``x -> -x``): its bone rotations, with left and right swapped by the
index maps of :mod:`selfmocap.body.names` (``BONE_FLIP``, ``pose_flip_index``)."""

from __future__ import annotations

import torch

from selfmocap.body.names import BONE_FLIP

#: The mirror ``diag(-1, 1, 1)``: x -> -x.
MIRROR_X = torch.diag(torch.tensor([-1.0, 1.0, 1.0]))


def flip_pose(pose: torch.Tensor, flip: tuple[int, ...] = BONE_FLIP) -> torch.Tensor:
    """(..., J, 3, 3) bone rotations of the mirrored body: ``M R M`` with left/right bones swapped
    (``flip``: :func:`~selfmocap.body.names.pose_flip_index` of the body model; Anny's by default)."""
    m = MIRROR_X.to(pose)
    return (m @ pose @ m)[..., list(flip), :, :]
