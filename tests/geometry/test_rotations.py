"""geometry.rotations against slow, obvious references: the textbook slerp formula, a sign loop,
Rodrigues' formula."""

import math

import numpy as np
import pytest
import roma
import torch

from selfmocap.geometry.rotations import continuous_quaternions, slerp, swing


def _quats(shape):
    return roma.random_unitquat(shape, dtype=torch.float64) if shape else roma.random_unitquat(1, dtype=torch.float64)[0]


def _slerp_reference(q0, q1, w):
    """The textbook formula on one pair, in Python floats: q1 flipped onto q0's hemisphere."""
    q0, q1 = [float(v) for v in q0], [float(v) for v in q1]
    dot = sum(a * b for a, b in zip(q0, q1))
    if dot < 0:
        q1, dot = [-v for v in q1], -dot
    omega = math.acos(min(dot, 1.0))
    if omega < 1e-12:
        return torch.tensor(q0, dtype=torch.float64)
    a, b = math.sin((1 - w) * omega) / math.sin(omega), math.sin(w * omega) / math.sin(omega)
    return torch.tensor([a * x + b * y for x, y in zip(q0, q1)], dtype=torch.float64)


@pytest.mark.parametrize("shape", [(), (1,), (5, 6)])
def test_slerp_matches_the_textbook_formula(shape):
    torch.manual_seed(0)
    q0, q1 = _quats(shape), _quats(shape)
    w = torch.rand(shape, dtype=torch.float64)
    out = slerp(q0, q1, w)
    assert out.shape == (*shape, 4)
    flat = [_slerp_reference(a, b, float(c)) for a, b, c in zip(q0.reshape(-1, 4), q1.reshape(-1, 4), w.reshape(-1))]
    ref = torch.stack(flat).reshape(*shape, 4)
    torch.testing.assert_close(roma.unitquat_to_rotmat(out), roma.unitquat_to_rotmat(ref), rtol=0, atol=1e-12)


def test_slerp_endpoints_and_per_element_weights():
    torch.manual_seed(1)
    q0, q1 = _quats((4,)), _quats((4,))
    q1[0] = -q1[0]  # the other sign of the same rotation interpolates the same way
    w = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    rot = roma.unitquat_to_rotmat(slerp(q0, q1, w))
    torch.testing.assert_close(rot[:2], roma.unitquat_to_rotmat(q1[:2]), rtol=0, atol=1e-12)
    torch.testing.assert_close(rot[2:], roma.unitquat_to_rotmat(q0[2:]), rtol=0, atol=1e-12)


def test_slerp_gradcheck():
    torch.manual_seed(2)
    q0, q1 = _quats((3,)), _quats((3,))
    w = torch.rand(3, dtype=torch.float64, requires_grad=True)
    q0.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, t: slerp(a, q1, t), (q0, w))


def _continuous_reference(q):
    out = [list(map(float, q[0]))]
    for t in range(1, len(q)):
        row = list(map(float, q[t]))
        out.append([-v for v in row] if sum(a * b for a, b in zip(row, out[-1])) < 0 else row)
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize("shape", [(1,), (9,), (9, 5)])
def test_continuous_quaternions_matches_a_sign_loop(shape):
    torch.manual_seed(3)
    q = _quats(shape)
    out = continuous_quaternions(q)
    assert out.shape == q.shape
    columns = out.reshape(shape[0], -1, 4)
    for j, column in enumerate(q.reshape(shape[0], -1, 4).unbind(1)):
        assert torch.equal(columns[:, j], _continuous_reference(column))
    assert ((out[1:] * out[:-1]).sum(-1) >= 0).all()
    torch.testing.assert_close(roma.unitquat_to_rotmat(out), roma.unitquat_to_rotmat(q), rtol=0, atol=1e-12)


def _rodrigues(a, b):
    """Rotation about a x b by the angle between a and b, from Rodrigues' formula."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis = np.cross(a, b)
    sin, cos = np.linalg.norm(axis), float(np.dot(a, b))
    k = axis / sin
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + sin * kx + (1 - cos) * kx @ kx


@pytest.mark.parametrize("shape", [(), (1,), (5, 6)])
def test_swing_matches_rodrigues(shape):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(*shape, 3)), 3.0 * rng.normal(size=(*shape, 3))
    out = swing(a, b)
    assert out.shape == (*shape, 3, 3)
    ref = np.stack([_rodrigues(x, y) for x, y in zip(a.reshape(-1, 3), b.reshape(-1, 3))]).reshape(*shape, 3, 3)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)
    moved = np.einsum("...ij,...j->...i", out, a / np.linalg.norm(a, axis=-1, keepdims=True))
    np.testing.assert_allclose(moved, b / np.linalg.norm(b, axis=-1, keepdims=True), rtol=0, atol=1e-12)


def test_swing_corner_cases():
    a = np.array([0.0, 2.0, 0.0])
    np.testing.assert_allclose(swing(a, a), np.eye(3), atol=1e-15)  # aligned: no turn
    half = swing(a, -a)  # opposite: a half turn about an axis perpendicular to a
    np.testing.assert_allclose(half @ a, -a, atol=1e-12)
    np.testing.assert_allclose(np.trace(half), -1.0, atol=1e-12)
    many = swing(a, np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 5.0]]))  # broadcasting one direction
    np.testing.assert_allclose(many @ (a / 2), [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)
