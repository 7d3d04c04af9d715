import math

import numpy as np
import pytest
import roma
import torch
from scipy.optimize import minimize

from selfmocap.body.model import BodyOutput
from selfmocap.body.metrics import (
    acceleration_error,
    body_errors,
    mpjpe,
    pa_mpjpe,
    reconstruction_error,
    surface_error,
)
from selfmocap.geometry.camera import camera_oriented

ALL = [mpjpe, pa_mpjpe, reconstruction_error, surface_error]


@pytest.mark.parametrize("lead", [(), (1,), (5, 6)])
@pytest.mark.parametrize("metric", ALL)
def test_identity_is_zero_for_any_batch_shape(metric, lead):
    x = torch.randn(*lead, 17, 3, dtype=torch.float64)
    err = metric(x, x.clone())
    assert err.shape == lead and torch.allclose(err, torch.zeros(lead, dtype=torch.float64), atol=1e-6)


def test_known_translation():
    x = torch.randn(4, 17, 3, dtype=torch.float64)
    t = torch.tensor([0.03, -0.04, 0.0], dtype=torch.float64)  # 50 mm
    assert torch.allclose(mpjpe(x + t, x), torch.full((4,), 50.0, dtype=torch.float64))
    assert torch.allclose(reconstruction_error(x + t, x), torch.zeros(4, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(pa_mpjpe(x + t, x), torch.zeros(4, dtype=torch.float64), atol=1e-6)


def test_known_rotation_and_scale():
    target = torch.tensor([[[1.0, 0, 0], [-1, 0, 0], [0, 0, 0.5]]], dtype=torch.float64)
    rz90 = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64)
    pred = target @ rz90.T  # (0, 1, 0), (0, -1, 0), (0, 0, 0.5)
    assert torch.allclose(mpjpe(pred, target), torch.tensor([2 * math.sqrt(2) / 3 * 1000], dtype=torch.float64))
    assert torch.allclose(pa_mpjpe(2 * pred + 1, target), torch.zeros(1, dtype=torch.float64), atol=1e-6)


def _pa_reference(pred: np.ndarray, target: np.ndarray) -> float:
    """Umeyama with scale, written out with numpy's SVD."""
    mp, mt = pred.mean(0), target.mean(0)
    p, t = pred - mp, target - mt
    u, s, vt = np.linalg.svd(t.T @ p)
    d = np.diag([1, 1, np.sign(np.linalg.det(u @ vt))])
    r = u @ d @ vt
    scale = np.trace(np.diag(s) @ d) / (p**2).sum()
    aligned = scale * p @ r.T + mt
    return float(np.linalg.norm(aligned - target, axis=1).mean() * 1000)


def test_pa_mpjpe_matches_reference():
    rng = np.random.default_rng(0)
    for _ in range(5):
        target = rng.normal(size=(17, 3))
        pred = 1.3 * target @ roma.random_rotmat().double().numpy().T + rng.normal(scale=0.1, size=(17, 3)) + 2
        got = float(pa_mpjpe(torch.tensor(pred), torch.tensor(target)))
        assert got == pytest.approx(_pa_reference(pred, target), rel=1e-6)


def test_reconstruction_error_matches_direct_minimisation():
    rng = np.random.default_rng(1)
    pred, target = rng.normal(size=(17, 3)), rng.normal(size=(17, 3))
    objective = lambda t: np.linalg.norm(pred + t - target, axis=1).mean()  # noqa: E731
    best = minimize(objective, np.zeros(3), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    got = float(reconstruction_error(torch.tensor(pred), torch.tensor(target)))
    assert got == pytest.approx(best.fun * 1000, rel=1e-5)
    assert got <= float(mpjpe(torch.tensor(pred - pred.mean(0) + target.mean(0)), torch.tensor(target))) + 1e-9


def test_acceleration_error():
    t = torch.arange(5, dtype=torch.float64)[:, None, None]
    still = torch.zeros(5, 2, 3, dtype=torch.float64)
    moving = still + t * torch.tensor([0.1, 0.0, 0.0], dtype=torch.float64)  # constant velocity
    assert torch.allclose(acceleration_error(moving, still), torch.zeros((), dtype=torch.float64))
    accelerating = still + t**2 * torch.tensor([0.0, 0.002, 0.0], dtype=torch.float64)  # a = 4 mm/frame^2
    assert torch.allclose(acceleration_error(accelerating, still), torch.tensor(4.0, dtype=torch.float64))
    assert acceleration_error(accelerating[None].expand(3, -1, -1, -1), still[None].expand(3, -1, -1, -1)).shape == (3,)
    with pytest.raises(ValueError, match="T >= 3"):
        acceleration_error(still[:2], still[:2])


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"\(\.\.\., N, 3\)"):
        mpjpe(torch.zeros(2, 17, 3), torch.zeros(2, 16, 3))


def test_body_errors_compare_in_camera_orientation(body):
    torch.manual_seed(0)
    out = body(torch.randn(2, 19, 3) * 0.2, torch.rand(2, 6))
    rot = roma.random_rotmat(2)
    same = body_errors(out, rot, out, rot)
    assert all(v < 1e-3 for v in same.mean().values())
    # A wrong global orientation is an error for MPJPE and the surface, not after Procrustes.
    tilted = body_errors(out, roma.rotvec_to_rotmat(torch.tensor([0.0, 0.3, 0.0])) @ rot, out, rot)
    assert tilted.per_joint_mm.min() > 10 and tilted.surface_mm.min() > 10 and tilted.pa_mpjpe_mm.max() < 1e-2
    expected = mpjpe(camera_oriented(out.keypoints[:, :17], roma.rotvec_to_rotmat(torch.tensor([0.0, 0.3, 0.0])) @ rot),
                     camera_oriented(out.keypoints[:, :17], rot))
    assert torch.allclose(tilted.per_joint_mm, expected)
    shifted = BodyOutput(out.vertices + 0.01, out.joints + 0.01, out.keypoints + 0.01)
    assert torch.allclose(body_errors(shifted, rot, out, rot).per_joint_mm, torch.full((2,), 10 * math.sqrt(3)), atol=1e-3)
