"""Where a prediction's per-joint error comes from (``selfmocap evaluate --decompose``).

An analysis of the error, not a method: it uses the ground truth's camera rotation, size and pose
to split the per-joint error (``docs/evaluation.md``) into the parts a monocular 2D signal can
and cannot see. Per frame, on the metric keypoints, in mm unless named otherwise:

* ``per_joint_mm``: the per-joint error of ``evaluate``;
* ``true_rotation_mm``: the predicted body seen with the *true* camera rotation (global
  orientation error removed);
* ``true_rotation_size_mm``: the same after the best uniform scale of the predicted body (body
  size error removed too): what is left is the articulated pose (and proportions);
* ``true_pose_mm``: the *true* articulated pose posed on the predicted shape and seen with the
  predicted rotation: the error left if the pose were perfect and size and orientation stayed
  as predicted;
* ``rotation_deg``: angle of the global orientation error ``R_pred R_true^T``; ``tilt_deg``: its
  component about the camera's x axis (camera elevation);
* ``size_pct``: ``100 |log s|`` for that best scale ``s`` (about the percentage size error);
* ``keypoints2d_px``: mean distance of the projected keypoints from the true 2D keypoints
  (visible ones), in frame pixels.

A 2D loss constrains ``keypoints2d_px`` directly; with a camera whose depth is fixed and whose
focal length is predicted, body size leaves no trace in 2D, and camera elevation only a weak one
(foreshortening, which the pose can also explain).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import roma
import torch

from selfmocap.body.model import BodyModel
from selfmocap.data.clip import Clip
from selfmocap.data.predictions import ClipPrediction
from selfmocap.body.metrics import METRIC_KEYPOINTS, mpjpe
from selfmocap.geometry.camera import Camera, camera_oriented


@dataclass(frozen=True)
class ErrorParts:
    """Per-frame parts (B,) of the error; see the module docstring."""

    per_joint_mm: torch.Tensor
    true_rotation_mm: torch.Tensor
    true_rotation_size_mm: torch.Tensor
    true_pose_mm: torch.Tensor
    rotation_deg: torch.Tensor
    tilt_deg: torch.Tensor
    size_pct: torch.Tensor



def error_parts(pred: torch.Tensor, pred_rotation: torch.Tensor, target: torch.Tensor, target_rotation: torch.Tensor,
                true_pose: torch.Tensor) -> ErrorParts:
    """Split the per-joint error of (B, K, 3) body-frame (root-centred) points.

    Args:
        pred, target: predicted and true points in the body frame, (B, K, 3) metres.
        pred_rotation, target_rotation: (B, 3, 3) camera rotations.
        true_pose: (B, K, 3) the true pose on the predicted shape, body frame.
    """
    seen_true = camera_oriented(target, target_rotation)
    with_true_rotation = camera_oriented(pred, target_rotation)
    scale = (with_true_rotation * seen_true).sum(dim=(-1, -2)) / (with_true_rotation ** 2).sum(dim=(-1, -2)).clamp_min(1e-12)
    error_rotation = roma.rotmat_to_rotvec(pred_rotation @ target_rotation.transpose(-1, -2))  # in the camera frame
    return ErrorParts(
        per_joint_mm=mpjpe(camera_oriented(pred, pred_rotation), seen_true),
        true_rotation_mm=mpjpe(with_true_rotation, seen_true),
        true_rotation_size_mm=mpjpe(scale[:, None, None] * with_true_rotation, seen_true),
        true_pose_mm=mpjpe(camera_oriented(true_pose, pred_rotation), seen_true),
        rotation_deg=torch.rad2deg(error_rotation.norm(dim=-1)),
        tilt_deg=torch.rad2deg(error_rotation[:, 0].abs()),
        size_pct=100 * scale.clamp_min(1e-12).log().abs(),
    )


@dataclass(frozen=True)
class ClipParts:
    """Per-frame parts (F,) of one clip's valid frames, numpy: :class:`ErrorParts` and ``keypoints2d_px``."""

    per_joint_mm: np.ndarray
    true_rotation_mm: np.ndarray
    true_rotation_size_mm: np.ndarray
    true_pose_mm: np.ndarray
    rotation_deg: np.ndarray
    tilt_deg: np.ndarray
    size_pct: np.ndarray
    keypoints2d_px: np.ndarray


@dataclass(frozen=True)
class PartMeans:
    """Means of the parts over valid frames (None without frames): one clip or all of them."""

    per_joint_mm: float | None
    true_rotation_mm: float | None
    true_rotation_size_mm: float | None
    true_pose_mm: float | None
    rotation_deg: float | None
    tilt_deg: float | None
    size_pct: float | None
    keypoints2d_px: float | None
    frames: int

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PartsSummary:
    """The decomposition of every clip and overall; ``to_json`` is ``"decomposition"`` of the JSON."""

    overall: PartMeans
    clips: dict[str, PartMeans]

    def to_json(self) -> dict:
        return {"overall": self.overall.to_json(), "clips": {cid: m.to_json() for cid, m in self.clips.items()}}


PART_KEYS = tuple(f.name for f in fields(ClipParts))


@torch.no_grad()
def clip_error_parts(clip: Clip, pred: ClipPrediction, body: BodyModel, true_body_model: BodyModel | None = None) -> ClipParts:
    """Per-frame :class:`ErrorParts` and 2D keypoint error of one clip, valid frames only."""
    lab = clip.labels
    truth = true_body_model or body
    idx = list(METRIC_KEYPOINTS)
    true_pose = torch.from_numpy(lab.pose)
    target = truth(true_pose, torch.from_numpy(lab.shape)[None].to(truth.default_shape.dtype)).keypoints[:, idx].double()
    pred_shape = torch.from_numpy(pred.shape)
    predicted = body(torch.from_numpy(pred.pose), pred_shape).keypoints[:, idx].double()
    posed_true = body(true_pose.to(torch.from_numpy(pred.pose).dtype), pred_shape).keypoints[:, idx].double()
    parts = error_parts(predicted, Camera.from_array(torch.from_numpy(pred.camera).double()).rotation, target,
                        Camera.from_array(torch.from_numpy(lab.camera).double()).rotation, posed_true)
    valid = pred.valid.astype(bool)
    visible = lab.keypoints2d[..., 2] > 0
    dist = np.linalg.norm(pred.keypoints2d[..., :2] - lab.keypoints2d[..., :2], axis=-1)
    per_frame = np.array([dist[t][visible[t]].mean() if visible[t].any() else np.nan for t in range(len(dist))])
    return ClipParts(**{f.name: getattr(parts, f.name).numpy()[valid] for f in fields(parts)}, keypoints2d_px=per_frame[valid])


def summarise_parts(per_clip: dict[str, ClipParts]) -> PartsSummary:
    """Means per clip and overall (over valid frames), like ``evaluate``'s summary."""
    def means(parts: dict[str, np.ndarray]) -> PartMeans:
        n = len(parts["per_joint_mm"])
        return PartMeans(**{k: (float(np.nanmean(parts[k])) if n else None) for k in PART_KEYS}, frames=n)

    joined = {k: np.concatenate([getattr(c, k) for c in per_clip.values()]) for k in PART_KEYS}
    return PartsSummary(overall=means(joined), clips={cid: means(asdict(c)) for cid, c in per_clip.items()})


def format_parts(summary: PartsSummary) -> str:
    """Markdown table of the overall parts."""
    o = summary.overall
    return "\n".join([
        "Where the per-joint error comes from (analysis with the ground truth, docs/evaluation.md):",
        "",
        "| " + " | ".join(PART_KEYS) + " | frames |",
        "|---" * (len(PART_KEYS) + 1) + "|",
        "| " + " | ".join("-" if getattr(o, k) is None else f"{getattr(o, k):.1f}" for k in PART_KEYS) + f" | {o.frames} |",
    ])
