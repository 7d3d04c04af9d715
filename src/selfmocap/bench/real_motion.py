"""``selfmocap bench --real-motion DIR``: the real-motion table.

Clips with the ``test`` split's appearance (subjects, clothing, light, backgrounds, cameras) whose
motion is real motion capture: one clip per BVH file of ``DIR``, a fixed window of each
(:func:`choose_windows`), rendered through the synth library. On them: the pretrained network and
each adaptation variant (``bench/config.py``: :class:`ObjectiveVariant`, named rows of an ``ObjectiveConfig``), with
oracle and with estimated 2D inputs, scored like ``selfmocap evaluate``; and a reference row for
mediapipe's metric world landmarks on the same rendered frames, scored by PA-MPJPE on the
:data:`LIMB_KEYPOINTS` (the network rows get the same limb score, on the same frames).

Outputs in ``OUT``: ``real_motion.md`` (overall and per-clip tables, the windows used),
``real_motion.json`` (every number), ``real_motion_config.json`` (the resolved config) and the
rendered clips in ``OUT/data/real-motion/``. ``docs/bench.md`` describes it.
"""

from __future__ import annotations

import copy
import json
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap import io as files
from selfmocap.adapt.adapt import adapt_network
from selfmocap.adapt.config import AdaptOptions, InputConfig, StepOptions
from selfmocap.adapt.inputs import ClipInputs, prepare_inputs
from selfmocap.cues.mediapipe import world_landmarks
from selfmocap.adapt.network import predict_clip
from selfmocap.bench.config import MEDIAPIPE_ROW, RealMotionOptions
from selfmocap.data.clip import Clip
from selfmocap.data.records import MotionWindow
from selfmocap.data.predictions import ClipPrediction
from selfmocap.errors import UserError
from selfmocap.eval.evaluate import METRIC_KEYS, clip_errors, summarise
from selfmocap.body.metrics import LIMB_KEYPOINT_NAMES, LIMB_KEYPOINTS, pa_mpjpe  # noqa: F401 (re-exported)

#: Keys of a row: the evaluation's metrics, then the limb PA-MPJPE and the frames it is over.
LIMB_KEYS = ("pa_limbs_mm", "limb_frames")
ROW_KEYS = (*METRIC_KEYS, *LIMB_KEYS)
MODES = ("oracle", "estimated")
#: ``--quick``: a smoke check in a few minutes.
QUICK = dict(files=4, frames=16, iters=30, batch=4)


@dataclass(frozen=True)
class RealClip:
    """A rendered real-motion clip and where its motion comes from."""

    clip: Clip
    window: MotionWindow


def choose_files(files: list[Path], cap: int) -> list[Path]:
    """``files`` (sorted), or ``cap`` of them evenly spread over the sorted list (first and last kept)."""
    if cap <= 0 or cap >= len(files):
        return list(files)
    picks = np.unique(np.round(np.linspace(0, len(files) - 1, cap)).astype(int))
    return [files[i] for i in picks]


def choose_windows(source, num_frames: int, fps: float, where: str, seed: int) -> list[tuple[Path, int]]:
    """One window per file of a :class:`~selfmocap.synth.mocap.BvhMotion`: ``(file, first frame)``
    in the file's retargeted frames (after its calibration frames). ``middle``: centred in the
    file; ``random``: uniform over the windows that fit, from ``(seed, file name)``. A file
    shorter than the window gives its first frame (the window holds its last frame)."""
    out = []
    for entry in source.entries:
        path = entry.header.path
        ret = source.retargeted(path)
        span = (num_frames - 1) * ret.fps / fps
        starts = max(int(np.floor(ret.num_frames - 1 - span + 1e-9)) + 1, 1)
        if where == "middle":
            first = (starts - 1) // 2
        else:
            first = int(np.random.default_rng([seed, zlib.crc32(path.name.encode())]).integers(starts))
        out.append((path, first))
    return out


class _Window:
    """A motion source that always plays one window (``sample_scene``'s protocol; draws nothing)."""

    def __init__(self, motion):
        self.motion = motion

    def sample(self, rng, num_frames: int, fps: float):
        if num_frames != len(self.motion.pose) or fps != self.motion.fps:
            raise ValueError("the window was cut for another clip length or frame rate")
        return self.motion


def render_real_clips(motions: Path, out: Path, options: RealMotionOptions, seed: int, body) -> list[RealClip]:
    """Render one ``test``-appearance clip per chosen BVH file into ``out`` (clip ``i`` is
    ``{i:02d}_{file stem}``, appearance from ``(seed, "test", i)``); complete clips of the same
    window are kept (a rerun resumes)."""
    from selfmocap.synth.generator import render_clip
    from selfmocap.synth.mocap import BvhMotion, anny_target_skeleton, list_bvh_files, motion_from_window
    from selfmocap.synth.mocap.source import MotionInputError

    fps = 30.0
    paths = choose_files(list_bvh_files(motions), options.files)
    from selfmocap.body import load_body_model

    # motions are retargeted onto Anny's bones, then to the clip's body model by the generator (as in synth)
    source = BvhMotion(paths, anny_target_skeleton(body if body.name == "anny" else load_body_model("anny")))
    try:
        source.check_window(options.frames, fps)
    except MotionInputError as err:
        raise UserError(f"--real-motion: {err}") from None
    headers = {e.header.path: e for e in source.entries}
    clips = []
    for i, (path, first) in enumerate(tqdm(choose_windows(source, options.frames, fps, options.window, seed), desc="render real motion", unit="clip")):
        ret = source.retargeted(path)
        entry = headers[path]
        span = (options.frames - 1) * ret.fps / fps
        window = MotionWindow(
            file=str(path), first_frame=ret.first_frame + first,
            last_frame=round(min(ret.first_frame + first + span, entry.header.num_frames - 1), 4),
            source_fps=entry.header.fps, bone_map=entry.resolved.profile,
        )
        clip_id = f"{i:02d}_{path.stem}"
        folder = out / clip_id
        done = folder / "meta.json"
        if done.is_file():
            old = Clip(folder)
            if old.meta.motion_window == window and old.meta.seed == seed and old.meta.num_frames == options.frames and old.meta.width == options.size:
                clips.append(RealClip(old, window))
                continue
        motion = motion_from_window(ret, first, options.frames, fps, f"bvh:{path.name}", window, source.limits)
        render_clip(out, clip_id, "test", seed, i, body, options.frames, options.size, fps, motion_source=_Window(motion))
        clips.append(RealClip(Clip(folder), window))
    return clips


def limb_pa_mpjpe(pred_keypoints: np.ndarray, true_keypoints: np.ndarray) -> np.ndarray:
    """(T,) PA-MPJPE (mm) on :data:`LIMB_KEYPOINTS` of (T, K, 3) predicted and true keypoints
    (any frame of reference each: the similarity alignment removes rotation, translation, scale)."""
    idx = list(LIMB_KEYPOINTS)
    pred = torch.from_numpy(np.asarray(pred_keypoints, np.float64)[:, idx])
    true = torch.from_numpy(np.asarray(true_keypoints, np.float64)[:, idx])
    return pa_mpjpe(pred, true).numpy()


def mediapipe_found(world: np.ndarray) -> np.ndarray:
    """(T,) bool: frames where mediapipe gave world landmarks (:func:`world_landmarks` leaves
    the others all zero)."""
    return np.abs(world[..., :3]).sum(axis=(1, 2)) > 0


def _limb_scores(per_clip: dict[str, np.ndarray], frames: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Per-clip and overall (frame-weighted) mean of per-frame limb errors over the given frames."""
    clips = {}
    for cid, err in per_clip.items():
        kept = err[frames[cid]]
        clips[cid] = {"pa_limbs_mm": float(kept.mean()) if len(kept) else None, "limb_frames": int(len(kept))}
    everything = np.concatenate([per_clip[c][frames[c]] for c in per_clip]) if per_clip else np.zeros(0)
    return clips, {"pa_limbs_mm": float(everything.mean()) if len(everything) else None, "limb_frames": int(len(everything))}


def score_rows(clips: list[Clip], preds: dict[str, ClipPrediction], body, found: dict[str, np.ndarray] | None) -> dict:
    """``selfmocap evaluate``'s numbers of one row, plus the limb PA-MPJPE on the frames where the
    prediction is valid and (when ``found`` is given) mediapipe found the person too."""
    result = summarise({c.meta.clip_id: clip_errors(c, preds[c.meta.clip_id], body) for c in clips}).to_json()
    limbs = {c.meta.clip_id: limb_pa_mpjpe(preds[c.meta.clip_id].keypoints3d, c.labels.keypoints3d) for c in clips}
    frames = {c.meta.clip_id: preds[c.meta.clip_id].valid.astype(bool) & (found[c.meta.clip_id] if found else True) for c in clips}
    per_clip, overall = _limb_scores(limbs, frames)
    result["overall"].update(overall)
    for cid, row in per_clip.items():
        result["clips"][cid].update(row)
    return result


def mediapipe_row(clips: list[Clip], world: dict[str, np.ndarray]) -> dict:
    """The reference row: mediapipe's world landmarks against the true keypoints, PA-MPJPE on the
    limb joints, on the frames where mediapipe found the person (the other metrics: None)."""
    limbs = {c.meta.clip_id: limb_pa_mpjpe(world[c.meta.clip_id][..., :3], c.labels.keypoints3d) for c in clips}
    per_clip, overall = _limb_scores(limbs, {c.meta.clip_id: mediapipe_found(world[c.meta.clip_id]) for c in clips})
    empty = dict.fromkeys(METRIC_KEYS[:-1])
    return {"overall": {**empty, "frames": overall["limb_frames"], **overall},
            "clips": {cid: {**empty, "frames": row["limb_frames"], **row} for cid, row in per_clip.items()}}


def run_real_motion(options: RealMotionOptions, out: Path, checkpoint: Path | None = None, seed: int = 100,
                    inputs: Literal["both", "oracle", "estimated"] = "both") -> dict:
    """Render the clips, run every row, write ``real_motion.md`` and ``.json`` into ``out``; return the results."""
    from selfmocap.body import load_body_model
    from selfmocap.models.pretrained import load_pretrained

    if options.motions is None:
        raise UserError("--real-motion DIR is missing: give a BVH file or a folder of them")
    started = time.perf_counter()
    pretrained = load_pretrained(checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    cfg.save_config(options, out / "real_motion_config.json", checkpoint=str(checkpoint or "shipped"), seed=seed, inputs=inputs)
    sigma = pretrained.card.frame_config.heatmap_sigma
    crop = pretrained.card.network_config.input_size
    body = load_body_model()
    real = render_real_clips(options.motions, out / "data" / "real-motion", options, seed, body)
    clips = [r.clip for r in real]
    world = None
    needs_world = options.needs_world or pretrained.card.network_config.world_input
    if options.mediapipe or needs_world:
        world = {c.meta.clip_id: world_landmarks([c.rgb(t) for t in range(len(c))]) for c in tqdm(clips, desc="mediapipe", unit="clip")}
    found = {cid: mediapipe_found(w) for cid, w in world.items()} if options.mediapipe else None
    results: dict = {
        "motions": str(options.motions), "checkpoint": str(checkpoint or "shipped"), "seed": seed,
        "options": cfg.to_dict(replace(options, variants=())) | {"variants": {v.name: cfg.to_dict(v.objective) for v in options.variants}},
        "limb_keypoints": list(LIMB_KEYPOINT_NAMES),
        "clips": {r.clip.meta.clip_id: {"file": Path(r.window.file).name, "path": r.window.file, "first_frame": r.window.first_frame,
                                         "last_frame": r.window.last_frame, "source_fps": r.window.source_fps, "bone_map": r.window.bone_map}
                  for r in real},
        "tables": {},
    }
    if options.mediapipe:
        results["mediapipe"] = mediapipe_row(clips, world)
    adapt = AdaptOptions(iters=options.iters, step=StepOptions(batch=options.batch))
    for mode in MODES if inputs == "both" else (inputs,):
        given = [prepare_inputs(c, InputConfig(inputs=mode), crop) for c in tqdm(clips, desc=f"inputs {mode}", unit="clip")]
        if world is not None and needs_world:  # the same landmarks the reference row scores (computed from RGB only)
            given = [replace(i, world=torch.from_numpy(world[i.clip_id])) for i in given]
        rows = results["tables"][mode] = {"pretrained": score_rows(clips, _predict(pretrained.model, body, given, sigma), body, found)}
        results["seconds"] = time.perf_counter() - started
        write_real_motion(results, out, partial=True)  # a stopped run keeps the rows it finished
        for variant in options.variants:
            net = adapt_network(copy.deepcopy(pretrained.model), body, given, adapt, variant.objective, sigma,
                                progress=f"adapt {variant.name} {mode}")
            rows[variant.name] = score_rows(clips, _predict(net, body, given, sigma), body, found)
            results["seconds"] = time.perf_counter() - started
            write_real_motion(results, out, partial=True)
    results["seconds"] = time.perf_counter() - started
    write_real_motion(results, out)
    return results


def combine_real_motion(folders: list[Path], out: Path) -> dict:
    """Join the ``real_motion.json`` of runs that computed different input modes (``--inputs``) of
    the same clips, options, seed and checkpoint into ``out``; the wall time is the sum of theirs."""
    parts = []
    for folder in folders:
        path = Path(folder) / "real_motion.json"
        if not path.is_file():
            raise UserError(f"{path} does not exist: --combine with --real-motion takes folders written by selfmocap bench --real-motion")
        parts.append(json.loads(path.read_text()))
    same = ("motions", "checkpoint", "seed", "options", "clips")
    for part, folder in zip(parts, folders):
        if part.get("partial"):
            raise UserError(f"{folder} holds a partial real-motion run: let it finish before --combine")
        if any(part[k] != parts[0][k] for k in same):
            raise UserError(f"{folder} was run on other clips, options, seed or checkpoint than {folders[0]}: only halves of one run combine")
    results = {**parts[0], "tables": {m: rows for part in parts for m, rows in part["tables"].items()},
               "seconds": sum(part["seconds"] for part in parts), "combined_from": [str(f) for f in folders]}
    results.pop("partial", None)
    out.mkdir(parents=True, exist_ok=True)
    write_real_motion(results, out)
    return results


def _predict(net, body, inputs: list[ClipInputs], sigma: float) -> dict[str, ClipPrediction]:
    return {i.clip_id: predict_clip(net, body, i, sigma) for i in inputs}


#: Columns of the overall table and of the per-clip tables.
OVERALL_COLUMNS = ("surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm", "frames", "pa_limbs_mm", "limb_frames")
CLIP_COLUMNS = ("per_joint_mm", "pa_mpjpe_mm", "pa_limbs_mm")


def _f(v) -> str:
    return "-" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))


def format_real_motion(results: dict) -> str:
    """Markdown: the overall table per input mode, the per-clip tables, and the windows used."""
    limbs = ", ".join(results["limb_keypoints"])
    lines = [f"Real-motion table: {len(results['clips'])} clips with `test` appearance, motion from the BVH files of "
             f"`{results['motions']}` (checkpoint {results['checkpoint']}, seed {results['seed']}). mm; `pa_limbs_mm` is the "
             f"PA-MPJPE on the 12 limb joints ({limbs}) over `limb_frames`: the frames where the method has a prediction"
             + (" and mediapipe found the person" if "mediapipe" in results else "") + "; the other columns are `selfmocap evaluate`'s, on the 17 COCO keypoints.", ""]
    mp = results.get("mediapipe")
    for mode, rows in results["tables"].items():
        lines += [f"### Real motion, {mode} inputs", "", "| method | " + " | ".join(OVERALL_COLUMNS) + " |", "|---" * (len(OVERALL_COLUMNS) + 1) + "|"]
        shown = {**rows, **({f"{MEDIAPIPE_ROW} (reference)": mp} if mp else {})}
        lines += [f"| {name} | " + " | ".join(_f(row["overall"].get(k)) for k in OVERALL_COLUMNS) + " |" for name, row in shown.items()]
        pre = rows["pretrained"]["overall"]
        gains = [f"{name} {100 * (row['overall']['per_joint_mm'] - pre['per_joint_mm']) / pre['per_joint_mm']:+.1f} %"
                 for name, row in rows.items() if name != "pretrained" and pre["per_joint_mm"]]
        if gains:
            lines += ["", "Per-joint error change vs pretrained (negative = better): " + ", ".join(gains)]
        lines.append("")
    for mode, rows in results["tables"].items():
        methods = {**rows, **({"mediapipe": mp} if mp else {})}
        head = [f"{name} {k.removesuffix('_mm')}" for name, row in methods.items() for k in (CLIP_COLUMNS if name != "mediapipe" else ("pa_limbs_mm",))]
        lines += [f"### Per clip, {mode} inputs", "", "| clip | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
        for cid in results["clips"]:
            cells = [_f(row["clips"][cid].get(k)) for name, row in methods.items() for k in (CLIP_COLUMNS if name != "mediapipe" else ("pa_limbs_mm",))]
            lines.append(f"| {cid} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["### Windows", "", "| clip | file | source frames | source fps | bone map |", "|---|---|---|---|---|"]
    for cid, w in results["clips"].items():
        lines.append(f"| {cid} | {w['file']} | {w['first_frame']}-{w['last_frame']:g} | {w['source_fps']:g} | {w['bone_map']} |")
    return "\n".join(lines)


def write_results(out: Path, json_name: str, md_name: str, results: dict, format_md, seconds: float,
                  partial: bool) -> dict:
    """``out/json_name`` (``results`` plus ``partial``) and ``out/md_name`` (``format_md`` of them and
    the wall time); ``partial`` marks both as written mid-run. Shared by every bench section;
    returns the results as written."""
    results = {**results, "partial": partial}
    files.write_json(out / json_name, results)
    note = "PARTIAL: the bench was still running when this was written.\n\n" if partial else ""
    files.write_text(out / md_name, note + format_md(results) + f"\n\nWall time: {seconds / 60:.1f} min\n")
    return results


def write_real_motion(results: dict, out: Path, partial: bool = False) -> None:
    """``real_motion.json`` and ``real_motion.md``; ``partial`` marks them as written mid-run."""
    write_results(out, "real_motion.json", "real_motion.md", results, format_real_motion, results.get("seconds", 0.0), partial)
