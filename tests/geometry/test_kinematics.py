"""geometry.kinematics.forward_kinematics against 4x4 transforms chained joint by joint."""

import numpy as np
import pytest
import roma
import torch

from selfmocap.geometry.kinematics import forward_kinematics

#: Two trees: 0 -> 1 -> 2, 0 -> 3, and a second root 4 -> 5.
PARENTS = (-1, 0, 1, 0, -1, 4)


def _reference(parents, rotations, offsets):
    t, j = rotations.shape[:2]
    offsets = np.broadcast_to(offsets, (t, j, 3))
    rot, pos = np.zeros((t, j, 3, 3)), np.zeros((t, j, 3))
    for f in range(t):
        world = {}
        for c, p in enumerate(parents):
            local = np.eye(4)
            local[:3, :3], local[:3, 3] = rotations[f, c], offsets[f, c]
            world[c] = local if p < 0 else world[p] @ local
            rot[f, c], pos[f, c] = world[c][:3, :3], world[c][:3, 3]
    return rot, pos


@pytest.mark.parametrize("per_frame", [False, True])
@pytest.mark.parametrize("frames", [1, 4])
def test_forward_kinematics_matches_chained_transforms(per_frame, frames):
    rng = np.random.default_rng(frames)
    rotations = roma.random_rotmat((frames, len(PARENTS)), dtype=torch.float64).numpy()
    offsets = rng.normal(size=(frames, len(PARENTS), 3) if per_frame else (len(PARENTS), 3))
    rot, pos = forward_kinematics(PARENTS, rotations, offsets)
    ref_rot, ref_pos = _reference(PARENTS, rotations, offsets)
    np.testing.assert_allclose(rot, ref_rot, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pos, ref_pos, rtol=0, atol=1e-12)


def test_rest_pose_sums_offsets():
    offsets = np.arange(len(PARENTS) * 3, dtype=np.float64).reshape(-1, 3)
    rot, pos = forward_kinematics(PARENTS, np.tile(np.eye(3), (2, len(PARENTS), 1, 1)), offsets)
    assert np.array_equal(pos[1, 2], offsets[0] + offsets[1] + offsets[2])
    assert np.array_equal(pos[0, 5], offsets[4] + offsets[5]) and np.array_equal(rot, np.tile(np.eye(3), (2, 6, 1, 1)))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="offsets"):
        forward_kinematics(PARENTS, np.zeros((2, 6, 3, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="parents"):
        forward_kinematics(PARENTS[:5], np.zeros((2, 6, 3, 3)), np.zeros((6, 3)))
