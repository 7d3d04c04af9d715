"""3D keypoint term against a 3D pose estimate whose frame is only known up to a similarity:
mediapipe's metric ``pose_world_landmarks`` (not in the paper; ``docs/losses.md``).

mediapipe's world landmarks are hip-centred metric 3D from a model trained on real people. Their
axes follow the camera only roughly and their size is an estimate, so the term compares shapes
of the pose, not placement: per frame, the similarity (rotation ``R``, translation ``t``, scale
``s``) that best aligns the predicted keypoints ``X`` to the target ``Y`` in the weighted
least-squares sense (Umeyama, ``roma.rigid_points_registration``) is found first, then

    L = 1/F sum_frames  sum_k w_k ||s R X_k + t - Y_k||^2 / (sum_k w_k * L0^2)

over the F frames with any weight, ``L0 = REFERENCE_LENGTH`` (2 m, about a person's crop side in
metres, so the value reads like the 2D terms' squared crop sides). ``R, t, s`` are computed
without gradient: at the optimum their partial derivatives vanish, so the gradient with respect
to ``X`` is the same as through the alignment (checked in the tests), and the term can neither
rotate, move nor resize the body, only articulate it.
"""

from __future__ import annotations

from typing import Literal, get_args

import roma
import torch

#: How the prediction is aligned to the target before comparing: ``similarity`` (rotation,
#: translation and scale free: the pose's shape only) or ``scale`` (translation and scale free:
#: the target's orientation in the camera frame counts too; pass camera-oriented predictions).
WorldAlignment = Literal["similarity", "scale"]
WORLD_ALIGNMENTS: tuple[str, ...] = get_args(WorldAlignment)

#: Length that normalises the 3D distances (metres): about the side of a person's crop.
REFERENCE_LENGTH = 2.0
#: Fewest weighted keypoints a frame needs to count (an alignment of fewer is degenerate).
MIN_KEYPOINTS = 4


def similarity_align(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(N, K, 3) ``pred`` mapped by the weighted similarity that best aligns it to ``target``.

    ``weight`` is (N, K), non-negative. The similarity is computed without gradient; the mapping
    of ``pred`` by it is differentiable."""
    with torch.no_grad():
        w = weight.detach().to(pred.dtype) + 1e-9  # roma needs positive total weight per frame
        rotation, translation, scale = roma.rigid_points_registration(
            pred.detach(), target.to(pred.dtype), weights=w, compute_scaling=True)
    return scale[:, None, None] * pred @ rotation.transpose(-1, -2) + translation[:, None, :]


def scale_align(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(N, K, 3) ``pred`` mapped by the weighted translation and scale (no rotation) that best
    align it to ``target``; computed without gradient like :func:`similarity_align`."""
    with torch.no_grad():
        w = (weight.detach().to(pred.dtype) + 1e-9)[..., None]
        p_mean = (w * pred.detach()).sum(1, keepdim=True) / w.sum(1, keepdim=True)
        q_mean = (w * target.to(pred.dtype)).sum(1, keepdim=True) / w.sum(1, keepdim=True)
        p, q = pred.detach() - p_mean, target.to(pred.dtype) - q_mean
        scale = (w * p * q).sum((1, 2)) / (w * p * p).sum((1, 2)).clamp_min(1e-12)
    return scale[:, None, None] * (pred - p_mean) + q_mean


def world_keypoint_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor,
                        align: WorldAlignment = "similarity") -> torch.Tensor:
    """The aligned 3D keypoint term (see the module docstring).

    Args:
        pred: (N, K, 3) predicted keypoints, metres, any frame (body frame is fine).
        target: (N, K, 3) 3D estimate of the same keypoints, metres, its own frame.
        weight: (N, K) confidence in [0, 1]; 0 where the target has no keypoint.
        align: ``similarity``, or ``scale`` for predictions in the target's orientation (camera
            axes for mediapipe), so that the term also turns the body.

    Returns:
        () scalar; zero (with a gradient path) when no frame has ``MIN_KEYPOINTS`` weighted points.
    """
    if pred.ndim != 3 or pred.shape[-1] != 3 or target.shape != pred.shape or weight.shape != pred.shape[:2]:
        raise ValueError(f"expected pred, target (N, K, 3) and weight (N, K), got {tuple(pred.shape)}, "
                         f"{tuple(target.shape)}, {tuple(weight.shape)}")
    weight = weight.to(pred.dtype)
    usable = (weight > 0).sum(dim=1) >= MIN_KEYPOINTS
    if not bool(usable.any()):
        return pred.sum() * 0.0
    pred, target, weight = pred[usable], target[usable].to(pred.dtype), weight[usable]
    if align not in WORLD_ALIGNMENTS:
        raise ValueError(f"align must be 'similarity' or 'scale', got {align!r}")
    aligned = (similarity_align if align == "similarity" else scale_align)(pred, target, weight)
    squared = ((aligned - target) ** 2).sum(dim=-1)
    per_frame = (weight * squared).sum(dim=1) / weight.sum(dim=1)
    return per_frame.mean() / REFERENCE_LENGTH**2


class WorldKeypointLoss(torch.nn.Module):
    """Module form of :func:`world_keypoint_loss`."""

    def __init__(self, align: WorldAlignment = "similarity"):
        super().__init__()
        self.align = align

    def forward(self, pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return world_keypoint_loss(pred, target, weight, self.align)
