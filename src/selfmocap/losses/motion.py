"""Motion re-projection error (section 3.1 of Tung et al., 2017): projected 3D vertex motion
against 2D optical flow."""

from __future__ import annotations

import torch
from torch import nn

from selfmocap.geometry.camera import Camera, project_camera_space, to_camera_space
from selfmocap.losses._common import Reduction, check_shape, pixel_scale, reduce_frames

#: A vertex's flow counts as valid when the bilinear weights of its valid flow pixels sum to at
#: least this (1 up to rounding: every pixel the sample draws on is valid).
VALID_SAMPLE_THRESHOLD = 0.999


def bilinear_sample(image: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Differentiable bilinear interpolation of a pixel-centred image at sub-pixel points.

    Continuous pixel convention (``docs/conventions.md``): pixel (row i, column j) holds the
    value at ``(j + 0.5, i + 0.5)``, so sampling at a pixel centre returns that pixel exactly
    (in any dtype). Outside the outermost pixel centres the coordinates are clamped (border
    values, zero gradient in the position). This is ``grid_sample(..., align_corners=False,
    padding_mode="border")`` written out with gathers, because grid_sample's normalisation
    round trip ``2 x / W - 1`` is inexact in float32 (about 1e-5 px off at pixel centres for
    sizes that are not powers of two). Differentiable in ``image`` and in ``points`` (the
    paper's "differentiable bilinear interpolation (differentiable warping)").

    Args:
        image: (B, H, W, C) values at pixel centres.
        points: (B, N, 2) pixel coordinates ``(x, y)``.

    Returns:
        (B, N, C) interpolated values, in the dtype of ``points``.
    """
    check_shape("image", image, (None, None, None, None), "(B, H, W, C)")
    b, h, w, c = image.shape
    check_shape("points", points, (b, None, 2), f"(B, N, 2) with B = {b}")
    image = image.to(points.dtype).reshape(b, h * w, c)
    x = (points[..., 0] - 0.5).clamp(0, w - 1)  # index coordinates: centres at integers
    y = (points[..., 1] - 0.5).clamp(0, h - 1)
    x0 = x.detach().floor().clamp(0, max(w - 2, 0))
    y0 = y.detach().floor().clamp(0, max(h - 2, 0))
    ax, ay = (x - x0)[..., None], (y - y0)[..., None]
    x0, y0 = x0.long(), y0.long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)

    def tap(row: torch.Tensor, col: torch.Tensor) -> torch.Tensor:
        return image.gather(1, (row * w + col)[..., None].expand(-1, -1, c))

    top = (1 - ax) * tap(y0, x0) + ax * tap(y0, x1)
    bottom = (1 - ax) * tap(y1, x0) + ax * tap(y1, x1)
    return (1 - ay) * top + ay * bottom


def motion_reprojection_loss(
    vertices_t: torch.Tensor,
    vertices_t1: torch.Tensor,
    camera_t: Camera,
    camera_t1: Camera,
    flow: torch.Tensor,
    visible_t: torch.Tensor,
    flow_valid: torch.Tensor | None = None,
    *,
    scale: float | torch.Tensor = 1.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Section 3.1's motion re-projection error, one frame pair (t, t+1) per batch entry::

        L_b = 1 / (s_b 1^T v) * sum_i v_i ( |u_i - u~(x_t^i)| + |v_i - v~(x_t^i)| )

    with ``x_t^i``, ``x_{t+1}^i`` vertex i projected by Eq. 3 in each frame, the predicted 2D
    body flow ``(u_i, v_i) = x_{t+1}^i - x_t^i`` and the optical flow ``(u~, v~)`` bilinearly
    sampled at the sub-pixel ``x_t^i`` (:func:`bilinear_sample`; the gradient flows through the
    sampling position too).

    ``v_i`` is the paper's visibility in frame t (a mask: no gradient) further restricted to
    vertices in front of both cameras, projecting inside the flow image
    (``0 <= x <= W, 0 <= y <= H`` in frame t) and, when ``flow_valid`` is given, whose bilinear
    sample draws only on valid flow pixels. The paper normalises by the visible count
    ``1^T v``; dividing by the pixel scale ``s`` (e.g. the person's box side in flow pixels)
    expresses the L1 error in box sides, so the weight is resolution independent.

    Args:
        vertices_t, vertices_t1: (B, V, 3) body-frame vertices at t and t+1.
        camera_t, camera_t1: B cameras each, in the pixel frame of ``flow``. Flow is measured
            between whole frames, so these must be full-frame cameras
            (``CropBox.camera_to_frame``), not two different crops' cameras.
        flow: (B, H, W, 2) forward flow t -> t+1 in pixels (``I_t(p) ~ I_{t+1}(p + flow(p))``).
        visible_t: (B, V) bool vertex visibility at t (``render.visibility.vertex_visibility``).
        flow_valid: optional (B, H, W) bool, where the flow can be trusted (non-finite flow
            values must be marked invalid).
        scale: pixel scale s, a float or (B,) tensor. 1: plain pixels.
        reduction: ``"mean"`` over pairs with at least one used vertex, or ``"none"``: (B,).

    Returns:
        () loss, or (B,) per pair with ``reduction="none"`` (zero for pairs without used vertices).
    """
    b = camera_t.batch_size
    check_shape("vertices_t", vertices_t, (b, None, 3), f"(B, V, 3) with B = {b} cameras")
    check_shape("vertices_t1", vertices_t1, tuple(vertices_t.shape), f"{tuple(vertices_t.shape)} like vertices_t")
    if camera_t1.batch_size != b:
        raise ValueError(f"camera_t1 must hold B = {b} cameras, got {camera_t1.batch_size}")
    check_shape("flow", flow, (b, None, None, 2), f"(B, H, W, 2) with B = {b}")
    h, w = flow.shape[1:3]
    check_shape("visible_t", visible_t, (b, vertices_t.shape[1]), f"(B, V) = ({b}, {vertices_t.shape[1]})")
    if visible_t.dtype != torch.bool:
        raise ValueError(f"visible_t must be a bool mask, got {visible_t.dtype}")
    if flow_valid is not None:
        check_shape("flow_valid", flow_valid, (b, h, w), f"(B, H, W) = ({b}, {h}, {w})")
    s = pixel_scale(scale, b, vertices_t)
    dtype = vertices_t.dtype

    cam_t, cam_t1 = to_camera_space(vertices_t, camera_t), to_camera_space(vertices_t1, camera_t1)
    in_front = (cam_t[..., 2] > 0) & (cam_t1[..., 2] > 0)
    safe = in_front[..., None]
    one = torch.ones_like(cam_t)
    x_t = project_camera_space(torch.where(safe, cam_t, one), camera_t)
    x_t1 = project_camera_space(torch.where(safe, cam_t1, one), camera_t1)
    with torch.no_grad():
        inside = (x_t[..., 0] >= 0) & (x_t[..., 0] <= w) & (x_t[..., 1] >= 0) & (x_t[..., 1] <= h)
    used = visible_t.to(in_front.device) & in_front & inside
    x_t = torch.where(used[..., None], x_t, torch.zeros_like(x_t))  # sample only where it is used

    flow = flow.to(device=vertices_t.device, dtype=dtype)
    if flow_valid is not None:
        flow_valid = flow_valid.to(flow.device)
        flow = torch.where(flow_valid[..., None], flow, torch.zeros_like(flow))
        with torch.no_grad():
            valid_weight = bilinear_sample(flow_valid[..., None].to(dtype), x_t.detach())[..., 0]
        used = used & (valid_weight >= VALID_SAMPLE_THRESHOLD)
    observed = bilinear_sample(flow, x_t)  # (B, V, 2)
    error = (x_t1 - x_t - observed).abs().sum(-1)  # (B, V) L1 over (u, v)
    error = torch.where(used, error, torch.zeros_like(error))
    count = used.sum(-1)
    per_frame = error.sum(-1) / (count.clamp_min(1).to(dtype) * s)
    return reduce_frames(per_frame, count > 0, reduction)


class MotionReprojectionLoss(nn.Module):
    """Module form of :func:`motion_reprojection_loss` (holds the reduction)."""

    def __init__(self, reduction: Reduction = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, vertices_t, vertices_t1, camera_t, camera_t1, flow, visible_t, flow_valid=None, *, scale=1.0):
        return motion_reprojection_loss(vertices_t, vertices_t1, camera_t, camera_t1, flow, visible_t, flow_valid,
                                        scale=scale, reduction=self.reduction)
