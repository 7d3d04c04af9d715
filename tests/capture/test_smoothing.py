"""Temporal smoothing within a 2D tolerance, segments and frame ranges of the capture pipeline."""

from __future__ import annotations

import numpy as np
import roma
import torch

from selfmocap.geometry.camera import reprojection_error
from selfmocap.capture.config import CaptureOptions
from selfmocap.capture.pipeline import fill_missing, iterations, segments
from selfmocap.capture.smoothing import (
    MotionParams,
    blend_params,
    jitter_mm,
    smooth_rotations,
    smooth_within_tolerance,
)


def _params(t: int, seed: int = 0, noise: float = 0.05) -> MotionParams:
    g = torch.Generator().manual_seed(seed)
    base = torch.linspace(0, 1.0, t)[:, None] * torch.tensor([0.3, 0.5, -0.2])
    rot = roma.rotvec_to_rotmat(base + noise * torch.randn(t, 3, generator=g)).double()
    pose = roma.rotvec_to_rotmat(base[:, None].expand(t, 4, 3) + noise * torch.randn(t, 4, 3, generator=g)).double()
    return MotionParams(pose=pose, rotation=rot, focal=1000 + 20 * torch.randn(t, generator=g, dtype=torch.float64),
                        trans=0.05 * torch.randn(t, 2, generator=g, dtype=torch.float64))


def test_smoothing_a_constant_rotation_keeps_it_and_reduces_jitter():
    const = roma.rotvec_to_rotmat(torch.tensor([[0.4, -0.2, 0.1]], dtype=torch.float64)).expand(10, 3, 3)
    assert torch.allclose(smooth_rotations(const, 2.0), const, atol=1e-12)
    p = _params(40)
    smooth = smooth_rotations(p.pose, 2.0)
    angle = lambda r: roma.rotmat_to_rotvec(r[1:].transpose(-1, -2) @ r[:-1]).norm(dim=-1).mean()  # noqa: E731
    assert angle(smooth) < 0.5 * angle(p.pose)


def test_blend_endpoints():
    a, b = _params(6, 1), _params(6, 2)
    for w, ref in ((0.0, a), (1.0, b)):
        out = blend_params(a, b, torch.full((6,), w, dtype=torch.float64))
        assert torch.allclose(out.pose, ref.pose, atol=1e-9)
        assert torch.allclose(out.rotation, ref.rotation, atol=1e-9)
        assert torch.allclose(out.focal, ref.focal)


def test_smoothing_never_exceeds_the_tolerance():
    """A toy 'projection' of the camera translation: frames where smoothing moves the result away
    from the evidence by more than the tolerance are pulled back, the others are fully smoothed."""
    t = 30
    p = _params(t, 3, noise=0.0)
    trans = torch.zeros(t, 2, dtype=torch.float64)
    trans[15] = torch.tensor([0.5, 0.0])  # a genuine fast event the evidence confirms
    p = MotionParams(p.pose, p.rotation, p.focal, trans)
    keypoints = torch.zeros(t, 1, 3, dtype=torch.float64)
    keypoints[:, 0, :2] = 100 * trans
    keypoints[:, 0, 2] = 1.0

    def project(q: MotionParams) -> torch.Tensor:
        return 100 * q.trans[:, None, :]

    out, weight = smooth_within_tolerance(p, 2.0, project, keypoints, tolerance=3.0)
    before = reprojection_error(project(p), keypoints)
    after = reprojection_error(project(out), keypoints)
    assert (after <= before + 3.0 + 1e-6).all()
    assert weight[15] < 1.0  # the spike would have been flattened: pulled back
    assert weight[0] == 1.0 and weight[-1] == 1.0
    unlimited, _ = smooth_within_tolerance(p, 2.0, project, keypoints, tolerance=1e9)
    assert reprojection_error(project(unlimited), keypoints)[15] > 3.0  # without the bound it would move


def test_jitter_of_a_constant_velocity_is_zero():
    x = np.linspace(0, 1, 10)[:, None, None] * np.ones((10, 2, 3))
    assert jitter_mm(x) < 1e-9
    x[5] += 0.001
    # second differences of norm sqrt(3) x (1, 2, 1) mm at 3 of the 8 triples
    assert abs(jitter_mm(x) - 4 * np.sqrt(3) / 8) < 1e-6
    assert np.isnan(jitter_mm(x[:2]))


def test_segments():
    assert segments(10, 240) == [(0, 10)]
    parts = segments(500, 240)
    assert len(parts) == 3 and parts[0][0] == 0 and parts[-1][1] == 500
    assert all(b - a <= 240 for a, b in parts)
    assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))


def test_iterations_schedule():
    opts = CaptureOptions()
    assert iterations(opts, 0) == 0
    assert iterations(opts, 10) == opts.min_iters
    assert iterations(opts, 1000) == int(np.ceil(opts.epochs * 1000 / opts.step.batch))
    assert iterations(CaptureOptions(iters=7), 1000) == 7
    assert iterations(CaptureOptions(adapt=False), 1000) == 0


def test_fill_missing_interpolates_between_detections():
    p = _params(5, 4)
    detected = np.array([True, False, False, True, True])
    out = fill_missing(p, detected)
    assert torch.allclose(out.pose[0], p.pose[0]) and torch.allclose(out.pose[3], p.pose[3])
    expected_focal = p.focal[0] + (p.focal[3] - p.focal[0]) / 3
    assert torch.allclose(out.focal[1], expected_focal)
    ends = fill_missing(p, np.array([False, True, True, True, False]))
    assert torch.allclose(ends.trans[0], p.trans[1]) and torch.allclose(ends.trans[4], p.trans[3])
