"""The aligned 3D keypoint term (losses/world3d.py) against a slow, obvious reference."""

from __future__ import annotations

import numpy as np
import pytest
import roma
import torch

from selfmocap.losses.world3d import MIN_KEYPOINTS, REFERENCE_LENGTH, similarity_align, world_keypoint_loss


def _reference(pred: np.ndarray, target: np.ndarray, weight: np.ndarray) -> float:
    """Per frame: weighted Umeyama with an explicit SVD, then the weighted mean squared distance."""
    per_frame = []
    for x, y, w in zip(pred, target, weight):
        if (w > 0).sum() < MIN_KEYPOINTS:
            continue
        w = w / w.sum()
        mx, my = (w[:, None] * x).sum(0), (w[:, None] * y).sum(0)
        xc, yc = x - mx, y - my
        cov = (w[:, None] * yc).T @ xc
        u, d, vt = np.linalg.svd(cov)
        sign = np.eye(3)
        sign[2, 2] = np.sign(np.linalg.det(u @ vt))
        rot = u @ sign @ vt
        var = (w * (xc**2).sum(1)).sum()
        scale = np.trace(np.diag(d) @ sign) / var
        aligned = scale * xc @ rot.T + my
        per_frame.append((w * ((aligned - y) ** 2).sum(1)).sum())
    return float(np.mean(per_frame)) / REFERENCE_LENGTH**2 if per_frame else 0.0


def _data(seed: int = 0, n: int = 5, k: int = 12):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(n, k, 3, generator=g, dtype=torch.float64) * 0.4
    target = torch.randn(n, k, 3, generator=g, dtype=torch.float64) * 0.4
    weight = torch.rand(n, k, generator=g, dtype=torch.float64)
    weight[1, :k - 2] = 0.0  # a frame with too few keypoints: ignored
    weight[2, 3] = 0.0
    return pred, target, weight


def test_matches_slow_reference():
    pred, target, weight = _data()
    expected = _reference(pred.numpy(), target.numpy(), weight.numpy())
    assert world_keypoint_loss(pred, target, weight).item() == pytest.approx(expected, rel=1e-9)


def test_zero_for_a_similar_pose_and_positive_otherwise():
    pred, _, weight = _data(1)
    rot = roma.random_rotmat(len(pred), dtype=torch.float64)
    target = 1.3 * pred @ rot.transpose(-1, -2) + torch.tensor([0.2, -0.1, 3.0], dtype=torch.float64)
    assert world_keypoint_loss(pred, target, weight).item() == pytest.approx(0.0, abs=1e-20)
    bent = target.clone()
    bent[:, 0] += 0.1
    assert world_keypoint_loss(pred, bent, weight).item() > 1e-5


def test_no_usable_frame_gives_zero_with_gradient():
    pred, target, weight = _data(2)
    pred.requires_grad_(True)
    loss = world_keypoint_loss(pred, target, torch.zeros_like(weight))
    loss.backward()
    assert loss.item() == 0.0 and torch.all(pred.grad == 0)


def test_gradient_equals_gradient_through_the_alignment():
    """The detached similarity is optimal, so its partial derivatives vanish (envelope theorem)."""
    pred, target, weight = _data(3)
    weight[1] = 1.0  # every frame usable, so both forms see the same frames
    pred.requires_grad_(True)
    grad = torch.autograd.grad(world_keypoint_loss(pred, target, weight), pred)[0]

    p = pred.detach().clone().requires_grad_(True)
    rot, trans, scale = roma.rigid_points_registration(p, target, weights=weight, compute_scaling=True)
    aligned = scale[:, None, None] * p @ rot.transpose(-1, -2) + trans[:, None, :]
    full = ((weight * ((aligned - target) ** 2).sum(-1)).sum(1) / weight.sum(1)).mean() / REFERENCE_LENGTH**2
    grad_full = torch.autograd.grad(full, p)[0]
    torch.testing.assert_close(grad, grad_full, rtol=1e-6, atol=1e-10)


def test_gradcheck():
    pred, target, weight = _data(4, n=3, k=6)
    weight[1] = 0.5
    pred.requires_grad_(True)
    # finite differences re-align at every evaluation; the analytic gradient holds the alignment
    # fixed: they agree because the alignment is optimal
    assert torch.autograd.gradcheck(lambda x: world_keypoint_loss(x, target, weight), (pred,), eps=1e-6, atol=1e-6)


def test_similarity_align_maps_onto_target():
    pred, _, weight = _data(5)
    rot = roma.random_rotmat(len(pred), dtype=torch.float64)
    target = 0.7 * pred @ rot.transpose(-1, -2) - 0.3
    torch.testing.assert_close(similarity_align(pred, target, torch.ones_like(weight)), target)


def test_bad_shapes_are_refused():
    pred, target, weight = _data()
    with pytest.raises(ValueError, match="expected pred"):
        world_keypoint_loss(pred, target[:, :3], weight)


def _scale_reference(pred: np.ndarray, target: np.ndarray, weight: np.ndarray) -> float:
    """Per frame: the best scale and translation by a dense 1D search over s (no rotation)."""
    per_frame = []
    for x, y, w in zip(pred, target, weight):
        if (w > 0).sum() < MIN_KEYPOINTS:
            continue
        w = w / w.sum()
        best = np.inf
        for s in np.linspace(-3, 3, 60001):
            t = (w[:, None] * (y - s * x)).sum(0)  # the best translation for this s
            best = min(best, (w * ((s * x + t - y) ** 2).sum(1)).sum())
        per_frame.append(best)
    return float(np.mean(per_frame)) / REFERENCE_LENGTH**2 if per_frame else 0.0


def test_scale_alignment_matches_slow_reference_and_keeps_orientation():
    pred, target, weight = _data(6)
    expected = _scale_reference(pred.numpy(), target.numpy(), weight.numpy())
    assert world_keypoint_loss(pred, target, weight, align="scale").item() == pytest.approx(expected, rel=1e-6)
    moved = 1.3 * pred + torch.tensor([0.2, -0.1, 3.0], dtype=torch.float64)
    assert world_keypoint_loss(pred, moved, weight, align="scale").item() == pytest.approx(0.0, abs=1e-20)
    turned = moved @ roma.euler_to_rotmat("y", [0.5], dtype=torch.float64).transpose(-1, -2)
    assert world_keypoint_loss(pred, turned, weight, align="scale").item() > 1e-4  # a turn is an error
    assert world_keypoint_loss(pred, turned, weight).item() == pytest.approx(0.0, abs=1e-20)  # not here


def test_scale_alignment_gradient_and_gradcheck():
    pred, target, weight = _data(7, n=3, k=6)
    weight[1] = 0.5
    pred.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: world_keypoint_loss(x, target, weight, align="scale"), (pred,), eps=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="align"):
        world_keypoint_loss(pred, target, weight, align="rigid")
