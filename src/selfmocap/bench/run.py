"""``selfmocap bench --out DIR [--quick]``: regenerate the paper's tables and figures with fixed
seeds, from synthetic data made on the spot.

* Table 1 (``test`` split): surface, per-joint and reconstruction error of Optimization,
  Optimization + R~, Optimization + R~ + T~, Pretrained, Pretrained + Self-Sup.
* Table 2 (``shift`` split): per-joint and reconstruction error of Optimization, Pretrained,
  Pretrained + Self-Sup.
* Drift guards (``test`` and ``shift``): per-joint and surface error of Pretrained + Self-Sup
  with the defaults (frozen batch norm, prior 0.1), ``--batchnorm adapt``, ``--prior 0`` and
  ``+ replay`` of supervised batches from a few synthetic *training* clips the bench renders itself.
* Figure 3: per-joint error against adaptation iterations for Lk, Lk+Ls, Lk+Ls+Lm.
* Figure 4: example frames (input crop, given keypoints and mask, pretrained and adapted mesh
  overlays, segmentation from the adapted mesh), and on ``shift`` the IoU with the true
  silhouette of the given mask vs the projected adapted mesh.

Every row is computed twice: with oracle 2D inputs and with estimated inputs
(``docs/adaptation.md``). Outputs: ``tables.md``, ``results.json``, ``results.csv``,
``figure3.png``, ``figure4.png``, and the data and predictions it made.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from selfmocap import io as files
from selfmocap.adapt.adapt import adapt_network
from selfmocap.adapt.config import AdaptOptions, InputConfig, ObjectiveConfig, OptimizeConfig, StepOptions
from selfmocap.adapt.inputs import ClipInputs, prepare_inputs
from selfmocap.adapt.network import predict_clip
from selfmocap.adapt.optimize import METHOD_NAMES, optimize_clip
from selfmocap.adapt.replay import open_replay
from selfmocap.bench.config import BenchConfig
from selfmocap.bench.real_motion import write_results
from selfmocap.body import load_body_model
from selfmocap.data.clip import Clip, list_clips
from selfmocap.data.predictions import ClipPrediction, prediction_path, read_prediction, write_prediction
from selfmocap.eval.decompose import PART_KEYS, clip_error_parts, summarise_parts
from selfmocap.eval.evaluate import clip_errors, summarise
from selfmocap.models.pretrained import load_pretrained
from selfmocap.synth.config import SynthConfig
from selfmocap.synth.run import generate


@dataclass(frozen=True)
class Scale:
    clips: int
    frames: int
    adapt_iters: int
    optimize_iters: int
    figure_every: int
    batch: int  #: frame pairs per step, adaptation and optimization alike
    drift_guards: bool  #: compute the drift-guards table (three more adaptations per split and input mode)
    replay_clips: int  #: synthetic training clips of the drift-guards table's replay row
    replay_frames: int


QUICK = Scale(clips=2, frames=16, adapt_iters=30, optimize_iters=30, figure_every=10, batch=4, drift_guards=True, replay_clips=4, replay_frames=8)
#: The full run adapts for the method's default number of steps (``AdaptOptions.iters``, about 17
#: passes over a split's 224 frame pairs); at that length the drift guards would add six adaptations per input
#: mode (about an hour on two cores), so their table comes from the quick run (docs/bench.md).
FULL = Scale(clips=8, frames=30, adapt_iters=AdaptOptions.iters, optimize_iters=150, figure_every=40, batch=8, drift_guards=False, replay_clips=16, replay_frames=16)
#: The drift-guards table: its default-adaptation row and its columns.
GUARD_DEFAULT = "self-sup (frozen BN, prior 0.1)"
GUARD_COLUMNS = ("per_joint_mm", "surface_mm")
MODES = ("oracle", "estimated")
FIGURE3_LOSSES = (("Lk", ("kpt",)), ("Lk+Ls", ("kpt", "seg")), ("Lk+Ls+Lm", ("kpt", "seg", "motion")))


def _adapt_options(scale: Scale) -> AdaptOptions:
    """Every adaptation of the bench: the defaults, at the scale's step count and batch."""
    return AdaptOptions(iters=scale.adapt_iters, step=StepOptions(batch=scale.batch))


def _scores(clips: list[Clip], preds: dict[str, ClipPrediction], body) -> dict:
    return summarise({c.meta.clip_id: clip_errors(c, preds[c.meta.clip_id], body) for c in clips}).to_json()


def _predict_all(net, body, inputs: list[ClipInputs], sigma: float, vertices: bool = False) -> dict[str, ClipPrediction]:
    return {i.clip_id: predict_clip(net, body, i, sigma, vertices=vertices) for i in inputs}


def _kept_dir(out: Path, split: str, mode: str, method: str) -> Path:
    """Where a bench run keeps one row's predictions: ``OUT/predictions/<split>-<mode>/<method>/``."""
    return out / "predictions" / f"{split}-{mode}" / method


def _keep(preds: dict[str, ClipPrediction], pred_dir: Path) -> dict[str, ClipPrediction]:
    """Write a row's predictions under ``OUT/predictions/`` (for later analysis), return them."""
    for clip_id, pred in preds.items():
        write_prediction(pred_dir, clip_id, pred)
    return preds


def run_bench(config: BenchConfig) -> dict:
    started = time.perf_counter()
    scale = QUICK if config.quick else FULL
    out = config.out
    pretrained = load_pretrained(config.checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    sigma = pretrained.card.frame_config.heatmap_sigma
    body = load_body_model()
    data = {}
    for split in ("test", "shift"):
        data[split] = out / "data" / split
        generate(SynthConfig(out=data[split], split=split, clips=scale.clips, frames=scale.frames, seed=config.seed, workers=config.workers))
    clips = {s: list_clips(d) for s, d in data.items()}
    results: dict = {"scale": scale.__dict__, "seed": config.seed, "checkpoint": str(config.checkpoint or "shipped"), "tables": {}, "figure3": {}}
    adapt_options = _adapt_options(scale)
    replay_data = out / "data" / "replay-train"
    if scale.drift_guards:
        generate(SynthConfig(out=replay_data, split="train", clips=scale.replay_clips, frames=scale.replay_frames, seed=config.seed, workers=config.workers))
    results["drift_guards"] = {}
    results["decomposition"] = {}
    for mode in MODES if config.inputs == "both" else (config.inputs,):
        input_config = InputConfig(inputs=mode)
        world = pretrained.card.network_config.world_input
        inputs = {s: [prepare_inputs(c, input_config, world=world) for c in tqdm(clips[s], desc=f"inputs {s} {mode}")] for s in clips}
        shown: dict[str, dict[str, dict[str, ClipPrediction]]] = {}  # split -> method -> clip -> prediction
        for split in ("test", "shift"):
            rows = {}
            opt_inits = ("random", "gt-rotation", "gt-rotation-translation") if split == "test" else ("random",)
            for init in opt_inits:
                oc = OptimizeConfig(data=data[split], out=out, init=init, iters=scale.optimize_iters, batch=scale.batch, input=input_config)
                preds = {i.clip_id: optimize_clip(c, i, body, oc, progress=False) for c, i in tqdm(list(zip(clips[split], inputs[split])), desc=f"{METHOD_NAMES[init]} {split} {mode}")}
                rows[METHOD_NAMES[init]] = _scores(clips[split], preds, body)["overall"]
            pretrained_preds = _keep(_predict_all(pretrained.model, body, inputs[split], sigma), _kept_dir(out, split, mode, "pretrained"))
            rows["pretrained"] = _scores(clips[split], pretrained_preds, body)["overall"]
            # On test, the default adaptation is also Figure 3's Lk+Ls+Lm curve: record it on the way.
            curve = _ErrorCurve(pretrained.model, body, clips[split], inputs[split], scale, sigma) if split == "test" else None
            net = adapt_network(copy.deepcopy(pretrained.model), body, inputs[split], adapt_options, ObjectiveConfig(), sigma,
                                progress=f"adapt {split} {mode}", callback=curve)
            if curve is not None:
                test_curve = curve.points
            adapted = _keep(_predict_all(net, body, inputs[split], sigma), _kept_dir(out, split, mode, "pretrained+self-sup"))
            rows["pretrained+self-sup"] = _scores(clips[split], adapted, body)["overall"]
            results["tables"][f"{split}/{mode}"] = rows
            results["decomposition"][f"{split}/{mode}"] = {
                name: summarise_parts({c.meta.clip_id: clip_error_parts(c, p[c.meta.clip_id], body) for c in clips[split]}).overall.to_json()
                for name, p in (("pretrained", pretrained_preds), ("pretrained+self-sup", adapted))
            }
            if scale.drift_guards:
                results["drift_guards"][f"{split}/{mode}"] = {
                    "pretrained": rows["pretrained"], GUARD_DEFAULT: rows["pretrained+self-sup"],
                    **drift_guard_rows(pretrained, body, clips[split], inputs[split], adapt_options, replay_data, sigma, f"{split} {mode}"),
                }
            shown[split] = {"pretrained": pretrained_preds, "pretrained+self-sup": adapted}
            if split == "shift" and mode == "estimated":
                results["figure4"] = figure4(out / "figure4.png", clips, inputs, shown, body)
            results["seconds"] = time.perf_counter() - started
            write_outputs(results, out, partial=True)  # a long run that is stopped keeps what it measured
        results["figure3"][mode] = figure3_curves(pretrained.model, body, clips["test"], inputs["test"], scale, sigma, {"Lk+Ls+Lm": test_curve})
    plot_figure3(results["figure3"], out / "figure3.png")
    results["seconds"] = time.perf_counter() - started
    write_outputs(results, out)
    return results


def combine_results(folders: list[Path], out: Path) -> dict:
    """Join the ``results.json`` of bench runs that computed different input modes (``--inputs``)
    of the same scale, seed and checkpoint; write the joined tables and Figure 3 into ``out``.
    The wall time is the sum of the runs' (the work done, not the elapsed time)."""
    parts = []
    for folder in folders:
        path = Path(folder) / "results.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: --combine takes folders written by selfmocap bench")
        parts.append(json.loads(path.read_text()))
    for part, folder in zip(parts, folders):
        if part.get("partial"):
            raise ValueError(f"{folder} holds a partial bench run: let it finish before --combine")
        if (part["scale"], part.get("seed"), part["checkpoint"]) != (parts[0]["scale"], parts[0].get("seed"), parts[0]["checkpoint"]):
            raise ValueError(f"{folder} was run with another scale, seed or checkpoint than {folders[0]}: only halves of one bench combine")
    results = {"scale": parts[0]["scale"], "seed": parts[0].get("seed"), "checkpoint": parts[0]["checkpoint"], "combined_from": [str(f) for f in folders]}
    for key in ("tables", "drift_guards", "decomposition", "figure3"):
        results[key] = {k: v for part in parts for k, v in part.get(key, {}).items()}
    results["seconds"] = sum(part["seconds"] for part in parts)
    out.mkdir(parents=True, exist_ok=True)
    for part, folder in zip(parts, folders):
        if "figure4" in part:
            results["figure4"] = redraw_figure4(Path(folder), out / "figure4.png")
    plot_figure3(results["figure3"], out / "figure3.png")
    write_outputs(results, out)
    return results


def drift_guard_rows(pretrained, body, clips, inputs, options: AdaptOptions, replay_data: Path, sigma: float, label: str) -> dict:
    """Scores of the adaptation with one guard changed from the defaults: batch norm re-estimated on
    the test frames, no prior, and replay of supervised synthetic training batches."""
    variants = {
        "--batchnorm adapt": (replace(options, step=replace(options.step, batchnorm="adapt")), ObjectiveConfig(), None),
        "--prior 0": (options, ObjectiveConfig(prior=0.0), None),
        "+ replay": (replace(options, replay=replace(options.replay, data=replay_data)), ObjectiveConfig(),
                     open_replay(replay_data, pretrained.card, options.replay.batch, options.step.seed)),
    }
    rows = {}
    for name, (opts, objective, replay) in variants.items():
        net = adapt_network(copy.deepcopy(pretrained.model), body, inputs, opts, objective, sigma, progress=f"guards {name} {label}", replay=replay)
        rows[name] = _scores(clips, _predict_all(net, body, inputs, sigma), body)["overall"]
    return rows


class _ErrorCurve:
    """An ``adapt_network`` callback: the per-joint error (mm) at step 0 and every ``figure_every`` steps."""

    def __init__(self, model, body, clips, inputs, scale: Scale, sigma: float):
        self.body, self.clips, self.inputs, self.sigma, self.every = body, clips, inputs, sigma, scale.figure_every
        self.points = [(0, self._error(model))]

    def _error(self, net) -> float:
        return _scores(self.clips, _predict_all(net, self.body, self.inputs, self.sigma), self.body)["overall"]["per_joint_mm"]

    def __call__(self, step: int, net) -> None:
        if (step + 1) % self.every == 0:
            net.eval()
            self.points.append((step + 1, self._error(net)))


def figure3_curves(model, body, clips, inputs, scale: Scale, sigma: float, done: dict | None = None) -> dict:
    """Per-joint error (mm) every ``figure_every`` steps of adaptation, per loss combination;
    ``done`` holds curves already recorded (the default adaptation's, with the same options)."""
    curves = {}
    for name, losses in FIGURE3_LOSSES:
        if done and name in done:
            curves[name] = done[name]
            continue
        curve = _ErrorCurve(model, body, clips, inputs, scale, sigma)
        adapt_network(copy.deepcopy(model), body, inputs, _adapt_options(scale), ObjectiveConfig(losses=losses),
                      sigma, progress=f"figure 3 {name}", callback=curve)
        curves[name] = curve.points
    return curves


def plot_figure3(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.6), squeeze=False)
    for ax, (mode, by_loss) in zip(axes[0], curves.items()):
        for name, points in by_loss.items():
            steps, err = zip(*points)
            ax.plot(steps, err, marker="o", ms=3, label=name)
        ax.set_title(f"test split, {mode} inputs")
        ax.set_xlabel("adaptation iteration")
        ax.set_ylabel("per-joint error (mm)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    try:
        with files.atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        plt.close(fig)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def figure4(path: Path, clips: dict[str, list[Clip]], inputs: dict[str, list[ClipInputs]],
            preds: dict[str, dict[str, dict[str, ClipPrediction]]], body, per_split: int = 4) -> dict:
    """Example frames of both splits (the middle frame of the first ``per_split`` clips of each),
    and the mask IoU on ``shift`` over all its frames: given vs adapted-mesh mask.

    ``preds[split]["pretrained" | "pretrained+self-sup"][clip_id]`` are the two methods' predictions.
    """
    import cv2

    from selfmocap.geometry.camera import Camera, to_camera_space
    from selfmocap.render.overlay import render_overlay
    from selfmocap.synth.preview import _label, draw_keypoints

    faces = body.faces.numpy()

    def mesh_view(pred: ClipPrediction, t: int, image: np.ndarray, colour) -> tuple[np.ndarray, np.ndarray]:
        cam = Camera.from_array(torch.from_numpy(pred.camera[t : t + 1]).double())
        out = body(torch.from_numpy(pred.pose[t : t + 1]), torch.from_numpy(pred.shape[t : t + 1]))
        verts = to_camera_space(out.vertices.double(), cam)[0].float().numpy()
        return render_overlay(image, verts, faces, float(cam.focal[0]), tuple(cam.principal[0].tolist()), colour)

    rows, ious_given, ious_mesh = [], [], []
    for split in ("test", "shift"):
        pre, ada = preds[split]["pretrained"], preds[split]["pretrained+self-sup"]
        for k, (clip, inp) in enumerate(zip(clips[split], inputs[split])):
            if split == "shift":  # the mask IoU, over every frame of shift
                for t in range(len(clip)):
                    true = clip.mask(t)
                    ious_given.append(_iou(inp.masks[t].numpy(), true))
                    ious_mesh.append(_iou(mesh_view(ada[clip.meta.clip_id], t, clip.rgb(t), (1, 1, 1))[1], true))
            if k >= per_split:
                continue
            t = len(clip) // 2
            rgb = clip.rgb(t)
            given = rgb.copy()
            given[inp.masks[t].numpy()] = (0.5 * given[inp.masks[t].numpy()] + [0, 90, 0]).astype(np.uint8)
            given = draw_keypoints(given, np.concatenate([inp.keypoints_frame[t, :, :2].numpy(), inp.keypoints_frame[t, :, 2:].numpy()], 1))
            pre_img = mesh_view(pre[clip.meta.clip_id], t, rgb, (0.95, 0.6, 0.5))[0]
            ada_img, ada_mask = mesh_view(ada[clip.meta.clip_id], t, rgb, (0.55, 0.75, 1.0))
            seg = np.repeat((ada_mask * 255).astype(np.uint8)[..., None], 3, axis=2)
            box = inp.box
            side = float(inp.box_side[t])
            crop = lambda im: cv2.resize(im[max(int(box.offset[t, 1]), 0): int(box.offset[t, 1] + side), max(int(box.offset[t, 0]), 0): int(box.offset[t, 0] + side)], (160, 160))  # noqa: E731
            tiles = [_label(crop(rgb), f"{split} input"), _label(crop(given), "given kpts+mask"), _label(crop(pre_img), "pretrained"),
                     _label(crop(ada_img), "adapted"), _label(crop(seg), "adapted mesh mask")]
            rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    with files.atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}")
    return {"shift_mask_iou_given": float(np.mean(ious_given)), "shift_mask_iou_adapted_mesh": float(np.mean(ious_mesh)), "frames": len(ious_given)}


def redraw_figure4(folder: Path, path: Path) -> dict:
    """Figure 4 again from a bench folder's clips and kept predictions (estimated inputs, which
    are seeded, so the given keypoints and masks are the run's own); returns its IoU record."""
    body = load_body_model()
    clips = {s: list_clips(folder / "data" / s) for s in ("test", "shift")}
    preds = {s: {m: {c.meta.clip_id: read_prediction(prediction_path(_kept_dir(folder, s, "estimated", m), c.meta.clip_id)) for c in clips[s]}
                 for m in ("pretrained", "pretrained+self-sup")} for s in clips}
    inputs = {s: [prepare_inputs(c, InputConfig(inputs="estimated")) for c in tqdm(clips[s], desc=f"figure 4 inputs {s}")] for s in clips}
    return figure4(path, clips, inputs, preds, body)


def format_tables(results: dict) -> str:
    def f(v):
        return "-" if v is None else f"{v:.1f}"

    lines = []
    for key, rows in results["tables"].items():
        split, mode = key.split("/")
        cols = ("surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm") if split == "test" else ("per_joint_mm", "recon_mm", "pa_mpjpe_mm")
        title = "Table 1 (test split)" if split == "test" else "Table 2 (shift split)"
        lines += [f"### {title}, {mode} inputs", "", "| method | " + " | ".join(cols) + " | frames |", "|---" * (len(cols) + 2) + "|"]
        for method, m in rows.items():
            lines.append(f"| {method} | " + " | ".join(f(m[c]) for c in cols) + f" | {m['frames']} |")
        pre, ada = rows["pretrained"], rows["pretrained+self-sup"]
        gain = lambda k: 100 * (pre[k] - ada[k]) / pre[k]  # noqa: E731
        lines += ["", f"Self-supervision vs pretrained: surface {gain('surface_mm'):+.1f} %, per-joint {gain('per_joint_mm'):+.1f} % (positive = better); "
                  f"optimization (random init) / self-sup per-joint: {rows['optimization']['per_joint_mm'] / ada['per_joint_mm']:.2f}x", ""]
    for key, rows in results.get("drift_guards", {}).items():
        split, mode = key.split("/")
        lines += [f"### Drift guards ({split} split), {mode} inputs", "", "| adaptation | " + " | ".join(GUARD_COLUMNS) + " | frames |",
                  "|---" * (len(GUARD_COLUMNS) + 2) + "|"]
        for method, m in rows.items():
            lines.append(f"| {method} | " + " | ".join(f(m[c]) for c in GUARD_COLUMNS) + f" | {m['frames']} |")
        lines.append("")
    for key, rows in results.get("decomposition", {}).items():
        split, mode = key.split("/")
        lines += [f"### Where the per-joint error is ({split} split, {mode} inputs; analysis with the ground truth, docs/evaluation.md)", "",
                  "| method | " + " | ".join(PART_KEYS) + " |", "|---" * (len(PART_KEYS) + 1) + "|"]
        lines += [f"| {method} | " + " | ".join(f(m[k]) for k in PART_KEYS) + " |" for method, m in rows.items()]
        lines.append("")
    for mode, curves in results["figure3"].items():
        final = ", ".join(f"{name} {points[-1][1]:.1f} mm" for name, points in curves.items())
        lines.append(f"Figure 3 ({mode} inputs), per-joint error after {curves['Lk'][-1][0]} iterations: {final}")
    if "figure4" in results:
        f4 = results["figure4"]
        lines.append(f"\nFigure 4, shift split: IoU with the true silhouette: given mask {f4['shift_mask_iou_given']:.3f}, "
                     f"adapted mesh projection {f4['shift_mask_iou_adapted_mesh']:.3f} ({f4['frames']} frames)")
    return "\n".join(lines)


def write_outputs(results: dict, out: Path, partial: bool = False) -> None:
    """``partial``: written while the bench runs, marked so in the table and the JSON."""
    results = write_results(out, "results.json", "tables.md", results, format_tables, results["seconds"], partial)
    header = ["split", "inputs", "method", "surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm", "frames"]
    table = []
    for key, rows in results["tables"].items():
        split, mode = key.split("/")
        for method, m in rows.items():
            table.append([split, mode, method, m["surface_mm"], m["per_joint_mm"], m["recon_mm"], m["pa_mpjpe_mm"], m["accel_mm"], m["frames"]])
    for key, rows in results.get("drift_guards", {}).items():  # methods prefixed with the table's name
        split, mode = key.split("/")
        for method, m in rows.items():
            table.append([split, mode, f"drift-guards: {method}", m["surface_mm"], m["per_joint_mm"], m["recon_mm"], m["pa_mpjpe_mm"],
                          m["accel_mm"], m["frames"]])
    files.write_csv(out / "results.csv", header, table)
