"""Rotation helpers roma lacks, each written once: per-element slerp, sign-continuous quaternion
sequences and the swing between two directions. Quaternions are roma's, XYZW."""

from __future__ import annotations

import numpy as np
import roma
import torch


def slerp(q0: torch.Tensor, q1: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Slerp of unit quaternions (..., 4) with one weight per element (...,), along the shortest
    arc: 0 gives ``q0``, 1 gives ``q1`` (up to sign). ``roma.unitquat_slerp`` takes one set of
    steps for every pair instead (a (steps, ...) grid)."""
    # quat_product(conj(q0), q1) has real part q0 . q1, so shortest_arc flips it exactly when q0 . q1 <= 0
    delta = roma.unitquat_to_rotvec(roma.quat_product(roma.quat_conjugation(q0), q1), shortest_arc=True)
    return roma.quat_product(q0, roma.rotvec_to_unitquat(delta * weight[..., None]))


def continuous_quaternions(q: torch.Tensor) -> torch.Tensor:
    """(T, ..., 4) unit quaternions with signs flipped so that consecutive frames have
    ``q_t . q_{t-1} >= 0`` (same rotations; interpolating or filtering along time takes the short way)."""
    q = q.clone()
    for t in range(1, q.shape[0]):
        flip = (q[t] * q[t - 1]).sum(-1, keepdim=True) < 0
        q[t] = torch.where(flip, -q[t], q[t])
    return q


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking direction ``a`` onto direction ``b``: (..., 3) x2 -> (..., 3, 3).

    Opposite directions get a half turn about an axis perpendicular to ``a``.
    """
    a, b = np.broadcast_arrays(_unit(a), _unit(b))
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1, keepdims=True)
    cos = (a * b).sum(-1, keepdims=True)
    # any perpendicular for the opposite case: a x (the axis least aligned with a)
    helper = np.eye(3)[np.abs(a).argmin(-1)]
    perp = _unit(np.cross(a, helper))
    direction = np.where(sin > 1e-9, axis / np.maximum(sin, 1e-12), perp)
    rotvec = direction * np.arctan2(sin, cos)
    return roma.rotvec_to_rotmat(torch.from_numpy(np.ascontiguousarray(rotvec))).numpy()
