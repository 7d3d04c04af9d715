"""Joint limits: the record, Euler conversions against a hand-written reference, clamping, the
violation penalty and its gradient, and the anatomical meaning of the limits on the real body."""

from __future__ import annotations

import math

import numpy as np
import pytest
import roma
import torch

from selfmocap.body.limits import (
    ANNY_JOINT_LIMITS,
    LEFT_LIMITS_DEG,
    JointLimits,
    build_anny_limits,
    clamp_pose,
    euler_to_pose,
    limit_violation,
    pose_to_euler,
)
from selfmocap.body.names import ANNY_ARTICULATED_BONES, JOINT_NAMES

L = ANNY_JOINT_LIMITS
BONE = {name: i for i, name in enumerate(ANNY_ARTICULATED_BONES)}


def _inside(rng: np.random.Generator, shape: tuple[int, ...] = ()) -> np.ndarray:
    """Random Euler angles strictly inside the limits, (*shape, 19, 3)."""
    u = rng.uniform(0.02, 0.98, size=(*shape, 19, 3))
    return L.lower + u * (L.upper - L.lower)


def _reference_rotmat(euler: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Slow, obvious reference: F Rx(X) Ry(Y) Rz(Z) F^T with hand-written elementary rotations."""

    def rx(a):
        return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])

    def ry(a):
        return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])

    def rz(a):
        return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])

    out = np.empty((len(euler), 3, 3))
    for j, ((x, y, z), f) in enumerate(zip(euler, frames, strict=True)):
        out[j] = f @ rx(x) @ ry(y) @ rz(z) @ f.T
    return out


def test_record_shapes_and_invariants():
    assert L.lower.shape == L.upper.shape == (19, 3)
    assert L.frames.shape == (19, 3, 3)
    assert np.all(L.upper >= L.lower)
    assert np.all(np.abs(L.lower[:, 1]) < math.pi / 2) and np.all(np.abs(L.upper[:, 1]) < math.pi / 2)
    np.testing.assert_allclose(
        L.frames @ L.frames.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (19, 3, 3)), atol=1e-12
    )
    np.testing.assert_allclose(np.linalg.det(L.frames), 1.0)
    with pytest.raises(ValueError):
        L.lower[0, 0] = 0.0  # read-only


def test_right_side_mirrors_left():
    mirror = np.array([1.0, -1.0, -1.0])
    for bone in ANNY_ARTICULATED_BONES:
        if bone.endswith(".L"):
            left, right = BONE[bone], BONE[bone[:-1] + "R"]
            lo, hi = L.lower[left] * mirror, L.upper[left] * mirror
            np.testing.assert_allclose(L.lower[right], np.minimum(lo, hi))
            np.testing.assert_allclose(L.upper[right], np.maximum(lo, hi))


def test_bad_tables_are_rejected():
    table = dict(LEFT_LIMITS_DEG)
    table["upperarm01"] = ((-170, 60), (-95, 80), (-135, 80))  # middle angle past 90 deg
    with pytest.raises(ValueError, match="middle"):
        build_anny_limits(table)
    with pytest.raises(ValueError):
        JointLimits(np.zeros((19, 3)), -np.ones((19, 3)), L.frames.copy())


def test_euler_to_pose_matches_reference():
    euler = _inside(np.random.default_rng(0))
    rot = roma.rotvec_to_rotmat(torch.from_numpy(euler_to_pose(euler))).numpy()
    np.testing.assert_allclose(rot, _reference_rotmat(euler, L.frames), atol=1e-10)


@pytest.mark.parametrize("shape", [(), (1,), (5, 6)])
def test_round_trip_and_batch_shapes(shape):
    euler = _inside(np.random.default_rng(1), shape)
    pose = euler_to_pose(euler)
    assert pose.shape == (*shape, 19, 3)
    np.testing.assert_allclose(pose_to_euler(pose), euler, atol=1e-9)
    assert limit_violation(pose).shape == shape
    assert clamp_pose(pose).shape == pose.shape


def test_numpy_and_torch_agree_and_keep_their_types():
    pose = np.random.default_rng(2).normal(0, 1.0, (4, 19, 3))
    v_np, c_np = limit_violation(pose), clamp_pose(pose)
    v_t, c_t = limit_violation(torch.from_numpy(pose)), clamp_pose(torch.from_numpy(pose))
    assert isinstance(v_np, np.ndarray) and isinstance(v_t, torch.Tensor)
    np.testing.assert_allclose(v_np, v_t.numpy())
    np.testing.assert_allclose(c_np, c_t.numpy())
    assert clamp_pose(pose.astype(np.float32)).dtype == np.float32


def test_wrong_shape_raises():
    with pytest.raises(ValueError, match="19, 3"):
        limit_violation(torch.zeros(2, 18, 3))
    with pytest.raises(ValueError, match="19, 3"):
        clamp_pose(np.zeros(19))


def test_violation_zero_inside_positive_outside():
    rng = np.random.default_rng(3)
    inside = euler_to_pose(_inside(rng, (8,)))
    assert np.all(limit_violation(inside) < 1e-20)
    assert limit_violation(np.zeros((19, 3))) == 0.0  # the rest pose is allowed
    euler = _inside(rng)
    euler[BONE["lowerleg01.L"], 0] = -math.radians(20)  # knee bent 20 deg the wrong way
    assert limit_violation(euler_to_pose(euler)) == pytest.approx(math.radians(20) ** 2, rel=1e-6)


def test_clamp_is_a_projection():
    pose = np.random.default_rng(4).normal(0, 1.2, (64, 19, 3))
    clamped = clamp_pose(pose)
    assert np.all(limit_violation(clamped) < 1e-20)
    np.testing.assert_allclose(clamp_pose(clamped), clamped, atol=1e-9)  # idempotent
    inside = euler_to_pose(_inside(np.random.default_rng(5), (16,)))
    np.testing.assert_allclose(clamp_pose(inside), inside, atol=1e-9)  # identity inside
    outside = limit_violation(pose) > 0
    assert outside.any() and np.all(np.abs(clamped - pose).max(axis=(1, 2))[outside] > 0)


def test_violation_gradient():
    euler = _inside(np.random.default_rng(6))
    euler[BONE["lowerleg01.R"], 0] = -0.3
    euler[BONE["upperarm01.L"], 2] = L.upper[BONE["upperarm01.L"], 2] + 0.2
    pose = torch.from_numpy(euler_to_pose(euler)).requires_grad_(True)
    limit_violation(pose).backward()
    grad = pose.grad.abs().sum(-1)
    assert grad[BONE["lowerleg01.R"]] > 0 and grad[BONE["upperarm01.L"]] > 0
    others = [i for i in range(19) if i not in (BONE["lowerleg01.R"], BONE["upperarm01.L"])]
    assert torch.all(grad[others] == 0)
    # gradient of the penalty pushes back towards the limits: a small step down decreases it
    with torch.no_grad():
        assert limit_violation(pose - 1e-2 * pose.grad) < limit_violation(pose)
    small = pose.detach()[None, [BONE["lowerleg01.R"]]].clone()

    def penalty(x: torch.Tensor) -> torch.Tensor:
        full = pose.detach().clone()
        full[BONE["lowerleg01.R"]] = x[0, 0]
        return limit_violation(full)

    assert torch.autograd.gradcheck(penalty, (small.requires_grad_(True),))


def test_limits_mean_what_they_say(body64):
    """At the limits, the real body bends the anatomical way (joint positions in the body frame:
    x left, y down, z back)."""
    names = {n: i for i, n in enumerate(JOINT_NAMES)}

    def joints(settings: dict[tuple[str, int], float]) -> np.ndarray:
        euler = np.zeros((1, 19, 3))
        euler[0, BONE["upperarm01.L"], 2] = math.radians(42)  # the arm hangs down
        for (bone, axis), value in settings.items():
            euler[0, BONE[bone], axis] = value
        with torch.no_grad():
            return (
                body64(torch.from_numpy(euler_to_pose(euler)), body64.default_shape[None]).joints[0].numpy()
            )

    k, h = BONE["lowerleg01.L"], BONE["upperleg01.L"]
    bent = joints({("lowerleg01.L", 0): L.upper[k, 0]})
    assert bent[names["left_ankle"], 2] > bent[names["left_knee"], 2] + 0.1  # the knee flexes backwards...
    assert bent[names["left_ankle"], 1] < bent[names["left_knee"], 1]  # ...past 90 deg
    flexed = joints({("upperleg01.L", 0): L.lower[h, 0]})
    assert flexed[names["left_knee"], 2] < -0.3  # hip flexes forwards
    assert flexed[names["left_knee"], 1] < 0.0  # thigh above horizontal at 120 deg
    e = BONE["lowerarm01.L"]
    rest = joints({})
    elbow = joints({("lowerarm01.L", 0): L.lower[e, 0]})
    assert elbow[names["left_wrist"], 1] < rest[names["left_wrist"], 1] - 0.2  # elbow flexes, hand goes up
    straight = joints({("lowerarm01.L", 0): L.upper[e, 0]})
    upper = straight[names["left_elbow"]] - straight[names["left_shoulder"]]
    fore = straight[names["left_wrist"]] - straight[names["left_elbow"]]
    cos = upper @ fore / np.linalg.norm(upper) / np.linalg.norm(fore)
    assert cos > math.cos(math.radians(10))  # the elbow extends to straight and no further
    s = BONE["upperarm01.L"]
    overhead = joints({("upperarm01.L", 0): L.lower[s, 0]})
    assert overhead[names["left_elbow"], 1] < overhead[names["left_shoulder"], 1] - 0.2  # arm flexes overhead
