"""Segmentation re-projection error (Eq. 5, and the distance-map form of Eq. 6-7, of Tung et
al., 2017): projected mesh vertices against a 2D figure-ground mask, through Chamfer distances.

Both forms work, as the paper does, at a reduced resolution (half by default: ``downsample=2``)
to bound the cost of the nearest-neighbour searches. The mask is area-downsampled (a
low-resolution pixel is foreground when at least half of it is) and points map to it by the
exact similarity ``q = p / downsample`` of the continuous pixel convention. Distances are
converted back to input pixels before normalisation, so the loss value does not depend on the
working resolution beyond the loss of detail.

Nearest neighbours are found without gradient (a k-d tree on CPU, memory-bounded chunks of
``torch.cdist`` on other devices: :func:`nearest_neighbours`), then the distances to the chosen
neighbours are recomputed with gradient: the gradient of a min is the gradient of its argmin
term, so this is exact (away from ties) and costs O(N + M) memory in the backward pass instead
of O(N M).
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy.spatial import cKDTree
from torch import nn

from selfmocap.losses._common import Reduction, check_shape, pixel_scale, reduce_frames

NearestMethod = Literal["auto", "kdtree", "brute"]

#: Default nearest-neighbour search of :func:`nearest_neighbours`.
NEAREST_METHOD: NearestMethod = "auto"

#: Most point pairs held at once by the brute-force nearest-neighbour search (16 MiB of float32).
MAX_PAIRS = 1 << 22

#: Eq. 6-7: the projected-model mask is the set of pixels within this distance (low-resolution
#: pixels) of a projected vertex.
MODEL_MASK_RADIUS = 0.5


def downsample_mask(mask: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, H, W) bool -> (B, ceil(H / factor), ceil(W / factor)) bool: foreground where at least
    half of the low-resolution pixel's area is foreground. A size that is not a multiple of
    ``factor`` is padded with background at the bottom and right (which moves no pixel: the
    continuous coordinates start at the top-left corner)."""
    check_shape("mask", mask, (None, None, None), "(B, H, W)")
    if factor < 1 or int(factor) != factor:
        raise ValueError(f"downsample factor must be a positive integer, got {factor}")
    if factor == 1:
        return mask.bool()
    h, w = mask.shape[1:]
    padded = F.pad(mask[:, None].float(), (0, -w % factor, 0, -h % factor))
    coverage = F.avg_pool2d(padded, kernel_size=factor)[:, 0]
    return coverage >= 0.5


def pixel_centres(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(H, W) bool -> (M, 2) continuous coordinates ``(j + 0.5, i + 0.5)`` of its true pixels."""
    rows, cols = torch.nonzero(mask, as_tuple=True)
    return torch.stack([cols, rows], dim=-1).to(dtype) + 0.5


def nearest_neighbours(
    a: torch.Tensor, b: torch.Tensor, method: NearestMethod | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the nearest neighbours, both ways, of (N, 2) ``a`` and (M, 2) ``b`` (N, M >= 1).

    ``method``: ``"kdtree"`` (scipy's cKDTree, O((N + M) log), about 30x faster than brute
    force on CPU for a crop's vertices and mask pixels), ``"brute"`` (``torch.cdist`` in chunks
    of at most :data:`MAX_PAIRS` pairs, on the tensors' device), or ``"auto"``: k-d tree for
    CPU tensors, brute force elsewhere. None: :data:`NEAREST_METHOD`. Equidistant neighbours
    may be broken differently by the two methods (same distances).

    Returns:
        (N,) index into ``b`` of each point of ``a``'s nearest, and (M,) index into ``a`` of each
        point of ``b``'s nearest. No gradient (use the indices to gather).
    """
    method = method or NEAREST_METHOD
    if method == "auto":
        method = "kdtree" if a.device.type == "cpu" else "brute"
    a, b = a.detach(), b.detach()
    if method == "kdtree":
        a_np, b_np = a.cpu().double().numpy(), b.cpu().double().numpy()
        _, a_to_b = cKDTree(b_np).query(a_np, k=1)
        _, b_to_a = cKDTree(a_np).query(b_np, k=1)
        return (torch.from_numpy(np.asarray(a_to_b, np.int64)).to(a.device),
                torch.from_numpy(np.asarray(b_to_a, np.int64)).to(a.device))
    if method != "brute":
        raise ValueError(f"method must be 'auto', 'kdtree' or 'brute', got {method!r}")
    with torch.no_grad():
        n, m = len(a), len(b)
        chunk = max(1, MAX_PAIRS // max(m, 1))
        a_to_b = torch.empty(n, dtype=torch.long, device=a.device)
        best_b = torch.full((m,), float("inf"), dtype=a.dtype, device=a.device)
        b_to_a = torch.zeros(m, dtype=torch.long, device=a.device)
        for start in range(0, n, chunk):
            d = torch.cdist(a[start : start + chunk], b)  # (c, M)
            a_to_b[start : start + chunk] = d.argmin(dim=1)
            col_best, col_arg = d.min(dim=0)
            better = col_best < best_b
            best_b = torch.where(better, col_best, best_b)
            b_to_a = torch.where(better, col_arg + start, b_to_a)
    return a_to_b, b_to_a


def _prepare(points2d, mask, visible, downsample, scale):
    """Shared checks; returns (B,) scale, the low-resolution mask and the used-point mask."""
    check_shape("points2d", points2d, (None, None, 2), "(B, N, 2)")
    b, n = points2d.shape[:2]
    check_shape("mask", mask, (b, None, None), f"(B, H, W) with B = {b}")
    if visible is None:
        visible = torch.ones(b, n, dtype=torch.bool, device=points2d.device)
    check_shape("visible", visible, (b, n), f"(B, N) = ({b}, {n})")
    if visible.dtype != torch.bool:
        raise ValueError(f"visible must be a bool mask, got {visible.dtype}")
    mask_lr = downsample_mask(mask.to(points2d.device).bool(), downsample)
    return pixel_scale(scale, b, points2d), mask_lr, visible.to(points2d.device)


def segmentation_chamfer_loss(
    points2d: torch.Tensor,
    mask: torch.Tensor,
    visible: torch.Tensor | None = None,
    *,
    downsample: int = 2,
    scale: float | torch.Tensor = 1.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Eq. 5, the two-sided Chamfer distance between projected vertices and mask pixels::

        L_b = d^2 / s_b^2 * ( 1/n sum_i min_p ||x_2d^i - x_seg^p||^2      (over-coverage)
                            + 1/m sum_p min_i ||x_seg^p - x_2d^i||^2 )    (under-coverage)

    ``x_2d^i`` are the n used (visible) projected vertices and ``x_seg^p`` the centres of the m
    foreground pixels, both at ``1/d`` resolution (``d = downsample``; the paper uses half).

    Normalisation (the paper writes sums): means instead of sums, because n (visible vertices,
    thousands) and m (foreground pixels, which grows with the person's size and the resolution
    squared) differ by orders of magnitude and vary frame to frame; with sums one side dominates
    and the weight depends on the resolution. Each mean is a mean squared distance, brought back
    to input pixels by ``d^2`` and divided by ``s^2`` (e.g. the crop side) so a weight works at
    any resolution. n and m do not depend on the prediction, so this only rescales the
    gradient of each side.

    A frame whose (downsampled) mask is empty, or that has no used point, carries no
    segmentation evidence: it gives zero and is left out of the batch mean (``docs/losses.md``).

    Args:
        points2d: (B, N, 2) projected vertices in the mask's pixels (``project(vertices, camera)``),
            finite where used.
        mask: (B, H, W) bool figure-ground segmentation S^I.
        visible: optional (B, N) bool, the vertices to use (the paper: the visible ones). None: all.
        downsample: integer resolution divisor d (2: the paper's half resolution).
        scale: pixel scale s in input pixels, a float or (B,) tensor. 1: plain pixels.
        reduction: ``"mean"`` over frames with evidence, or ``"none"``: (B,).

    Returns:
        () loss, or (B,) per frame with ``reduction="none"``.
    """
    s, mask_lr, visible = _prepare(points2d, mask, visible, downsample, scale)
    per_frame, evidence = [], []
    for b in range(points2d.shape[0]):
        pts = points2d[b][visible[b]] / downsample
        seg = pixel_centres(mask_lr[b], points2d.dtype)
        if len(pts) == 0 or len(seg) == 0:
            per_frame.append(points2d[b].sum() * 0)
            evidence.append(False)
            continue
        to_seg, to_pts = nearest_neighbours(pts, seg)
        over = ((pts - seg[to_seg]) ** 2).sum(-1).mean()
        under = ((seg - pts[to_pts]) ** 2).sum(-1).mean()
        per_frame.append((over + under) * downsample**2 / s[b] ** 2)
        evidence.append(True)
    has_evidence = torch.tensor(evidence, device=points2d.device)
    return reduce_frames(torch.stack(per_frame), has_evidence, reduction)


def mask_distance_transform(mask: torch.Tensor) -> torch.Tensor:
    """C^I: (H, W) bool -> (H, W) Euclidean distance (pixels) from each pixel centre to the
    nearest foreground pixel centre (0 on the foreground), by ``cv2.distanceTransform``
    (``DIST_L2``, ``DIST_MASK_PRECISE``: exact). The mask must have a foreground pixel."""
    m = mask.detach().cpu().numpy().astype(bool)
    if not m.any():
        raise ValueError("the distance transform of an empty mask is undefined")
    dist = cv2.distanceTransform((~m).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return torch.from_numpy(dist).to(mask.device)


def model_distance_maps(points2d: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Eq. 6-7 from the distance ``D(p)`` of each pixel centre p to the nearest point::

        C^M(p) = max(0.5, D(p))
        S^M(p) = 0.5 - min(0.5, D(p)) + delta(D(p) < 0.5) * 0.5  =  delta(D(p) < 0.5) (1 - D(p))

    The paper prints ``S^M(p) = min(0.5, D(p)) + delta(D(p) < 0.5) * 0.5``. Read literally that
    is ``0.5 + D`` on the model and ``0.5`` off it: larger on the model's own pixels, and growing
    as a vertex moves *away* from a pixel centre, so minimising ``S^M (x) C^I`` would pull
    vertices onto background pixels (more over-coverage), the opposite of the term's purpose.
    We read a dropped ``0.5 -``: a soft mask, 1 at a vertex, 0.5 at the radius, 0 off the model.

    Args:
        points2d: (N, 2) points in pixels of the (height, width) grid, N >= 1.

    Returns:
        C^M and S^M, each (height, width), differentiable in ``points2d``.
    """
    grid = pixel_centres(torch.ones(height, width, dtype=torch.bool, device=points2d.device), points2d.dtype)
    _, to_pts = nearest_neighbours(points2d, grid)
    d2 = ((grid - points2d[to_pts]) ** 2).sum(-1)
    # clamp: a zero distance has no direction (its gradient is set to zero, not NaN)
    dist = d2.clamp_min(torch.finfo(d2.dtype).tiny).sqrt().reshape(height, width)
    r = MODEL_MASK_RADIUS
    chamfer = dist.clamp_min(r)
    inside = dist < r
    soft_mask = torch.where(inside, 1 - dist, torch.zeros_like(dist))
    return chamfer, soft_mask


def segmentation_distance_map_loss(
    points2d: torch.Tensor,
    mask: torch.Tensor,
    visible: torch.Tensor | None = None,
    *,
    downsample: int = 2,
    scale: float | torch.Tensor = 1.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""The segmentation loss in its distance-map form (section 3.1 and section 4, Eq. 6-7)::

        L_b = d / (s_b m) * sum_p ( S^M(p) C^I(p) + S^I(p) C^M(p) )

    over the pixels p of the ``1/d``-resolution grid: ``S^I`` the image mask, ``C^I`` its
    distance transform (:func:`mask_distance_transform`), ``C^M, S^M`` the thresholded
    distance map of the used projected vertices (:func:`model_distance_maps`). The first
    term penalises model pixels off the image mask (over-coverage), the second image-mask
    pixels far from the model (under-coverage).

    Normalisation: the paper sums over pixels; we divide by m, the number of foreground pixels
    of ``S^I`` (a constant of the frame, so the gradient is only rescaled), which makes the value
    a mean distance per foreground pixel, independent of resolution and person size. ``d / s``
    converts distances to input pixels then to units of ``s`` (this form is linear in distance).

    Gradients: ``C^I`` is a fixed map, so the over-coverage side moves vertices only through
    the soft edge of ``S^M`` (pushing a vertex off a background pixel's centre), a weak signal;
    :func:`segmentation_chamfer_loss` (Eq. 5) pulls stray vertices straight to the mask and is
    the recommended form for adaptation. Frames with an empty mask or no used point give zero
    and are left out of the mean.

    Args and Returns: as :func:`segmentation_chamfer_loss`.
    """
    s, mask_lr, visible = _prepare(points2d, mask, visible, downsample, scale)
    h, w = mask_lr.shape[1:]
    per_frame, evidence = [], []
    for b in range(points2d.shape[0]):
        pts = points2d[b][visible[b]] / downsample
        m = int(mask_lr[b].sum())
        if len(pts) == 0 or m == 0:
            per_frame.append(points2d[b].sum() * 0)
            evidence.append(False)
            continue
        image_chamfer = mask_distance_transform(mask_lr[b]).to(points2d.dtype)
        model_chamfer, model_mask = model_distance_maps(pts, h, w)
        image_mask = mask_lr[b].to(points2d.dtype)
        total = (model_mask * image_chamfer).sum() + (image_mask * model_chamfer).sum()
        per_frame.append(total * downsample / (s[b] * m))
        evidence.append(True)
    has_evidence = torch.tensor(evidence, device=points2d.device)
    return reduce_frames(torch.stack(per_frame), has_evidence, reduction)


class SegmentationChamferLoss(nn.Module):
    """Module form of :func:`segmentation_chamfer_loss` (holds ``downsample`` and the reduction)."""

    def __init__(self, downsample: int = 2, reduction: Reduction = "mean"):
        super().__init__()
        self.downsample, self.reduction = downsample, reduction

    def forward(self, points2d, mask, visible=None, *, scale=1.0):
        return segmentation_chamfer_loss(points2d, mask, visible, downsample=self.downsample, scale=scale,
                                         reduction=self.reduction)


class SegmentationDistanceMapLoss(nn.Module):
    """Module form of :func:`segmentation_distance_map_loss`."""

    def __init__(self, downsample: int = 2, reduction: Reduction = "mean"):
        super().__init__()
        self.downsample, self.reduction = downsample, reduction

    def forward(self, points2d, mask, visible=None, *, scale=1.0):
        return segmentation_distance_map_loss(points2d, mask, visible, downsample=self.downsample, scale=scale,
                                              reduction=self.reduction)
