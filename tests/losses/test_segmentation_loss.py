"""Eq. 5 (Chamfer) and Eq. 6-7 (distance maps) segmentation losses against double loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import selfmocap.losses.segmentation as seg_module
from selfmocap.losses import (
    SegmentationChamferLoss,
    SegmentationDistanceMapLoss,
    downsample_mask,
    mask_distance_transform,
    model_distance_maps,
    nearest_neighbours,
    segmentation_chamfer_loss,
    segmentation_distance_map_loss,
)

# --- slow, obvious references ----------------------------------------------------------------


def _ref_downsample(mask, f):
    h, w = mask.shape
    out = np.zeros((-(-h // f), -(-w // f)), bool)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = mask[i * f : (i + 1) * f, j * f : (j + 1) * f].sum() * 2 >= f * f
    return out


def _fg_centres(mask):
    return [(j + 0.5, i + 0.5) for i in range(mask.shape[0]) for j in range(mask.shape[1]) if mask[i, j]]


def _ref_chamfer(points, mask, visible, f, s):
    """Eq. 5 with means, by a double loop over points and pixels."""
    out = []
    for b in range(points.shape[0]):
        low = _ref_downsample(mask[b].numpy(), f)
        pts = [(float(x) / f, float(y) / f) for (x, y), v in zip(points[b], visible[b]) if v]
        seg = _fg_centres(low)
        if not pts or not seg:
            out.append(0.0)
            continue
        over = sum(min((px - qx) ** 2 + (py - qy) ** 2 for qx, qy in seg) for px, py in pts) / len(pts)
        under = sum(min((px - qx) ** 2 + (py - qy) ** 2 for px, py in pts) for qx, qy in seg) / len(seg)
        out.append((over + under) * f**2 / s**2)
    return torch.tensor(out, dtype=torch.float64)


def _ref_distance_map(points, mask, visible, f, s):
    """Eq. 6-7 (with S^M = delta(D < 0.5)(1 - D)) by loops over pixels, points and mask pixels."""
    out = []
    for b in range(points.shape[0]):
        low = _ref_downsample(mask[b].numpy(), f)
        pts = [(float(x) / f, float(y) / f) for (x, y), v in zip(points[b], visible[b]) if v]
        seg = _fg_centres(low)
        if not pts or not seg:
            out.append(0.0)
            continue
        total = 0.0
        for i in range(low.shape[0]):
            for j in range(low.shape[1]):
                p = (j + 0.5, i + 0.5)
                d = min(math.dist(p, q) for q in pts)
                c_image = min(math.dist(p, q) for q in seg)
                c_model = max(0.5, d)
                s_model = 1 - d if d < 0.5 else 0.0
                total += s_model * c_image + float(low[i, j]) * c_model
        out.append(total * f / (s * len(seg)))
    return torch.tensor(out, dtype=torch.float64)


# --- data ------------------------------------------------------------------------------------


def _blob_mask(b, h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    masks = []
    for _ in range(b):
        cx, cy = (0.3 + 0.4 * torch.rand(2, generator=g)) * torch.tensor([w, h])
        rx, ry = (0.15 + 0.2 * torch.rand(2, generator=g)) * torch.tensor([w, h])
        masks.append(((cols - cx) / rx) ** 2 + ((rows - cy) / ry) ** 2 < 1)
    return torch.stack(masks)


def _points(b, n, h, w, seed=0):
    g = torch.Generator().manual_seed(seed + 100)
    pts = torch.rand(b, n, 2, generator=g, dtype=torch.float64) * torch.tensor([w, h], dtype=torch.float64) * 1.2 - 1
    visible = torch.rand(b, n, generator=g) < 0.8
    return pts, visible


LOSSES = [(segmentation_chamfer_loss, _ref_chamfer), (segmentation_distance_map_loss, _ref_distance_map)]

# --- shared behaviour ------------------------------------------------------------------------


@pytest.mark.parametrize("loss, ref", LOSSES)
@pytest.mark.parametrize("b", [1, 3])
@pytest.mark.parametrize("f", [1, 2])
@pytest.mark.parametrize("method", ["kdtree", "brute"])
def test_matches_double_loop(loss, ref, b, f, method, monkeypatch):
    monkeypatch.setattr(seg_module, "NEAREST_METHOD", method)
    mask = _blob_mask(b, 16, 12, seed=b)
    pts, visible = _points(b, 30, 16, 12, seed=b)
    got = loss(pts, mask, visible, downsample=f, scale=8.0, reduction="none")
    assert got.shape == (b,)
    assert torch.allclose(got, ref(pts, mask, visible, f, 8.0), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss, ref", LOSSES)
def test_odd_sizes(loss, ref):
    mask = _blob_mask(2, 15, 11, seed=9)
    pts, visible = _points(2, 20, 15, 11, seed=9)
    assert torch.allclose(loss(pts, mask, visible, reduction="none"), ref(pts, mask, visible, 2, 1.0), rtol=1e-6)


@pytest.mark.parametrize("loss, ref", LOSSES)
def test_all_points_when_visible_is_none(loss, ref):
    mask = _blob_mask(2, 16, 16)
    pts, _ = _points(2, 20, 16, 16)
    everything = torch.ones(2, 20, dtype=torch.bool)
    assert torch.allclose(loss(pts, mask, reduction="none"), ref(pts, mask, everything, 2, 1.0), rtol=1e-6)


@pytest.mark.parametrize("loss, _ref", LOSSES)
def test_chunking_does_not_change_the_result(loss, _ref, monkeypatch):
    mask = _blob_mask(2, 32, 32)
    pts, visible = _points(2, 200, 32, 32)
    whole = loss(pts, mask, visible)
    monkeypatch.setattr(seg_module, "NEAREST_METHOD", "brute")
    monkeypatch.setattr(seg_module, "MAX_PAIRS", 1000)  # a few points per chunk
    assert torch.allclose(loss(pts, mask, visible), whole, rtol=1e-12)


@pytest.mark.parametrize("loss, _ref", LOSSES)
def test_resolution_independent(loss, _ref):
    """A mask upsampled 2x with points scaled 2x, at half resolution and scale 2s, is the same
    problem as the original at full resolution and scale s."""
    mask = _blob_mask(2, 12, 12)
    pts, visible = _points(2, 25, 12, 12)
    small = loss(pts, mask, visible, downsample=1, scale=12.0)
    big_mask = mask.repeat_interleave(2, 1).repeat_interleave(2, 2)
    assert torch.allclose(loss(2 * pts, big_mask, visible, downsample=2, scale=24.0), small)


@pytest.mark.parametrize("loss, _ref", LOSSES)
def test_empty_mask_frames_give_zero_and_leave_the_mean(loss, _ref):
    mask = _blob_mask(3, 16, 16)
    mask[1] = False
    pts, visible = _points(3, 20, 16, 16)
    pts.requires_grad_(True)
    per = loss(pts, mask, visible, reduction="none")
    assert per[1] == 0 and (per[[0, 2]] > 0).all()
    mean = loss(pts, mask, visible)
    assert torch.allclose(mean, per[[0, 2]].mean())
    mean.backward()
    assert (pts.grad[1] == 0).all()
    # no frame with evidence: an exact zero that still back-propagates
    pts.grad = None
    nothing = loss(pts, torch.zeros_like(mask), visible)
    nothing.backward()
    assert nothing.item() == 0 and (pts.grad == 0).all()
    assert loss(pts, mask, torch.zeros_like(visible)).item() == 0


@pytest.mark.parametrize("loss, _ref", LOSSES)
def test_gradcheck(loss, _ref):
    mask = _blob_mask(2, 8, 8, seed=4)
    pts, visible = _points(2, 10, 8, 8, seed=4)
    pts.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: loss(p, mask, visible, downsample=2, scale=4.0), (pts,))
    assert torch.autograd.gradcheck(lambda p: loss(p, mask, visible, downsample=1), (pts,))


@pytest.mark.parametrize("loss, _ref", LOSSES)
def test_shape_errors(loss, _ref):
    mask = _blob_mask(2, 16, 16)
    pts, visible = _points(2, 10, 16, 16)
    with pytest.raises(ValueError, match="points2d"):
        loss(pts[..., :1], mask)
    with pytest.raises(ValueError, match="mask"):
        loss(pts, mask[:1])
    with pytest.raises(ValueError, match="visible"):
        loss(pts, mask, visible[:, :3])
    with pytest.raises(ValueError, match="visible"):
        loss(pts, mask, visible.float())
    with pytest.raises(ValueError, match="downsample"):
        loss(pts, mask, downsample=0)


@pytest.mark.parametrize("method", ["kdtree", "brute", "auto"])
def test_nearest_neighbours_against_double_loop(method):
    g = torch.Generator().manual_seed(5)
    a, b = torch.rand(37, 2, generator=g, dtype=torch.float64) * 9, torch.rand(11, 2, generator=g, dtype=torch.float64) * 9
    a_to_b, b_to_a = nearest_neighbours(a, b, method)
    for i in range(len(a)):
        assert math.dist(a[i], b[a_to_b[i]]) == pytest.approx(min(math.dist(a[i], q) for q in b))
    for j in range(len(b)):
        assert math.dist(b[j], a[b_to_a[j]]) == pytest.approx(min(math.dist(b[j], p) for p in a))
    with pytest.raises(ValueError, match="method"):
        nearest_neighbours(a, b, "octree")


# --- Eq. 5 -----------------------------------------------------------------------------------


def test_chamfer_by_hand():
    mask = torch.zeros(1, 8, 8, dtype=torch.bool)
    mask[0, 2, 3] = True  # centre (3.5, 2.5)
    pts = torch.tensor([[[6.5, 6.5]]], dtype=torch.float64)  # offset (3, 4): 25 px^2 both ways
    assert segmentation_chamfer_loss(pts, mask, downsample=1).item() == pytest.approx(50.0)
    assert segmentation_chamfer_loss(pts, mask, downsample=1, scale=5.0).item() == pytest.approx(2.0)
    # points on every foreground centre: zero
    mask = _blob_mask(1, 16, 16)
    rows, cols = torch.nonzero(mask[0], as_tuple=True)
    on = torch.stack([cols, rows], -1)[None].double() + 0.5
    assert segmentation_chamfer_loss(on, mask, downsample=1).item() == 0


def test_chamfer_gradient_pulls_stray_vertices_in_and_spreads_them_out():
    mask = torch.zeros(1, 16, 16, dtype=torch.bool)
    mask[0, 4:12, 4:12] = True
    pts = torch.tensor([[[14.0, 8.0], [8.0, 8.0]]], dtype=torch.float64, requires_grad=True)
    loss = segmentation_chamfer_loss(pts, mask, downsample=1)
    loss.backward()
    assert pts.grad[0, 0, 0] > 0  # the stray point outside on the right moves left (descent)
    step = pts.detach() - 0.5 * pts.grad
    assert segmentation_chamfer_loss(step, mask, downsample=1) < loss


# --- Eq. 6-7 ---------------------------------------------------------------------------------


def test_distance_transform_matches_brute_force():
    mask = _blob_mask(1, 13, 11, seed=7)[0]
    mask[0, 10] = True
    got = mask_distance_transform(mask)
    fg = _fg_centres(mask.numpy())
    ref = torch.tensor([[min(math.dist((j + 0.5, i + 0.5), q) for q in fg) for j in range(11)] for i in range(13)])
    assert torch.allclose(got, ref, atol=1e-4)
    with pytest.raises(ValueError, match="empty"):
        mask_distance_transform(torch.zeros(4, 4, dtype=torch.bool))


def test_model_maps_by_hand():
    pts = torch.tensor([[1.5, 0.5], [3.8, 2.5]], dtype=torch.float64)  # on centre (1, 0); 0.3 from (3, 2)
    chamfer, soft = model_distance_maps(pts, 3, 5)
    assert soft[0, 1].item() == pytest.approx(1.0) and chamfer[0, 1].item() == 0.5
    assert soft[2, 3].item() == pytest.approx(0.7) and chamfer[2, 3].item() == 0.5
    assert soft[2, 4].item() == 0 and chamfer[2, 4].item() == pytest.approx(0.7)  # 0.7 from (4.5, 2.5)
    assert soft[0, 4].item() == 0 and chamfer[0, 4].item() == pytest.approx(math.dist((4.5, 0.5), (3.8, 2.5)))
    assert int((soft > 0).sum()) == 2


@pytest.mark.parametrize("x, direction", [(7.3, -1), (7.7, 1)])
def test_distance_map_over_coverage_pushes_vertices_off_background_centres(x, direction):
    """The mask is covered by vertices on every foreground centre (the under-coverage side is
    flat there), so only S^M (x) C^I acts on the stray vertex 0.2 px from the background centre
    (7.5, 3.5): descent moves it away from that centre."""
    mask = torch.zeros(1, 8, 8, dtype=torch.bool)
    mask[0, 2:6, 2:6] = True
    rows, cols = torch.nonzero(mask[0], as_tuple=True)
    covering = torch.stack([cols, rows], -1).double() + 0.5
    pts = torch.cat([covering, torch.tensor([[x, 3.5]], dtype=torch.float64)])[None].requires_grad_(True)
    loss = segmentation_distance_map_loss(pts, mask, downsample=1)
    loss.backward()
    assert (pts.grad[0, :-1] == 0).all()
    assert torch.sign(-pts.grad[0, -1, 0]).item() == direction and pts.grad[0, -1, 1] == 0
    assert segmentation_distance_map_loss(pts.detach() - 0.05 * pts.grad, mask, downsample=1) < loss


def test_downsample_mask_matches_reference():
    mask = torch.rand(2, 13, 10, generator=torch.Generator().manual_seed(0)) < 0.5
    for f in (1, 2, 3, 4):
        got = downsample_mask(mask, f)
        assert np.array_equal(got.numpy(), np.stack([_ref_downsample(m.numpy(), f) for m in mask]))


def test_modules_match_functions():
    mask = _blob_mask(2, 16, 16)
    pts, visible = _points(2, 20, 16, 16)
    assert torch.equal(SegmentationChamferLoss(downsample=1)(pts, mask, visible, scale=3.0),
                       segmentation_chamfer_loss(pts, mask, visible, downsample=1, scale=3.0))
    assert torch.equal(SegmentationDistanceMapLoss(reduction="none")(pts, mask, visible),
                       segmentation_distance_map_loss(pts, mask, visible, reduction="none"))
