"""3D error metrics (Sec. 4, "Evaluation metrics"), in millimetres.

Points are compared in the camera's orientation and root-centred: ``R X`` for body-frame points
``X`` (whose origin is the root joint), so a wrong global orientation counts as error while the
root translation, which the network does not predict in z, does not.

Joint set: the 17 COCO keypoints (:data:`METRIC_KEYPOINTS`), which Anny regresses linearly from
its surface (Eq. 2). They are defined on the skin the same way for every body model and every 2D
detector, where the rig's joints (spine, collar bones) are model-specific and the root joint is
zero by construction after root-centring. The paper's K = 32 H3.6M joints contain duplicates and
do not exist for Anny. Surface error uses all mesh vertices.

All functions are pure and batched: ``(..., N, 3)`` points in metres -> ``(...)`` errors in mm.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import roma
import torch

from selfmocap.body.model import BodyOutput
from selfmocap.body.names import KEYPOINT_NAMES, NUM_COCO_KEYPOINTS
from selfmocap.geometry.camera import camera_oriented

MM = 1000.0
#: Indices (into the body model's keypoints) of the points MPJPE and friends are computed on.
METRIC_KEYPOINTS: tuple[int, ...] = tuple(range(NUM_COCO_KEYPOINTS))
METRIC_KEYPOINT_NAMES: tuple[str, ...] = KEYPOINT_NAMES[:NUM_COCO_KEYPOINTS]
#: The 12 limb joints (shoulders, elbows, wrists, hips, knees, ankles; :data:`KEYPOINT_NAMES`
#: order): the points every skeleton shares by meaning, on which real data and mediapipe's world
#: landmarks are compared.
LIMB_KEYPOINT_NAMES: tuple[str, ...] = tuple(
    n for n in KEYPOINT_NAMES if n.split("_", 1)[-1] in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"))
LIMB_KEYPOINTS: tuple[int, ...] = tuple(KEYPOINT_NAMES.index(n) for n in LIMB_KEYPOINT_NAMES)
_WEISZFELD_ITERATIONS = 64
_EPS = 1e-9


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape or pred.ndim < 2 or pred.shape[-1] != 3:
        raise ValueError(f"pred and target must both be (..., N, 3), got {tuple(pred.shape)} and {tuple(target.shape)}")


def mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-joint position error ``1/K sum_k ||X_k - X~_k||`` (the paper's per-joint error), mm."""
    _check_pair(pred, target)
    return (pred - target).norm(dim=-1).mean(dim=-1) * MM


def surface_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-vertex (surface) error ``1/n sum_i ||X_i - X~_i||`` over (..., V, 3) meshes, mm."""
    return mpjpe(pred, target)


def pa_mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MPJPE after the similarity (rotation, translation, scale) that best aligns pred to target, mm."""
    _check_pair(pred, target)
    rotation, translation, scale = roma.rigid_points_registration(pred, target, compute_scaling=True)
    aligned = scale[..., None, None] * pred @ rotation.transpose(-1, -2) + translation[..., None, :]
    return mpjpe(aligned, target)


def reconstruction_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The paper's reconstruction error ``min_T 1/K sum_k ||(X_k + T) - X~_k||``, mm.

    The optimal ``-T`` is the geometric median of the differences ``X_k - X~_k``, found with
    Weiszfeld's iterations from their mean (the minimiser of the squared version).
    """
    _check_pair(pred, target)
    diff = pred - target
    median = diff.mean(dim=-2, keepdim=True)
    for _ in range(_WEISZFELD_ITERATIONS):
        weight = 1.0 / (diff - median).norm(dim=-1, keepdim=True).clamp_min(_EPS)
        median = (weight * diff).sum(dim=-2, keepdim=True) / weight.sum(dim=-2, keepdim=True)
    return (diff - median).norm(dim=-1).mean(dim=-1) * MM


def acceleration_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean error of the second finite difference over time, mm per frame^2.

    Args:
        pred, target: (..., T, N, 3) sequences of T >= 3 frames.
    Returns:
        (...) ``1/((T-2) N) sum_t,k ||a_t,k - a~_t,k||`` with ``a_t = X_{t+1} - 2 X_t + X_{t-1}``.
    """
    _check_pair(pred, target)
    if pred.ndim < 3 or pred.shape[-3] < 3:
        raise ValueError(f"acceleration needs (..., T, N, 3) with T >= 3, got {tuple(pred.shape)}")

    def accel(x: torch.Tensor) -> torch.Tensor:
        return x[..., 2:, :, :] - 2 * x[..., 1:-1, :, :] + x[..., :-2, :, :]

    return (accel(pred) - accel(target)).norm(dim=-1).mean(dim=(-1, -2)) * MM


@dataclass(frozen=True)
class BodyErrors:
    """Per-example errors (B,) in mm, named like the metrics of ``selfmocap evaluate``'s JSON
    (``docs/evaluation.md``): one set of metric names from the batch to the file."""

    per_joint_mm: torch.Tensor
    pa_mpjpe_mm: torch.Tensor
    recon_mm: torch.Tensor
    surface_mm: torch.Tensor

    def mean(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name).mean()) for f in fields(self)}


def body_errors(pred: BodyOutput, pred_rotation: torch.Tensor, target: BodyOutput, target_rotation: torch.Tensor) -> BodyErrors:
    """All per-example metrics of predicted vs true bodies (body frame) seen with their rotations (B, 3, 3)."""
    idx = list(METRIC_KEYPOINTS)
    p = camera_oriented(pred.keypoints[:, idx], pred_rotation)
    t = camera_oriented(target.keypoints[:, idx], target_rotation)
    return BodyErrors(
        per_joint_mm=mpjpe(p, t),
        pa_mpjpe_mm=pa_mpjpe(p, t),
        recon_mm=reconstruction_error(p, t),
        surface_mm=surface_error(camera_oriented(pred.vertices, pred_rotation), camera_oriented(target.vertices, target_rotation)),
    )
