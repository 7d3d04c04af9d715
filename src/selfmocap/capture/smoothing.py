"""Temporal smoothing of captured motion, bounded by the 2D evidence (``docs/capture.md``).

Rotations (bone rotations and the camera rotation of Eq. 3) are smoothed as unit quaternions:
signs made continuous along time, a Gaussian filter per component, renormalised (for the small
angular spreads of neighbouring frames this is the chordal L2 mean of the rotations). Focal
length and the translation (Tx, Ty) get the same Gaussian filter.

The smoothed result may not move away from the 2D evidence: in every frame, the mean distance
between the projected keypoints and the confident input keypoints may grow by at most
``tolerance`` pixels. Where it would, that frame is blended back towards the unsmoothed one
(quaternion slerp, bisection on the blend weight) until it holds; frames without evidence take
the smoothed value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import roma
import torch
from scipy.ndimage import gaussian_filter1d

from selfmocap.geometry.camera import reprojection_error
from selfmocap.geometry.rotations import continuous_quaternions, slerp

SmoothingLevel = Literal["off", "light", "strong"]

#: Gaussian standard deviation (frames, at 30 fps; scaled with the frame rate) per level.
SIGMA_FRAMES: dict[str, float] = {"off": 0.0, "light": 1.0, "strong": 2.5}


@dataclass(frozen=True)
class MotionParams:
    """Per-frame body and camera parameters of T frames (rotations as matrices)."""

    pose: torch.Tensor  #: (T, J, 3, 3)
    rotation: torch.Tensor  #: (T, 3, 3) camera rotation R
    focal: torch.Tensor  #: (T,)
    trans: torch.Tensor  #: (T, 2)

    def __len__(self) -> int:
        return self.pose.shape[0]


def smooth_rotations(rotmat: torch.Tensor, sigma: float) -> torch.Tensor:
    """(T, ..., 3, 3) rotations -> the same, Gaussian-smoothed along time (``sigma`` frames)."""
    if sigma <= 0 or rotmat.shape[0] < 2:
        return rotmat.clone()
    q = continuous_quaternions(roma.rotmat_to_unitquat(rotmat.double()))
    smoothed = torch.from_numpy(gaussian_filter1d(q.numpy(), sigma, axis=0, mode="nearest"))
    smoothed = smoothed / smoothed.norm(dim=-1, keepdim=True)
    return roma.unitquat_to_rotmat(smoothed).to(rotmat.dtype)


def smooth_values(values: torch.Tensor, sigma: float) -> torch.Tensor:
    if sigma <= 0 or values.shape[0] < 2:
        return values.clone()
    return torch.from_numpy(gaussian_filter1d(values.double().numpy(), sigma, axis=0, mode="nearest")).to(values.dtype)


def smooth_params(params: MotionParams, sigma: float) -> MotionParams:
    """Gaussian smoothing of every parameter along time (``sigma`` in frames; 0: unchanged)."""
    return MotionParams(
        pose=smooth_rotations(params.pose, sigma),
        rotation=smooth_rotations(params.rotation, sigma),
        focal=smooth_values(params.focal, sigma),
        trans=smooth_values(params.trans, sigma),
    )


def blend_params(raw: MotionParams, smooth: MotionParams, weight: torch.Tensor) -> MotionParams:
    """Per-frame blend: ``weight`` (T,) 0 gives ``raw``, 1 gives ``smooth`` (slerp for rotations)."""

    def blend(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        qa, qb = roma.rotmat_to_unitquat(a.double()), roma.rotmat_to_unitquat(b.double())
        w = weight.double().reshape(-1, *([1] * (qa.ndim - 2)))
        return roma.unitquat_to_rotmat(slerp(qa, qb, w)).to(a.dtype)

    w = weight.to(raw.focal.dtype)
    return MotionParams(
        pose=blend(raw.pose, smooth.pose),
        rotation=blend(raw.rotation, smooth.rotation),
        focal=raw.focal + w * (smooth.focal - raw.focal),
        trans=raw.trans + w[:, None] * (smooth.trans - raw.trans),
    )


def smooth_within_tolerance(
    raw: MotionParams,
    sigma: float,
    project: Callable[[MotionParams], torch.Tensor],
    keypoints: torch.Tensor,
    tolerance: float,
    steps: int = 8,
    ceiling: torch.Tensor | None = None,
) -> tuple[MotionParams, torch.Tensor]:
    """Smooth ``raw`` and pull back, frame by frame, wherever the smoothed keypoint re-projection
    error exceeds the raw one by more than ``tolerance`` pixels.

    Args:
        raw: the unsmoothed parameters.
        sigma: Gaussian standard deviation in frames (0: returns ``raw``).
        project: parameters -> (T, K, 2) projected keypoints in frame pixels.
        keypoints: (T, K, 3) input keypoints (pixels, confidence).
        tolerance: allowed growth of the per-frame mean re-projection error, pixels.
        ceiling: (T,) optional per-frame error, pixels, that smoothing may not exceed unless the
            unsmoothed frame already does (the adapted prediction's error: the export is never
            worse in 2D than it); NaN: no ceiling.
        steps: bisection steps on the blend weight.

    Returns:
        The result and (T,) the blend weight used per frame (1: fully smoothed).
    """
    t_count = len(raw)
    if sigma <= 0 or t_count < 3:
        return raw, torch.zeros(t_count)
    smooth = smooth_params(raw, sigma)
    base = reprojection_error(project(raw), keypoints)
    limit = base + tolerance
    if ceiling is not None:
        cap = torch.maximum(base, ceiling.to(base.dtype))
        limit = torch.where(torch.isnan(cap), limit, torch.minimum(limit, cap))

    def ok(params: MotionParams) -> torch.Tensor:
        err = reprojection_error(project(params), keypoints)
        return torch.isnan(err) | (err <= limit + 1e-6)

    weight = torch.ones(t_count, dtype=torch.float64)
    good = ok(smooth)
    if bool(good.all()):
        return smooth, weight
    lo, hi = torch.zeros(t_count, dtype=torch.float64), torch.ones(t_count, dtype=torch.float64)
    hi[good], lo[good] = 1.0, 1.0  # frames already within tolerance stay fully smoothed
    for _ in range(steps):
        mid = (lo + hi) / 2
        mid_ok = ok(blend_params(raw, smooth, mid))
        lo = torch.where(mid_ok, mid, lo)
        hi = torch.where(mid_ok, hi, mid)
    weight = lo  # lo always satisfies the tolerance (0 is the raw frame itself)
    return blend_params(raw, smooth, weight), weight


def jitter_mm(points: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean norm of the second temporal difference of (T, N, 3) points, millimetres per frame^2,
    over the triples of consecutive frames that are all valid (NaN when none)."""
    if len(points) < 3:
        return float("nan")
    acc = np.linalg.norm(points[2:] - 2 * points[1:-1] + points[:-2], axis=-1).mean(-1)
    if valid is not None:
        ok = valid[2:] & valid[1:-1] & valid[:-2]
        acc = acc[ok]
    return float(acc.mean() * 1000) if len(acc) else float("nan")
