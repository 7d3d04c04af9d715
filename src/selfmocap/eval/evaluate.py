"""``selfmocap evaluate``: compare a predictions folder with the clips' 3D ground truth.

Protocol (``docs/evaluation.md``): points are compared root-centred in the camera's orientation
(``R X``), on the 17 COCO keypoints (:data:`~selfmocap.body.metrics.METRIC_KEYPOINTS`); surface
error uses every mesh vertex, regenerated from the predicted pose and shape with the body model.
Frames a method marked invalid (no person detected) are left out and counted.

Body model: the one the clips record (their ground truth's); predictions made with another body
model are refused. For SMPL the true bodies use the clip's gender file when the SMPL path is a
folder holding it (SURREAL's ground truth is gendered), the predictions the neutral one.

Inside the code the result is an :class:`EvalSummary` of :class:`ClipMetrics` records, whose
field names are the metric names; the JSON written with ``--json`` (:meth:`EvalSummary.to_json`)
is a stable interface::

    {"overall": {"surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm", "frames"},
     "clips": {CLIP_ID: {same keys}}}

Real images with 3D annotations (``--annotations``/``--capture``) are scored by
:mod:`selfmocap.eval.real`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from selfmocap.body import BodyModelConfig
from selfmocap.body.model import BodyModel, BodyOutput
from selfmocap.data.clip import Clip, clips_body_model, list_clips
from selfmocap.data.predictions import ClipPrediction, prediction_path, read_prediction
from selfmocap.eval.config import EvaluateConfig
from selfmocap.eval.decompose import PartsSummary, clip_error_parts, format_parts, summarise_parts
from selfmocap.body.metrics import METRIC_KEYPOINTS, acceleration_error, body_errors
from selfmocap.geometry.camera import Camera, camera_oriented
from selfmocap.errors import UserError
from selfmocap.eval.real import RealSummary, evaluate_real, format_real
from selfmocap.io import write_json

@dataclass(frozen=True)
class ClipErrors:
    """Per-frame errors (F,) in mm of one clip's F valid frames, and its acceleration error
    (NaN under 3 frames). Field names are the JSON's metric names."""

    surface_mm: np.ndarray
    per_joint_mm: np.ndarray
    recon_mm: np.ndarray
    pa_mpjpe_mm: np.ndarray
    accel_mm: float


@dataclass(frozen=True)
class ClipMetrics:
    """Mean errors in mm of one clip (or of all clips) over its valid frames; None where a metric
    cannot be computed. One entry of the JSON's ``"clips"`` (or its ``"overall"``)."""

    surface_mm: float | None
    per_joint_mm: float | None
    recon_mm: float | None
    pa_mpjpe_mm: float | None
    accel_mm: float | None
    frames: int

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EvalSummary:
    """What ``selfmocap evaluate`` measures; :meth:`to_json` is the file interface
    ``{"overall", "clips"[, "decomposition"]}`` (module docstring)."""

    overall: ClipMetrics
    clips: dict[str, ClipMetrics]
    decomposition: PartsSummary | None = None

    def to_json(self) -> dict:
        out = {"overall": self.overall.to_json(), "clips": {cid: m.to_json() for cid, m in self.clips.items()}}
        if self.decomposition is not None:
            out["decomposition"] = self.decomposition.to_json()
        return out


METRIC_KEYS = tuple(f.name for f in fields(ClipMetrics))
_FRAME_KEYS = ("surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm")  # averaged over frames


def _double(out: BodyOutput) -> BodyOutput:
    return BodyOutput(vertices=out.vertices.double(), joints=out.joints.double(), keypoints=out.keypoints.double())


@torch.no_grad()
def clip_errors(clip: Clip, pred: ClipPrediction, body: BodyModel, true_body_model: BodyModel | None = None) -> ClipErrors:
    """Per-frame errors of one clip in mm (only frames the prediction marks valid) and its
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
    true_rot = Camera.from_array(torch.from_numpy(lab.camera).double()).rotation
    pred_rot = Camera.from_array(torch.from_numpy(pred.camera).double()).rotation
    truth = true_body_model or body
    true_body = _double(truth(torch.from_numpy(lab.pose), torch.from_numpy(lab.shape)[None].to(truth.default_shape.dtype)))
    pred_body = _double(body(torch.from_numpy(pred.pose), torch.from_numpy(pred.shape)))
    errors = body_errors(pred_body, pred_rot, true_body, true_rot)
    valid = torch.from_numpy(pred.valid.astype(bool))
    idx = list(METRIC_KEYPOINTS)
    p_kp = camera_oriented(pred_body.keypoints[:, idx], pred_rot)
    t_kp = camera_oriented(true_body.keypoints[:, idx], true_rot)
    return ClipErrors(
        **{k: getattr(errors, k)[valid].numpy() for k in _FRAME_KEYS},
        accel_mm=float(acceleration_error(p_kp, t_kp)) if len(clip) >= 3 else float("nan"),
    )


def summarise(per_clip: dict[str, ClipErrors]) -> EvalSummary:
    """Means per clip and overall (frame-weighted; acceleration weighted by frames too)."""
    clips = {}
    for cid, e in per_clip.items():
        n = len(e.per_joint_mm)
        clips[cid] = ClipMetrics(**{k: (float(np.mean(getattr(e, k))) if n else None) for k in _FRAME_KEYS},
                                 accel_mm=None if np.isnan(e.accel_mm) else e.accel_mm, frames=n)
    total = sum(c.frames for c in clips.values())
    overall = {k: (float(np.concatenate([getattr(e, k) for e in per_clip.values()]).mean()) if total else None) for k in _FRAME_KEYS}
    accel = [(c.accel_mm, c.frames) for c in clips.values() if c.accel_mm is not None and c.frames]
    overall["accel_mm"] = float(sum(a * n for a, n in accel) / sum(n for _, n in accel)) if accel else None
    return EvalSummary(overall=ClipMetrics(**overall, frames=total), clips=clips)


def evaluate(pred_dir: Path, data: Path, body: BodyModel | None = None, body_config: BodyModelConfig | None = None,
             decompose: bool = False) -> EvalSummary:
    """Metrics of every clip in ``data`` that has a prediction in ``pred_dir``.

    The body model is ``body``, else the one the clips record, loaded through ``body_config``
    (``--body-model`` / ``--body-model-path``); predictions of another body model are refused.
    ``decompose`` adds the parts of the per-joint error (``eval/decompose.py``).
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
    summary = summarise({cid: clip_errors(c, preds[cid], body, truths[c.meta.gender]) for cid, c in sorted(found.items())})
    if decompose:
        parts = summarise_parts({cid: clip_error_parts(c, preds[cid], body, truths[c.meta.gender]) for cid, c in sorted(found.items())})
        summary = EvalSummary(summary.overall, summary.clips, parts)
    return summary


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


def format_table(summary: EvalSummary) -> str:
    """Markdown table of the overall and per-clip metrics."""
    def fmt(v):
        return "-" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))

    def row(name: str, m: ClipMetrics) -> str:
        return f"| {name} | " + " | ".join(fmt(getattr(m, k)) for k in METRIC_KEYS) + " |"

    lines = ["| clip | " + " | ".join(METRIC_KEYS) + " |", "|---" * (len(METRIC_KEYS) + 1) + "|"]
    lines += [row(cid, m) for cid, m in summary.clips.items()]
    lines.append(row("**overall**", summary.overall))
    return "\n".join(lines)


def run_evaluate(config: EvaluateConfig) -> EvalSummary | RealSummary:
    """``selfmocap evaluate``: synthetic clips (``--pred``/``--data``) or real annotation files
    (``--annotations``/``--capture``, :mod:`selfmocap.eval.real`)."""
    synthetic, real = (config.pred, config.data) != (None, None), config.real.annotations is not None
    if synthetic == real or (synthetic and None in (config.pred, config.data)):
        raise UserError("give either --pred and --data (synthetic clips) or --annotations and --capture "
                        "(real annotation files): docs/evaluation.md")
    if real:
        if config.decompose:
            raise UserError("--decompose needs the synthetic ground truth (--pred/--data); leave it out with --annotations")
        result = evaluate_real(config.real)
        print(format_real(result))
    else:
        result = evaluate(config.pred, config.data, body_config=config.body, decompose=config.decompose)
        print(format_table(result))
        if result.decomposition is not None:
            print("\n" + format_parts(result.decomposition))
    if config.json is not None:
        write_json(config.json, result.to_json())
    return result
