"""Keypoint re-projection error (Eq. 2-4 of Tung et al., 2017)."""

from __future__ import annotations

import torch
from torch import nn

from selfmocap.geometry.camera import Camera, project
from selfmocap.losses._common import Reduction, check_shape, pixel_scale, reduce_frames


def keypoint_reprojection_loss(
    keypoints3d: torch.Tensor,
    camera: Camera,
    keypoints2d: torch.Tensor,
    confidence: torch.Tensor | None = None,
    *,
    scale: float | torch.Tensor = 1.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Eq. 4, confidence weighted: the body's 3D keypoints projected with the predicted camera
    against 2D keypoints (ground truth or detected).

    ``x_kpt^k = P (R X_kpt^k + T)`` (Eq. 3, :func:`~selfmocap.geometry.camera.project`) with
    ``X_kpt = A X`` (Eq. 2, the body model's regressor), and per frame b::

        L_b = sum_k c_bk ||x_kpt^bk - x~_kpt^bk||_2^2  /  (s_b^2 sum_k c_bk)

    Normalisation: dividing by the confidence sum makes the loss a weighted *mean* squared error,
    so it does not grow with the number of detected keypoints and a frame with few detections
    weighs as much as one with many. Dividing by ``s_b^2`` (``scale``, e.g. the crop side in
    pixels) expresses errors in crop sides, so the same weight works at any resolution.

    Args:
        keypoints3d: (B, K, 3) body-frame keypoints (``BodyOutput.keypoints``).
        camera: B predicted cameras, in the pixel frame of ``keypoints2d``.
        keypoints2d: (B, K, 2) target pixels (continuous convention). Entries whose confidence
            is zero may hold anything, NaN included.
        confidence: (B, K) non-negative weights: detector scores or 0/1 visibility
            (``labels.keypoints2d[..., 2]``). None: all ones.
        scale: pixel scale s, a float or (B,) tensor (e.g. crop side). 1: plain pixels.
        reduction: ``"mean"`` over frames with positive confidence sum, or ``"none"``: (B,).

    Returns:
        () loss, or (B,) per frame with ``reduction="none"`` (zero for frames without confidence).
    """
    check_shape("keypoints3d", keypoints3d, (camera.batch_size, None, 3), "(B, K, 3) with B cameras")
    b, k = keypoints3d.shape[:2]
    check_shape("keypoints2d", keypoints2d, (b, k, 2), f"(B, K, 2) = ({b}, {k}, 2); slice [..., :2] "
                "and pass a visibility column as confidence")
    if confidence is None:
        confidence = torch.ones(b, k, dtype=keypoints3d.dtype, device=keypoints3d.device)
    check_shape("confidence", confidence, (b, k), f"(B, K) = ({b}, {k})")
    confidence = confidence.to(keypoints3d.dtype)
    if bool((confidence < 0).any()):
        raise ValueError("confidence must be non-negative")
    s = pixel_scale(scale, b, keypoints3d)

    used = confidence > 0
    target = keypoints2d.to(keypoints3d.dtype)
    target = torch.where(used[..., None], target, torch.zeros_like(target))  # NaN-free where unused
    residual = project(keypoints3d, camera) - target
    squared = torch.where(used, (residual**2).sum(-1), torch.zeros_like(confidence))  # (B, K)
    total_confidence = confidence.sum(-1)  # (B,)
    has_evidence = total_confidence > 0
    per_frame = (confidence * squared).sum(-1) / (total_confidence.clamp_min(torch.finfo(s.dtype).tiny) * s**2)
    return reduce_frames(per_frame, has_evidence, reduction)


class KeypointReprojectionLoss(nn.Module):
    """Module form of :func:`keypoint_reprojection_loss` (holds the reduction)."""

    def __init__(self, reduction: Reduction = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, keypoints3d, camera, keypoints2d, confidence=None, *, scale=1.0):
        return keypoint_reprojection_loss(keypoints3d, camera, keypoints2d, confidence, scale=scale,
                                          reduction=self.reduction)
