"""``selfmocap evaluate``: compare a predictions folder with the clips' 3D ground truth.

Protocol (``docs/evaluation.md``): points are compared root-centred in the camera's orientation
(``R X``), on the 17 COCO keypoints (:data:`~selfmocap.eval.metrics.METRIC_KEYPOINTS`); surface
error uses every mesh vertex, regenerated from the predicted pose and shape with the body model.
Frames a method marked invalid (no person detected) are left out and counted.

Body model: the one the clips record (their ground truth's); predictions made with another body
model are refused. For SMPL the true bodies use the clip's gender file when the SMPL path is a
folder holding it (SURREAL's ground truth is gendered), the predictions the neutral one.

The JSON written with ``--json`` is a stable interface::

    {"overall": {"surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm", "frames"},
     "clips": {CLIP_ID: {same keys}}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from selfmocap import config as cfg
from selfmocap.body import BodyModelConfig
from selfmocap.body.model import BodyModel, BodyOutput
from selfmocap.data.clip import Clip, clips_body_model, list_clips
from selfmocap.data.predictions import ClipPrediction, prediction_path, read_prediction
from selfmocap.eval.decompose import clip_error_parts, format_parts, summarise_parts
from selfmocap.eval.metrics import METRIC_KEYPOINTS, acceleration_error, body_errors, camera_oriented
from selfmocap.geometry.camera import euler_to_rotmat
from selfmocap.io import write_json

METRIC_KEYS = ("surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm", "frames")


@dataclass(frozen=True)
class EvaluateConfig:
    pred: Path = cfg.field(help="predictions folder (written by predict, adapt or optimize)")
    data: Path = cfg.field(help="the clips the predictions are for, with their ground truth")
    json: Path | None = cfg.field(None, help="also write the metrics as JSON to this file")
    decompose: bool = cfg.field(False, help="also split the per-joint error into global orientation, body size and pose (analysis, eval/decompose.py)")
    body: BodyModelConfig = field(default_factory=BodyModelConfig)


def _double(out: BodyOutput) -> BodyOutput:
    return BodyOutput(vertices=out.vertices.double(), joints=out.joints.double(), keypoints=out.keypoints.double())


@torch.no_grad()
def clip_errors(clip: Clip, pred: ClipPrediction, body: BodyModel, true_body_model: BodyModel | None = None) -> dict[str, np.ndarray | float]:
    """Per-frame errors (T,) of one clip in mm (only frames the prediction marks valid) and its
    acceleration error. The ground truth is posed with ``true_body_model`` (default ``body``:
    SMPL's gender files share the topology and differ in shape only)."""
    lab = clip.labels
    if len(pred.pose) != len(clip):
        raise ValueError(f"prediction for {clip.meta.clip_id} has {len(pred.pose)} frames, the clip has {len(clip)}")
    if not pred.body_model == clip.meta.body_model == body.name:
        raise ValueError(
            f"prediction for {clip.meta.clip_id} is a {pred.body_model} body but the clip's ground truth is {clip.meta.body_model} "
            f"(evaluating with {body.name}): evaluate predictions made with the clips' body model"
        )
    true_rot = euler_to_rotmat(torch.from_numpy(lab.camera[:, 1:4]).double())
    pred_rot = euler_to_rotmat(torch.from_numpy(pred.camera[:, 1:4]).double())
    truth = true_body_model or body
    true_body = _double(truth(torch.from_numpy(lab.pose), torch.from_numpy(lab.shape)[None].to(truth.default_shape.dtype)))
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


def evaluate(pred_dir: Path, data: Path, body: BodyModel | None = None, body_config: BodyModelConfig | None = None,
             decompose: bool = False) -> dict:
    """Metrics of every clip in ``data`` that has a prediction in ``pred_dir``.

    The body model is ``body``, else the one the clips record, loaded through ``body_config``
    (``--body-model`` / ``--body-model-path``); predictions of another body model are refused.
    ``decompose`` adds ``"decomposition"``: the parts of the per-joint error (``eval/decompose.py``).
    """
    body_config = body_config or BodyModelConfig()
    clips = list_clips(data, body=body_config)
    found = {c.meta.clip_id: c for c in clips if prediction_path(pred_dir, c.meta.clip_id).is_file()}
    if not found:
        raise FileNotFoundError(f"no predictions in {pred_dir} match the clips of {data} (expected files like {clips[0].meta.clip_id}.npz)")
    preds = {cid: read_prediction(prediction_path(pred_dir, cid)) for cid in found}
    truth_model = clips_body_model(found.values(), data)
    made_with = sorted({p.body_model for p in preds.values()})
    if made_with != [truth_model]:
        raise ValueError(
            f"the predictions in {pred_dir} were made with the {', '.join(made_with)} body model but the clips of {data} "
            f"with {truth_model}: predict with a checkpoint trained for {truth_model}"
        )
    body = body or body_config.load(truth_model, f"the clips of {data}")
    genders = {c.meta.gender for c in found.values()}
    truths = {g: _gendered(body, body_config, g) for g in genders}
    per_clip = {cid: clip_errors(c, preds[cid], body, truths[c.meta.gender]) for cid, c in sorted(found.items())}
    result = summarise(per_clip)
    if decompose:
        result["decomposition"] = summarise_parts({cid: clip_error_parts(c, preds[cid], body, truths[c.meta.gender]) for cid, c in sorted(found.items())})
    return result


def _gendered(body: BodyModel, config: BodyModelConfig, gender: str) -> BodyModel:
    """``body``, or for SMPL (SMPL-X) ground truth of a male/female subject, that gender's model
    file when the model path has one (the same shape size)."""
    family = getattr(body, "family", None)  # SMPL-format models: SMPLBody and SMPLXBody
    if family is None or gender == getattr(body, "gender", gender):
        return body
    from selfmocap.body import load_body_model
    from selfmocap.body.smpl_body import find_smpl_file

    if find_smpl_file(config.body_model_path, gender, family) == body.model_path:
        return body
    return load_body_model(body.name, config.body_model_path, gender=gender, num_betas=body.shape_dim)


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
    result = evaluate(config.pred, config.data, body_config=config.body, decompose=config.decompose)
    print(format_table(result))
    if config.decompose:
        print("\n" + format_parts(result["decomposition"]))
    if config.json is not None:
        write_json(config.json, result)
    return result
