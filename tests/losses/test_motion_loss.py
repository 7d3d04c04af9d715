"""Section 3.1 motion re-projection loss and its bilinear flow sampling, against slow references."""

from __future__ import annotations

import math

import pytest
import torch
from loss_helpers import identity_camera, random_camera

from selfmocap.geometry.camera import Camera, project
from selfmocap.losses import MotionReprojectionLoss, bilinear_sample, motion_reprojection_loss


def _ref_bilinear(image, x, y):
    """Textbook bilinear interpolation in the continuous convention (centres at j + 0.5), with
    coordinates clamped to the outermost centres. Returns the value and the (weight, row, col)
    of each contributing pixel."""
    h, w = image.shape[:2]
    xi = min(max(float(x) - 0.5, 0.0), w - 1.0)
    yi = min(max(float(y) - 0.5, 0.0), h - 1.0)
    x0, y0 = int(math.floor(xi)), int(math.floor(yi))
    x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
    ax, ay = xi - x0, yi - y0
    taps = [((1 - ax) * (1 - ay), y0, x0), (ax * (1 - ay), y0, x1), ((1 - ax) * ay, y1, x0), (ax * ay, y1, x1)]
    value = sum(wt * image[r, c] for wt, r, c in taps)
    return value, [(wt, r, c) for wt, r, c in taps if wt > 0]


def _ref_motion(vt, vt1, cam_t, cam_t1, flow, visible, valid, scale):
    out = []
    h, w = flow.shape[1:3]
    for b in range(vt.shape[0]):
        total, count = 0.0, 0
        for i in range(vt.shape[1]):
            if not visible[b, i]:
                continue
            p = cam_t.rotation[b] @ vt[b, i] + cam_t.translation()[b]
            q = cam_t1.rotation[b] @ vt1[b, i] + cam_t1.translation()[b]
            if p[2] <= 0 or q[2] <= 0:
                continue
            x1, y1 = cam_t.focal[b] * p[0] / p[2] + cam_t.principal[b, 0], cam_t.focal[b] * p[1] / p[2] + cam_t.principal[b, 1]
            x2, y2 = cam_t1.focal[b] * q[0] / q[2] + cam_t1.principal[b, 0], cam_t1.focal[b] * q[1] / q[2] + cam_t1.principal[b, 1]
            if not (0 <= x1 <= w and 0 <= y1 <= h):
                continue
            of, taps = _ref_bilinear(flow[b], x1, y1)
            if valid is not None and not all(valid[b, r, c] for _, r, c in taps):
                continue
            total += abs(float(x2 - x1 - of[0])) + abs(float(y2 - y1 - of[1]))
            count += 1
        out.append(total / (count * scale) if count else 0.0)
    return torch.tensor(out, dtype=torch.float64)


def _data(b, v=40, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    cam_t = random_camera(b, seed=seed, size=size)
    cam_t1 = cam_t.replace(trans=cam_t.trans + 0.02 * torch.randn(b, 2, generator=g, dtype=torch.float64))
    vt = (torch.rand(b, v, 3, generator=g, dtype=torch.float64) - 0.5) * torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    vt1 = vt + 0.03 * torch.randn(b, v, 3, generator=g, dtype=torch.float64)
    flow = 2 * torch.randn(b, size, size, 2, generator=g, dtype=torch.float64)
    visible = torch.rand(b, v, generator=g) < 0.7
    valid = torch.rand(b, size, size, generator=g) < 0.85
    return vt, vt1, cam_t, cam_t1, flow, visible, valid


# --- bilinear sampling ---------------------------------------------------------------------


def test_sampling_at_pixel_centres_returns_pixels_exactly():
    image = torch.randn(2, 5, 7, 3, dtype=torch.float64)
    rows, cols = torch.meshgrid(torch.arange(5), torch.arange(7), indexing="ij")
    centres = torch.stack([cols, rows], -1).reshape(1, -1, 2).double().expand(2, -1, -1) + 0.5
    assert torch.equal(bilinear_sample(image, centres), image.reshape(2, -1, 3))


def test_sampling_float32_at_pixel_centres_is_exact():
    image = torch.randn(1, 270, 96, 2)
    rows, cols = torch.meshgrid(torch.arange(270), torch.arange(96), indexing="ij")
    centres = torch.stack([cols, rows], -1).reshape(1, -1, 2).float() + 0.5
    assert torch.equal(bilinear_sample(image, centres), image.reshape(1, -1, 2))


def test_sampling_between_centres_is_the_average():
    image = torch.tensor([[[[0.0], [10.0]], [[20.0], [30.0]]]], dtype=torch.float64)  # (1, 2, 2, 1)
    pts = torch.tensor([[[1.0, 0.5], [0.5, 1.0], [1.0, 1.0], [1.25, 0.5]]], dtype=torch.float64)
    assert torch.allclose(bilinear_sample(image, pts)[0, :, 0], torch.tensor([5.0, 10.0, 15.0, 7.5], dtype=torch.float64))


def test_sampling_matches_reference_everywhere_including_borders():
    g = torch.Generator().manual_seed(1)
    image = torch.randn(1, 6, 9, 2, generator=g, dtype=torch.float64)
    pts = torch.rand(1, 200, 2, generator=g, dtype=torch.float64) * torch.tensor([11.0, 8.0], dtype=torch.float64) - 1
    got = bilinear_sample(image, pts)[0]
    ref = torch.stack([torch.as_tensor(_ref_bilinear(image[0], x, y)[0]) for x, y in pts[0]])
    assert torch.allclose(got, ref, atol=1e-12)


def test_sampling_equals_grid_sample_align_corners_false():
    g = torch.Generator().manual_seed(3)
    image = torch.randn(2, 7, 5, 3, generator=g, dtype=torch.float64)
    pts = torch.rand(2, 50, 2, generator=g, dtype=torch.float64) * 9 - 2
    size = torch.tensor([5.0, 7.0], dtype=torch.float64)
    ref = torch.nn.functional.grid_sample(image.permute(0, 3, 1, 2), (2 * pts / size - 1)[:, None], mode="bilinear",
                                          padding_mode="border", align_corners=False)[:, :, 0].transpose(1, 2)
    assert torch.allclose(bilinear_sample(image, pts), ref, atol=1e-12)


def test_sampling_gradcheck():
    g = torch.Generator().manual_seed(2)
    image = torch.randn(2, 4, 5, 2, generator=g, dtype=torch.float64, requires_grad=True)
    pts = (torch.rand(2, 6, 2, generator=g, dtype=torch.float64) * 4 + 0.5).requires_grad_(True)
    assert torch.autograd.gradcheck(bilinear_sample, (image, pts))


# --- motion loss ---------------------------------------------------------------------------


def test_rigid_translation_by_hand():
    """Points on a plane at depth z moving dX sideways flow f dX / z pixels everywhere."""
    b, f, z, dx = 2, 100.0, 5.0, 0.1
    cam = identity_camera(b, focal=f, depth=z)
    g = torch.Generator().manual_seed(0)
    vt = torch.cat([(torch.rand(b, 50, 2, generator=g, dtype=torch.float64) - 0.5) * 0.5, torch.zeros(b, 50, 1, dtype=torch.float64)], -1)
    vt1 = vt + torch.tensor([dx, 0.0, 0.0], dtype=torch.float64)
    visible = torch.ones(b, 50, dtype=torch.bool)
    true_flow = torch.zeros(b, 64, 64, 2, dtype=torch.float64)
    true_flow[..., 0] = f * dx / z  # 2 px
    assert motion_reprojection_loss(vt, vt1, cam, cam, true_flow, visible).item() == pytest.approx(0, abs=1e-12)
    zero = torch.zeros_like(true_flow)
    assert motion_reprojection_loss(vt, vt1, cam, cam, zero, visible).item() == pytest.approx(2.0)
    assert motion_reprojection_loss(vt, vt1, cam, cam, zero, visible, scale=64.0).item() == pytest.approx(2.0 / 64)
    # the sign convention: flow pointing the other way costs twice the motion
    assert motion_reprojection_loss(vt, vt1, cam, cam, -true_flow, visible).item() == pytest.approx(4.0)


@pytest.mark.parametrize("b", [1, 4])
@pytest.mark.parametrize("with_valid", [False, True])
def test_matches_reference(b, with_valid):
    vt, vt1, cam_t, cam_t1, flow, visible, valid = _data(b, seed=b)
    valid = valid if with_valid else None
    got = motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible, valid, scale=16.0, reduction="none")
    ref = _ref_motion(vt, vt1, cam_t, cam_t1, flow, visible, valid, 16.0)
    assert got.shape == (b,)
    assert torch.allclose(got, ref, atol=1e-12)


def test_vertices_outside_the_flow_image_are_excluded():
    vt, vt1, cam_t, cam_t1, flow, visible, _ = _data(1, seed=3)
    wide_t, wide_t1 = cam_t.replace(focal=cam_t.focal * 3), cam_t1.replace(focal=cam_t1.focal * 3)
    x_t = project(vt, wide_t)[0]
    outside = (x_t < 0).any(-1) | (x_t[:, 0] > 16) | (x_t[:, 1] > 16)
    assert 0 < int((outside & visible[0]).sum()) < int(visible.sum())
    got = motion_reprojection_loss(vt, vt1, wide_t, wide_t1, flow, visible)
    assert torch.allclose(got, _ref_motion(vt, vt1, wide_t, wide_t1, flow, visible, None, 1.0)[0])
    # the same as making the outside vertices invisible
    inside_only = visible & ~outside[None]
    assert torch.allclose(got, motion_reprojection_loss(vt, vt1, wide_t, wide_t1, flow, inside_only))


def test_invisible_and_invalid_do_not_matter_and_nan_does_not_leak():
    vt, vt1, cam_t, cam_t1, flow, visible, valid = _data(2, seed=5)
    base = motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible, valid, reduction="none")
    flow_nan = flow.clone()
    flow_nan[~valid] = float("nan")
    vt_moved = vt.clone().requires_grad_(True)
    vt1_moved = vt1.clone()
    vt1_moved[~visible] += 5.0  # invisible vertices can do anything
    got = motion_reprojection_loss(vt_moved, vt1_moved, cam_t, cam_t1, flow_nan, visible, valid, reduction="none")
    assert torch.allclose(got, base)
    got.sum().backward()
    assert torch.isfinite(vt_moved.grad).all()
    assert (vt_moved.grad[~visible] == 0).all()


def test_pairs_without_used_vertices_are_left_out():
    vt, vt1, cam_t, cam_t1, flow, visible, _ = _data(3, seed=6)
    visible[1] = False
    per = motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible, reduction="none")
    assert per[1] == 0
    assert torch.allclose(motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible), per[[0, 2]].mean())
    none_visible = torch.zeros_like(visible)
    vt.requires_grad_(True)
    loss = motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, none_visible)
    loss.backward()
    assert loss.item() == 0 and (vt.grad == 0).all()


def test_behind_the_camera_is_excluded():
    vt, vt1, cam_t, cam_t1, flow, visible, _ = _data(1, seed=7)
    # vertex 0 sits 1 m behind the camera of frame t
    vt[0, 0] = cam_t.rotation[0].T @ (torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64) - cam_t.translation()[0])
    visible[0, 0] = True
    got = motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible)
    assert torch.allclose(got, _ref_motion(vt, vt1, cam_t, cam_t1, flow, visible, None, 1.0)[0])
    hidden = visible.clone()
    hidden[0, 0] = False
    assert torch.equal(got, motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, hidden))


def test_resolution_independent_with_scale():
    """A uniform flow field at twice the resolution (and twice the focal) with scale = side."""
    vt, vt1, cam_t, cam_t1, _, visible, _ = _data(2, seed=8)
    flow = torch.tensor([1.5, -0.5], dtype=torch.float64).expand(2, 16, 16, 2).clone()
    small = motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible, scale=16.0)

    def double(c: Camera) -> Camera:
        return c.replace(focal=2 * c.focal, principal=2 * c.principal)

    big_flow = (2 * flow).repeat_interleave(2, 1).repeat_interleave(2, 2)
    big = motion_reprojection_loss(vt, vt1, double(cam_t), double(cam_t1), big_flow, visible, scale=32.0)
    assert torch.allclose(small, big)


def test_gradcheck():
    vt, vt1, cam_t, cam_t1, flow, visible, valid = _data(2, v=12, seed=9)
    vt.requires_grad_(True)
    vt1.requires_grad_(True)
    focal = cam_t1.focal.clone().requires_grad_(True)

    def f(vt, vt1, focal):
        return motion_reprojection_loss(vt, vt1, cam_t, cam_t1.replace(focal=focal), flow, visible, valid, scale=16.0)

    assert torch.autograd.gradcheck(f, (vt, vt1, focal))


def test_gradient_flows_through_the_sampling_position():
    """Only frame t moves the sampling point: with vertices_t1 fixed at x_t + flow, the loss is
    zero, and nudging frame t changes both the prediction and the sampled flow."""
    cam = identity_camera(1, focal=100.0, depth=5.0, principal=(8.0, 8.0))
    flow = torch.zeros(1, 16, 16, 2, dtype=torch.float64)
    flow[0, :, :, 0] = torch.arange(16, dtype=torch.float64)  # u~ grows with x: du~/dx = 1
    vt = torch.tensor([[[0.0, 0.0, 0.0]]], dtype=torch.float64, requires_grad=True)  # projects to (8, 8)
    # x_t = 8 samples u~ = 7.5; place x_{t+1} at 8 + 7.5 + 1 so the error is +1 in u
    vt1 = torch.tensor([[[8.5 * 5 / 100, 0.0, 0.0]]], dtype=torch.float64)
    loss = motion_reprojection_loss(vt, vt1, cam, cam, flow, torch.ones(1, 1, dtype=torch.bool))
    assert loss.item() == pytest.approx(1.0)
    loss.backward()
    # d/dx_t of |x_{t+1} - x_t - u~(x_t)| = -(1 + 1); dx_t/dX = f / z = 20
    assert vt.grad[0, 0, 0].item() == pytest.approx(-2 * 20)


def test_module_matches_function():
    args = _data(2, seed=10)
    module = MotionReprojectionLoss()
    assert torch.equal(module(*args, scale=4.0), motion_reprojection_loss(*args, scale=4.0))


def test_shape_errors():
    vt, vt1, cam_t, cam_t1, flow, visible, valid = _data(2)
    with pytest.raises(ValueError, match="vertices_t1"):
        motion_reprojection_loss(vt, vt1[:, :5], cam_t, cam_t1, flow, visible)
    with pytest.raises(ValueError, match="flow"):
        motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow[..., :1], visible)
    with pytest.raises(ValueError, match="visible_t"):
        motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible.float())
    with pytest.raises(ValueError, match="visible_t"):
        motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible[:, :3])
    with pytest.raises(ValueError, match="flow_valid"):
        motion_reprojection_loss(vt, vt1, cam_t, cam_t1, flow, visible, valid[:, :3])
    with pytest.raises(ValueError, match="camera_t1"):
        motion_reprojection_loss(vt, vt1, cam_t, cam_t1.index(slice(0, 1)), flow, visible)
