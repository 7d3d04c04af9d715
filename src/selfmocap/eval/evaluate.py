"""``selfmocap evaluate``: compare a predictions folder with the clips' 3D ground truth.

Protocol (``docs/evaluation.md``): points are compared root-centred in the camera's orientation
(``R X``), on the 17 COCO keypoints (:data:`~selfmocap.eval.metrics.METRIC_KEYPOINTS`); surface
error uses every mesh vertex, regenerated from the predicted pose and shape with the body model.
Frames a method marked invalid (no person detected) are left out and counted.

The JSON written with ``--json`` is a stable interface::

    {"overall": {"surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm", "frames"},
     "clips": {CLIP_ID: {same keys}}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from selfmocap import config as cfg
from selfmocap.body import load_body_model
from selfmocap.body.model import BodyModel, BodyOutput
from selfmocap.data.clip import Clip, list_clips
from selfmocap.data.predictions import ClipPrediction, read_prediction
from selfmocap.eval.metrics import METRIC_KEYPOINTS, acceleration_error, body_errors, camera_oriented
from selfmocap.geometry.camera import euler_to_rotmat

METRIC_KEYS = ("surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm", "frames")


@dataclass(frozen=True)
class EvaluateConfig:
    pred: Path = cfg.field(help="predictions folder (written by predict, adapt or optimize)")
    data: Path = cfg.field(help="the clips the predictions are for, with their ground truth")
    json: Path | None = cfg.field(None, help="also write the metrics as JSON to this file")


def _double(out: BodyOutput) -> BodyOutput:
    return BodyOutput(vertices=out.vertices.double(), joints=out.joints.double(), keypoints=out.keypoints.double())


@torch.no_grad()
def clip_errors(clip: Clip, pred: ClipPrediction, body: BodyModel) -> dict[str, np.ndarray | float]:
    """Per-frame errors (T,) of one clip in mm (only frames the prediction marks valid) and its
    acceleration error."""
    lab = clip.labels
    if len(pred.pose) != len(clip):
        raise ValueError(f"prediction for {clip.meta.clip_id} has {len(pred.pose)} frames, the clip has {len(clip)}")
    true_rot = euler_to_rotmat(torch.from_numpy(lab.camera[:, 1:4]).double())
    pred_rot = euler_to_rotmat(torch.from_numpy(pred.camera[:, 1:4]).double())
    true_body = _double(body(torch.from_numpy(lab.pose), torch.from_numpy(lab.shape)[None]))
    pred_body = _double(body(torch.from_numpy(pred.pose), torch.from_numpy(pred.shape)))
    errors = body_errors(pred_body, pred_rot, true_body, true_rot)
    valid = torch.from_numpy(pred.valid.astype(bool))
    out: dict[str, np.ndarray | float] = {
        "surface_mm": errors.surface[valid].numpy(),
        "per_joint_mm": errors.mpjpe[valid].numpy(),
        "recon_mm": errors.reconstruction[valid].numpy(),
        "pa_mpjpe_mm": errors.pa_mpjpe[valid].numpy(),
    }
    idx = list(METRIC_KEYPOINTS)
    p_kp = camera_oriented(pred_body.keypoints[:, idx], pred_rot)
    t_kp = camera_oriented(true_body.keypoints[:, idx], true_rot)
    out["accel_mm"] = float(acceleration_error(p_kp, t_kp)) if len(clip) >= 3 else float("nan")
    return out


def summarise(per_clip: dict[str, dict]) -> dict:
    """Means per clip and overall (frame-weighted; acceleration weighted by frames too)."""
    clips = {}
    for cid, e in per_clip.items():
        n = len(e["per_joint_mm"])
        clips[cid] = {k: (float(np.mean(e[k])) if n else None) for k in METRIC_KEYS[:4]}
        clips[cid]["accel_mm"] = None if np.isnan(e["accel_mm"]) else e["accel_mm"]
        clips[cid]["frames"] = n
    total = sum(c["frames"] for c in clips.values())
    overall = {}
    for k in METRIC_KEYS[:4]:
        overall[k] = float(np.concatenate([e[k] for e in per_clip.values()]).mean()) if total else None
    accel = [(c["accel_mm"], c["frames"]) for c in clips.values() if c["accel_mm"] is not None and c["frames"]]
    overall["accel_mm"] = float(sum(a * n for a, n in accel) / sum(n for _, n in accel)) if accel else None
    overall["frames"] = total
    return {"overall": overall, "clips": clips}


def evaluate(pred_dir: Path, data: Path, body: BodyModel | None = None) -> dict:
    """Metrics of every clip in ``data`` that has a prediction in ``pred_dir``."""
    body = body or load_body_model()
    clips = list_clips(data)
    found = {c.meta.clip_id: c for c in clips if (Path(pred_dir) / f"{c.meta.clip_id}.npz").is_file()}
    if not found:
        raise FileNotFoundError(f"no predictions in {pred_dir} match the clips of {data} (expected files like {clips[0].meta.clip_id}.npz)")
    per_clip = {cid: clip_errors(c, read_prediction(Path(pred_dir) / f"{cid}.npz"), body) for cid, c in sorted(found.items())}
    return summarise(per_clip)


def format_table(result: dict) -> str:
    """Markdown table of the overall and per-clip metrics."""
    def fmt(v):
        return "-" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))

    lines = ["| clip | " + " | ".join(METRIC_KEYS) + " |", "|---" * (len(METRIC_KEYS) + 1) + "|"]
    for cid, m in result["clips"].items():
        lines.append(f"| {cid} | " + " | ".join(fmt(m[k]) for k in METRIC_KEYS) + " |")
    lines.append("| **overall** | " + " | ".join(fmt(result["overall"][k]) for k in METRIC_KEYS) + " |")
    return "\n".join(lines)


def run_evaluate(config: EvaluateConfig) -> dict:
    result = evaluate(config.pred, config.data)
    print(format_table(result))
    if config.json is not None:
        cfg.atomic_write_text(config.json, json.dumps(result, indent=1))
    return result
