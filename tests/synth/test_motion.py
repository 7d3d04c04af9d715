"""Procedural motion: records, determinism, limits, smoothness, fps-awareness, gait semantics and
the leg forward kinematics that places the root, checked against the real body model."""

from __future__ import annotations

import numpy as np
import pytest
import roma
import torch

from selfmocap.body.limits import clamp_pose, limit_violation, pose_to_euler
from selfmocap.body.names import ANNY_ARTICULATED_BONES, KEYPOINT_NAMES
from selfmocap.synth.motion import (
    SHIFT_FAMILIES,
    CORE_FAMILIES,
    TRAIN_FAMILIES,
    Motion,
    MotionSource,
    ProceduralMotion,
    _feet,
    fit_root_to_body,
    generate_motion,
)

ALL = TRAIN_FAMILIES + SHIFT_FAMILIES
BONE = {name: i for i, name in enumerate(ANNY_ARTICULATED_BONES)}
#: Bounds on bone angular speed (rad/s) and acceleration (rad/s^2) at 30 fps. Shift families hold
#: kicks and jumps: a kicking knee snaps at over 1000 deg/s.
SPEED_BOUND = {"train": 10.0, "shift": 30.0}
ACCEL_BOUND = {"train": 400.0, "shift": 1500.0}


def _angular_velocity(rotvec: np.ndarray, fps: float) -> np.ndarray:
    """(T-1, ..., 3) angular velocity (rad/s) between consecutive rotations."""
    rot = roma.rotvec_to_rotmat(torch.from_numpy(rotvec).double())
    return roma.rotmat_to_rotvec(rot[1:] @ rot[:-1].transpose(-1, -2)).numpy() * fps


def _world_keypoints(body, motion: Motion) -> np.ndarray:
    with torch.no_grad():
        out = body(torch.from_numpy(motion.pose), body.default_shape[None])
    rot = roma.rotvec_to_rotmat(torch.from_numpy(motion.root_orient)).numpy()
    return np.einsum("tij,tnj->tni", rot, out.keypoints.numpy()) + motion.root_trans[:, None]


@pytest.mark.parametrize("family", ALL)
def test_shapes_and_dtypes(family):
    m = generate_motion(family, np.random.default_rng(0))
    assert m.pose.shape == (30, 19, 3) and m.root_orient.shape == (30, 3) and m.root_trans.shape == (30, 3)
    assert m.pose.dtype == m.root_orient.dtype == m.root_trans.dtype == np.float32
    assert m.fps == 30.0 and m.family == family and m.num_frames == 30
    assert all(np.isfinite(a).all() for a in (m.pose, m.root_orient, m.root_trans))
    for num_frames, fps in ((1, 30.0), (7, 12.5), (45, 60.0)):
        m = generate_motion(family, np.random.default_rng(1), num_frames, fps)
        assert m.pose.shape == (num_frames, 19, 3) and m.fps == fps


@pytest.mark.parametrize("family", ALL)
def test_deterministic_for_a_seed(family):
    a, b = (generate_motion(family, np.random.default_rng(7), 20, 30.0) for _ in range(2))
    c = generate_motion(family, np.random.default_rng(8), 20, 30.0)
    for field in ("pose", "root_orient", "root_trans"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.pose, c.pose)


@pytest.mark.parametrize("family", ALL)
def test_within_limits(family):
    for seed in range(4):
        m = generate_motion(family, np.random.default_rng(seed), 45, 30.0)
        assert np.all(limit_violation(m.pose.astype(np.float64)) < 1e-10)
        np.testing.assert_allclose(clamp_pose(m.pose), m.pose, atol=1e-5)


@pytest.mark.parametrize("family", ALL)
def test_smooth(family):
    split = "train" if family in CORE_FAMILIES else "shift"  # the broad families move faster
    for seed in range(4):
        m = generate_motion(family, np.random.default_rng(seed), 60, 30.0)
        omega = _angular_velocity(m.pose, m.fps)  # (T-1, 19, 3)
        assert np.linalg.norm(omega, axis=-1).max() < SPEED_BOUND[split]
        assert np.linalg.norm(np.diff(omega, axis=0), axis=-1).max() * m.fps < ACCEL_BOUND[split]
        assert np.linalg.norm(_angular_velocity(m.root_orient, m.fps), axis=-1).max() < 5.0
        assert np.linalg.norm(np.diff(m.root_trans, axis=0), axis=-1).max() * m.fps < (4.0 if split == "train" else 7.0)  # m/s; running


@pytest.mark.parametrize("family", ALL)
def test_fps_aware_and_extendable(family):
    """Motions are functions of time: 60 fps samples the same curve twice as densely, and a longer
    clip extends a shorter one."""
    at30 = generate_motion(family, np.random.default_rng(3), 30, 30.0)
    at60 = generate_motion(family, np.random.default_rng(3), 60, 60.0)
    longer = generate_motion(family, np.random.default_rng(3), 45, 30.0)
    np.testing.assert_allclose(at60.pose[::2], at30.pose, atol=1e-6)
    np.testing.assert_allclose(at60.root_orient[::2], at30.root_orient, atol=1e-6)
    np.testing.assert_allclose(at60.root_trans[::2], at30.root_trans, atol=0.02)  # integrated per frame
    np.testing.assert_allclose(longer.pose[:30], at30.pose, atol=1e-6)
    np.testing.assert_allclose(longer.root_trans[:30], at30.root_trans, atol=1e-6)


def test_walk_goes_forward_and_swings_arms_against_legs():
    for seed in range(5):
        m = generate_motion("walk", np.random.default_rng(seed), 60, 30.0)
        assert m.root_trans[10, 2] < -0.2  # forward is -z in the body frame
        assert np.linalg.norm(m.root_trans[-1, [0, 2]]) > 0.8
        euler = pose_to_euler(m.pose)
        for side in "LR":
            hip = euler[:, BONE[f"upperleg01.{side}"], 0]
            arm = euler[:, BONE[f"upperarm01.{side}"], 0]
            assert np.corrcoef(hip, arm)[0, 1] < -0.8
        knee = euler[:, [BONE["lowerleg01.L"], BONE["lowerleg01.R"]], 0]
        assert knee.max() > np.radians(45)  # the swing leg bends its knee


def test_heading_is_about_the_vertical_axis():
    m = generate_motion("turn", np.random.default_rng(2), 90, 30.0)
    rot = roma.rotvec_to_rotmat(torch.from_numpy(m.root_orient)).numpy()
    up = rot[:, :, 1]  # image of the body's down axis
    assert np.all(up[:, 1] > np.cos(np.radians(10)))  # turning keeps the body upright
    forward = -rot[:, :, 2]
    assert np.allclose(rot[0], np.eye(3), atol=0.2)  # the clip starts facing its own -z
    assert np.abs(np.arctan2(-forward[:, 0], -forward[:, 2])).max() > np.radians(20)


def test_sources():
    assert not set(TRAIN_FAMILIES) & set(SHIFT_FAMILIES)
    source: MotionSource = ProceduralMotion(SHIFT_FAMILIES)
    rng = np.random.default_rng(0)
    families = {source.sample(rng, 5, 30.0).family for _ in range(40)}
    assert families <= set(SHIFT_FAMILIES) and len(families) >= 4
    with pytest.raises(ValueError, match="unknown"):
        ProceduralMotion(("walk", "moonwalk"))
    with pytest.raises(ValueError, match="unknown"):
        generate_motion("moonwalk", rng)
    with pytest.raises(ValueError):
        generate_motion("walk", rng, 0, 30.0)


def test_motion_record_validates():
    pose = np.zeros((4, 19, 3), np.float32)
    vec = np.zeros((4, 3), np.float32)
    Motion(pose, vec, vec, 30.0, "x")
    with pytest.raises(ValueError):
        Motion(pose[:, :18], vec, vec, 30.0, "x")
    with pytest.raises(ValueError):
        Motion(pose, vec[:3], vec, 30.0, "x")
    with pytest.raises(ValueError):
        Motion(pose.astype(np.float64), vec, vec, 30.0, "x")
    with pytest.raises(ValueError):
        Motion(pose, vec, vec, 0.0, "x")


def test_leg_kinematics_match_the_body(body):
    """The root placement's small leg FK (neutral rest skeleton) against Anny's feet keypoints."""
    names = ["left_heel", "left_big_toe", "left_small_toe", "right_heel", "right_big_toe", "right_small_toe"]
    index = [KEYPOINT_NAMES.index(n) for n in names]
    for family in ("walk", "kick", "stretch"):
        m = generate_motion(family, np.random.default_rng(0), 30, 30.0)
        rot = roma.rotvec_to_rotmat(torch.from_numpy(m.root_orient).double()).numpy()
        fk = _feet(m.pose.astype(np.float64), rot)[:, :, 1:].reshape(30, 6, 3)
        truth = _world_keypoints(body, m)[:, index] - m.root_trans[:, None]
        assert np.abs(fk - truth).max() < 0.03


@pytest.mark.parametrize("family", ["walk", "turn", "bend", "idle", "reach", "stretch"])
def test_feet_stay_on_the_ground(body, family):
    m = generate_motion(family, np.random.default_rng(1), 30, 30.0)
    with torch.no_grad():
        ground = body(torch.zeros(1, 19, 3), body.default_shape[None]).keypoints[0, 15:, 1].max().item()
    lowest = _world_keypoints(body, m)[:, 15:, 1].max(axis=1)  # ankles and foot points; y is down
    assert np.abs(lowest - ground).max() < 0.03


def test_fit_root_to_body_scales_the_path():
    m = generate_motion("walk", np.random.default_rng(0), 10, 30.0)
    tall = fit_root_to_body(m, 1.2 * 0.851)
    np.testing.assert_allclose(tall.root_trans, 1.2 * m.root_trans, rtol=1e-6)
    np.testing.assert_array_equal(tall.pose, m.pose)
    assert tall.root_trans.dtype == np.float32
    with pytest.raises(ValueError):
        fit_root_to_body(m, 0.0)


def _root_drop(family: str, seed: int) -> float:
    return float(generate_motion(family, np.random.default_rng(seed), 90, 30.0).root_trans[:, 1].max())


def test_test_split_keeps_the_core_families():
    from selfmocap.synth.splits import SPEC

    assert SPEC["test"].families == CORE_FAMILIES
    assert set(CORE_FAMILIES) < set(SPEC["train"].families) == set(TRAIN_FAMILIES)


def test_low_families_bring_the_root_down():
    """Crouching and sitting lower the root by a good part of the leg (+y is down)."""
    for family in ("crouch", "sit"):
        assert max(_root_drop(family, s) for s in range(4)) > 0.25


def test_arms_reach_shoulder_height_forward_and_sideways():
    euler = np.concatenate([pose_to_euler(generate_motion("arms", np.random.default_rng(s), 90, 30.0).pose) for s in range(6)])
    flex = -np.degrees(euler[:, BONE["upperarm01.L"], 0])
    assert flex.max() > 70 and np.degrees(euler[:, BONE["upperarm01.L"], 2]).min() < -40  # 82 deg from hanging
