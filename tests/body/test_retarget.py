"""Poses on Anny's bones carried to SMPL's joints by name (and back, for the joint limits)."""

from __future__ import annotations

import numpy as np
import pytest
import roma
import torch

from selfmocap.body.names import JOINT_NAMES, SMPL_JOINT_NAMES
from selfmocap.body.retarget import (
    ANNY_REST_JOINTS,
    ANNY_SKELETON,
    Retargeting,
    anny_retargeting,
    motion_pose_for_body,
    pose_limit_violation,
)
from selfmocap.synth.motion import SHIFT_FAMILIES, TRAIN_FAMILIES, generate_motion

LIMBS = [("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
         ("right_elbow", "right_wrist"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
         ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("neck", "head"), ("left_collar", "left_shoulder")]


def test_anny_rest_table_matches_the_model(body):
    rest = body(torch.zeros(1, 19, 3), body.default_shape[None]).joints[0].numpy()
    assert np.allclose(rest, ANNY_REST_JOINTS, atol=2e-3)


def bone_angles(anny_joints: torch.Tensor, smpl_joints: torch.Tensor) -> np.ndarray:
    """(T, bones) angle in degrees between the same named bone of the two skeletons."""
    angles = []
    for a, b in LIMBS:
        da = anny_joints[:, JOINT_NAMES.index(b)] - anny_joints[:, JOINT_NAMES.index(a)]
        ds = smpl_joints[:, SMPL_JOINT_NAMES.index(b)] - smpl_joints[:, SMPL_JOINT_NAMES.index(a)]
        cos = torch.nn.functional.cosine_similarity(da.double(), ds.double(), dim=-1).clamp(-1, 1)
        angles.append(torch.rad2deg(torch.acos(cos)).numpy())
    return np.stack(angles, axis=1)


@pytest.mark.parametrize("family", TRAIN_FAMILIES[:2] + SHIFT_FAMILIES[-1:])
def test_retargeted_motions_point_the_limbs_the_same_way(body, smpl_body, family):
    """The posed SMPL limbs point where Anny's do, although the rests differ (A-pose vs T-pose)."""
    motion = generate_motion(family, np.random.default_rng(3), num_frames=8)
    anny = body(torch.from_numpy(motion.pose), body.default_shape[None]).joints
    pose = motion_pose_for_body(motion.pose, smpl_body)
    assert pose.shape == (8, 23, 3) and pose.dtype == np.float32
    smpl = smpl_body(torch.from_numpy(pose), smpl_body.default_shape[None]).joints
    assert bone_angles(anny, smpl).max() < 2.0
    # without the rest correction the arms would be 48 degrees off (SMPL's T-pose vs Anny's A-pose)
    same_name = [JOINT_NAMES.index(n) - 1 if n in JOINT_NAMES else 0 for n in SMPL_JOINT_NAMES[1:]]
    naive = smpl_body(torch.from_numpy(motion.pose[:, same_name]), smpl_body.default_shape[None]).joints
    assert bone_angles(anny, naive)[:, 0].max() > 30.0


def test_round_trip_identity_and_unmapped_joints(smpl_body):
    retarget = anny_retargeting(smpl_body)
    assert anny_retargeting(smpl_body) is retarget  # cached per body
    names = SMPL_JOINT_NAMES[1:]
    unmapped = {n for n, s in zip(names, retarget.source) if s < 0}
    assert unmapped == {"left_foot", "right_foot", "left_hand", "right_hand"}
    rot = roma.rotvec_to_rotmat(torch.randn(4, 19, 3, dtype=torch.float64) * 0.5)
    target = retarget.to_target(rot)
    assert target.shape == (4, 23, 3, 3)
    assert torch.allclose(target[:, [names.index(n) for n in unmapped]], torch.eye(3, dtype=torch.float64).expand(4, 4, 3, 3))
    assert torch.allclose(retarget.to_source(target), rot, atol=1e-12)
    # Anny to Anny is the identity
    same = Retargeting.between(ANNY_SKELETON, ANNY_SKELETON)
    assert torch.allclose(same.to_target(rot), rot, atol=1e-12)


def test_joint_limits_judge_smpl_poses(smpl_body):
    motion = generate_motion("walk", np.random.default_rng(0), num_frames=6)
    pose = roma.rotvec_to_rotmat(torch.from_numpy(motion_pose_for_body(motion.pose, smpl_body)))
    assert float(pose_limit_violation(smpl_body, pose).max()) < 1e-8
    # SMPL's own rest maps to Anny's bones with the rest differences of the two skeletons (here the
    # tiny model's spine); a knee flexion adds nothing, a hyperextended knee adds a penalty with a gradient
    knee = SMPL_JOINT_NAMES.index("left_knee") - 1
    rest = float(pose_limit_violation(smpl_body, roma.rotvec_to_rotmat(torch.zeros(1, 23, 3))))
    flexed = torch.zeros(1, 23, 3)
    flexed[0, knee, 0] = 1.0  # SMPL +x about the knee moves the foot backwards: flexion
    assert float(pose_limit_violation(smpl_body, roma.rotvec_to_rotmat(flexed))) <= rest + 1e-6
    bad = (-flexed).requires_grad_()
    penalty = pose_limit_violation(smpl_body, roma.rotvec_to_rotmat(bad))
    penalty.sum().backward()
    assert float(penalty.detach()) > rest + 0.5 and float(bad.grad[0, knee].abs().sum()) > 0
