"""Real-video benchmark: ``selfmocap capture`` on each video of a folder, scored without 3D truth.

    python benchmarks/bench_real_video.py                      # ../shared/video, whole clips
    python benchmarks/bench_real_video.py --end 2 --out /tmp/rv  # the first 2 s of each (development)

Each video is captured by ``selfmocap capture VIDEO --out WORK/NAME`` in a child process at
default settings (plus ``--end``/``--iters`` when given), whose peak resident memory is read from
the kernel (``os.wait4``'s ``ru_maxrss``). The capture's own files are then scored
(``docs/real-video.md`` defines every number), for the pretrained and adapted network
(``predictions/``) and the exported motion (``motion.npz``):

* keypoints: distance between the projected keypoints and the detector's confident ones
  (mediapipe confidence >= 0.5, frames with a person), mean and 95th percentile, in pixels of the
  analysed frame and in % of the person's height (the vertical extent of mediapipe's mask in
  that frame);
* silhouette IoU between the mesh ray cast through the frame's camera (``render.raycast``) and
  mediapipe's person mask, mean over frames with a person;
* jitter: mean acceleration ``|X[t+1] - 2 X[t] + X[t-1]|`` of the root-centred 3D joints in the
  camera's orientation (mm/frame^2) and of the projected 2D keypoints (px/frame^2), over triples of
  frames with a person; the detector's own 2D keypoints for reference;
* feet (exported motion, where ``motion.npz`` has the world frame): horizontal speed of a foot
  in contact (its contact label on in two consecutive frames), mm/frame; ground penetration: how
  far the mesh's lowest vertex is below y = 0, mm, and the fraction of frames where it is more
  than 1 mm below;
* frames without a person, end-to-end frames/s (pipeline and process), the stage table of
  ``run.json``, peak memory.

mediapipe's masks are not kept by ``capture`` (its work folder is deleted), so they are made again
here with the same detector on the same frames; the keypoints of that second pass are compared
with the ones ``capture`` used (``detector_rerun_px``) to show it saw the same thing.

Writes ``OUT/results.json``, ``OUT/results.md`` and a contact sheet per video
(``OUT/NAME.png``: 8 evenly spaced frames, each the exported mesh over the frame beside a side
view with the ground line).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from _timing import cpu_ticks, steal_percent

from selfmocap.body import load_body_model
from selfmocap.capture.smoothing import jitter_mm
from selfmocap.video import open_video
from selfmocap.cues.mediapipe import KEYPOINT_CONFIDENCE_THRESHOLD, PoseDetector
from selfmocap.data.predictions import ClipPrediction, read_prediction
from selfmocap.export.motion import read_motion_npz
from selfmocap.export.overlay import Ground, overlay_frame
from selfmocap.geometry.camera import Camera, camera_oriented, pinhole_project, to_camera_space
from selfmocap.io import write_bytes, write_json, write_text
from selfmocap.render.raycast import rasterize

#: The three motions scored: the shipped network, the network adapted to the video, the export.
METHODS = ("pretrained", "adapted", "exported")
#: Frames per body-model call.
CHUNK = 32
#: A mesh's lowest vertex counts as below the ground from this depth on (metres).
PENETRATION_TOLERANCE = 0.001
#: Frames on a contact sheet, and its largest width in pixels.
SHEET_FRAMES = 8
SHEET_WIDTH = 1600
#: Keypoints whose mean is a foot's position, per foot (the world frame's contact labels' order).
FOOT_KEYPOINTS = (
    ("left_ankle", "left_big_toe", "left_small_toe", "left_heel"),
    ("right_ankle", "right_big_toe", "right_small_toe", "right_heel"),
)


@dataclass(frozen=True)
class MethodScores:
    """What one motion scores on one video (or all of them). None: not available for it."""

    method: str
    keypoints: int  #: confident detector keypoints compared
    keypoint_px_mean: float
    keypoint_px_p95: float
    keypoint_pct_mean: float  #: % of the person's height
    keypoint_pct_p95: float
    silhouette_iou: float
    jitter3d_mm: float  #: mm/frame^2, root-centred joints in the camera's orientation
    jitter2d_px: float  #: px/frame^2, projected keypoints
    skating_mm_mean: float | None = None  #: mm/frame, foot in contact
    skating_mm_p95: float | None = None
    contact_fraction: float | None = None  #: of foot-frames in contact
    penetration_frames: float | None = None  #: fraction of frames with the mesh > 1 mm below ground
    penetration_max_mm: float | None = None
    penetration_mean_mm: float | None = None  #: over all frames (0 where above the ground)


@dataclass(frozen=True)
class RunCost:
    """Time and memory of one capture process."""

    frames: int
    pipeline_s: float  #: run.json's total (from the start of run_capture)
    process_s: float  #: the child process, start-up and model loading included
    peak_rss_gib: float  #: the child's peak resident memory
    stages_s: dict[str, float]  #: run.json's stage timings
    cpu_s: float = float("nan")  #: the child's user + system CPU time, all threads
    steal_pct: float = float("nan")  #: CPU time the hypervisor stole during the child's run, % of all CPU time

    @property
    def fps_pipeline(self) -> float:
        return self.frames / self.pipeline_s

    @property
    def fps_process(self) -> float:
        return self.frames / self.process_s


@dataclass(frozen=True)
class VideoResult:
    name: str
    source_size: tuple[int, int]
    size: tuple[int, int]  #: analysed frame size (W, H)
    fps: float
    frames: int
    frames_without_person: int
    person_height_px: float  #: median over frames with a mask
    world_frame: bool  #: motion.npz has the world frame (contacts, ground)
    detector_rerun_px: float  #: mean |keypoint of the mask pass - keypoint capture used|
    detector_jitter2d_px: float  #: the detector's own 2D keypoint acceleration, px/frame^2
    cost: RunCost
    scores: tuple[MethodScores, ...]
    sheet: str


@dataclass
class _Pool:
    """Raw per-keypoint / per-frame values of one method, pooled over videos for "overall"."""

    px: list
    pct: list
    iou: list
    jitter3d: list  #: (value, weight = valid triples)
    jitter2d: list
    skating: list
    contacts: list
    penetration: list


def _pool() -> _Pool:
    return _Pool([], [], [], [], [], [], [], [])


def _p95(values: np.ndarray) -> float:
    return float(np.percentile(values, 95)) if len(values) else float("nan")


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _weighted(pairs: list) -> float:
    pairs = [(v, w) for v, w in pairs if w > 0 and math.isfinite(v)]
    return sum(v * w for v, w in pairs) / sum(w for _, w in pairs) if pairs else float("nan")


def triples(valid: np.ndarray) -> int:
    """Triples of consecutive frames that are all valid (what :func:`jitter_mm` averages over)."""
    return int((valid[2:] & valid[1:-1] & valid[:-2]).sum()) if len(valid) >= 3 else 0


def person_heights(masks: np.ndarray) -> np.ndarray:
    """(T,) the vertical extent in pixels of each (T, H, W) bool mask (NaN where empty)."""
    rows = masks.any(axis=2)
    any_row = rows.any(axis=1)
    top = np.argmax(rows, axis=1)
    bottom = rows.shape[1] - np.argmax(rows[:, ::-1], axis=1)
    return np.where(any_row, bottom - top, np.nan).astype(np.float64)


def keypoint_distances(projected: np.ndarray, detected_kp: np.ndarray, confidence: np.ndarray,
                       frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distances (pixels) of the confident keypoints: (T, K, 2) projected, (T, K, 2) detector
    keypoints, (T, K) detector confidence, (T,) frames with a person. Returns the distances
    (N,) and the (N,) frame index of each."""
    use = (confidence >= KEYPOINT_CONFIDENCE_THRESHOLD) & frames[:, None]
    dist = np.linalg.norm(projected - detected_kp, axis=-1)
    return dist[use], np.nonzero(use)[0]


def silhouette_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two bool masks (1 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def mesh_mask_iou(vertices_cam: np.ndarray, faces: np.ndarray, focal: float, principal: tuple[float, float],
                  mask: np.ndarray) -> float:
    """IoU of the mesh's ray-cast silhouette (``render.raycast.rasterize``) with a (H, W) mask,
    casting rays only inside the box of the projected vertices: with every vertex in front of the
    camera the silhouette lies inside it, and a crop shifted by whole pixels keeps the rays through
    the pixel centres (``c' = c - offset``), so this is :func:`silhouette_iou` of the full ray cast."""
    h, w = mask.shape
    z = vertices_cam[:, 2]
    if not (z > 1e-6).all():  # something behind the camera: cast every ray
        return silhouette_iou(rasterize(vertices_cam, faces, focal, principal, h, w).mask, mask)
    uv = pinhole_project(vertices_cam, focal, np.asarray(principal))
    x0, y0 = np.maximum(np.floor(uv.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(uv.max(axis=0)).astype(int) + 1, (w, h))
    inside = 0
    silhouette = 0
    if x1 > x0 and y1 > y0:
        sil = rasterize(vertices_cam, faces, focal, (principal[0] - x0, principal[1] - y0), y1 - y0, x1 - x0).mask
        inside, silhouette = int((sil & mask[y0:y1, x0:x1]).sum()), int(sil.sum())
    union = silhouette + int(mask.sum()) - inside
    return inside / union if union else 1.0


def foot_skating(feet: np.ndarray, contacts: np.ndarray) -> np.ndarray:
    """(M,) horizontal (x, z) speed in mm/frame of each foot over each pair of consecutive frames
    in which its contact label is on in both: (T, 2, 3) world foot positions (y up), (T, 2) bool."""
    step = np.linalg.norm(np.diff(feet[..., [0, 2]], axis=0), axis=-1)  # (T-1, 2)
    both = contacts[1:] & contacts[:-1]
    return step[both] * 1000.0


def penetration(lowest_y: np.ndarray) -> np.ndarray:
    """(T,) mm below the ground y = 0 of each frame's lowest mesh point (0 where above)."""
    return np.maximum(-lowest_y, 0.0) * 1000.0


def _vertices(body, pose: np.ndarray, shape: np.ndarray):
    """(B, V, 3) body-frame vertices and (B, K, 3) keypoints, chunk by chunk: pose (T, P, 3), shape (T, S)."""
    dtype = body.default_shape.dtype
    for start in range(0, len(pose), CHUNK):
        with torch.no_grad():
            out = body(torch.as_tensor(pose[start:start + CHUNK], dtype=dtype), torch.as_tensor(shape[start:start + CHUNK], dtype=dtype))
        yield start, out.vertices.double()


def score_method(method: str, pred: ClipPrediction, body, masks: np.ndarray, heights: np.ndarray, kp_in: np.ndarray,
                 conf: np.ndarray, frames: np.ndarray, world, pool: _Pool) -> MethodScores:
    """Score one motion of one video (see the module docstring) and add its raw values to ``pool``."""
    t_count, h, w = masks.shape
    dist, frame_of = keypoint_distances(pred.keypoints2d.astype(np.float64), kp_in[..., :2].astype(np.float64), conf, frames)
    pct = 100.0 * dist / heights[frame_of]
    pct = pct[np.isfinite(pct)]
    faces = body.faces.cpu().numpy()
    shape = np.broadcast_to(pred.shape, (t_count, pred.shape.shape[-1])) if pred.shape.ndim == 1 else pred.shape
    ious, lowest = [], np.full(t_count, np.nan)
    for start, verts in tqdm(_vertices(body, pred.pose, shape), total=math.ceil(t_count / CHUNK), desc=f"score {method}",
                             unit="chunk", leave=False):
        idx = slice(start, start + len(verts))
        cam = Camera.from_array(torch.from_numpy(pred.camera[idx]).double())
        verts_cam = to_camera_space(verts, cam).numpy()
        for i, t in enumerate(range(start, start + len(verts))):
            if not frames[t]:
                continue
            ious.append(mesh_mask_iou(verts_cam[i], faces, float(cam.focal[i]), tuple(cam.principal[i].tolist()), masks[t]))
        if world is not None:
            lowest[idx] = world.points_at(idx, verts.numpy())[..., 1].min(axis=1)
    rotation = Camera.from_array(torch.from_numpy(pred.camera).double()).rotation
    joints = camera_oriented(torch.from_numpy(pred.joints3d).double(), rotation).numpy()
    jitter3d = jitter_mm(joints, frames)
    jitter2d = jitter_mm(pred.keypoints2d.astype(np.float64) / 1000.0, frames)  # jitter_mm reports 1000x its unit: px here
    n_triples = triples(frames)
    pool.px.append(dist), pool.pct.append(pct), pool.iou.append(np.asarray(ious))
    pool.jitter3d.append((jitter3d, n_triples)), pool.jitter2d.append((jitter2d, n_triples))
    feet = {}
    if world is not None:
        names = list(body.keypoint_names)
        kp_idx = [[names.index(n) for n in foot] for foot in FOOT_KEYPOINTS]
        foot_points = world.points(pred.keypoints3d.astype(np.float64))  # (T, K, 3) world
        positions = np.stack([foot_points[:, i].mean(axis=1) for i in kp_idx], axis=1)  # (T, 2, 3)
        contacts = np.asarray(world.contacts, bool)
        skate = foot_skating(positions, contacts)
        below = penetration(lowest)
        pool.skating.append(skate), pool.contacts.append(contacts.ravel()), pool.penetration.append(below)
        feet = _feet_scores(skate, contacts.ravel(), below)
    return MethodScores(method, len(dist), _mean(dist), _p95(dist), _mean(pct), _p95(pct), _mean(np.asarray(ious)),
                        jitter3d, jitter2d, **feet)


def _feet_scores(skate: np.ndarray, contacts: np.ndarray, below: np.ndarray) -> dict:
    return dict(skating_mm_mean=_mean(skate), skating_mm_p95=_p95(skate), contact_fraction=_mean(contacts.astype(float)),
                penetration_frames=_mean((below > PENETRATION_TOLERANCE * 1000).astype(float)),
                penetration_max_mm=float(below.max()) if len(below) else float("nan"), penetration_mean_mm=_mean(below))


def pooled_scores(method: str, pool: _Pool) -> MethodScores:
    """The overall scores of one method: every keypoint, frame and step of every video pooled."""
    cat = lambda values: np.concatenate(values) if values else np.zeros(0)  # noqa: E731
    px, pct, iou = cat(pool.px), cat(pool.pct), cat(pool.iou)
    feet = _feet_scores(cat(pool.skating), cat(pool.contacts), cat(pool.penetration)) if pool.penetration else {}
    return MethodScores(method, len(px), _mean(px), _p95(px), _mean(pct), _p95(pct), _mean(iou),
                        _weighted(pool.jitter3d), _weighted(pool.jitter2d), **feet)


def run_capture(video: Path, out: Path, extra: list[str]) -> tuple[dict, list[str]]:
    """``selfmocap capture VIDEO --out OUT EXTRA`` in a child process; its cost (``process_s``,
    ``peak_rss_gib``, ``cpu_s``, ``steal_pct``) and argv."""
    argv = [sys.executable, "-m", "selfmocap.cli", "capture", str(video), "--out", str(out), "--overwrite", *extra]
    ticks = cpu_ticks()
    started = time.perf_counter()
    child = subprocess.Popen(argv)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"capture of {video} failed with exit code {child.returncode}: {shlex.join(argv)}")
    return {"process_s": seconds, "peak_rss_gib": usage.ru_maxrss / 2**20,  # ru_maxrss: KiB on Linux
            "cpu_s": usage.ru_utime + usage.ru_stime, "steal_pct": steal_percent(ticks, cpu_ticks())}, argv


def mask_pass(result: Path, sheet_at: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """mediapipe again over the frames the capture read (run.json's window and size): (T, H, W)
    bool masks, (T, K, 3) keypoints, and the frames at ``sheet_at``."""
    run = json.loads((result / "run.json").read_text())
    source = run["config"]["source"]
    reader = open_video(run["video"]["source"], start=source["start"], end=source["end"], fps=source["fps"],
                        max_size=source["max_size"])
    w, h = reader.info.size
    masks = np.zeros((reader.info.num_frames, h, w), bool)
    keypoints = []
    kept = {}
    wanted = set(int(i) for i in sheet_at)
    with PoseDetector(model_complexity=source["model_complexity"]) as detector:
        for t, frame in enumerate(tqdm(reader, total=reader.info.num_frames, desc="masks", unit="frame", leave=False)):
            cues = detector(frame)
            if cues.mask is not None:
                masks[t] = cues.mask
            keypoints.append(cues.keypoints)
            if t in wanted:
                kept[t] = frame
    return masks, np.stack(keypoints), kept


def _fitted_label(tile: np.ndarray, labels: list[str]) -> tuple[float, str]:
    """The font scale and the first of ``labels`` that fits inside the overlay's half of a tile at a
    readable size (the last one, shrunk to fit, where none does): portrait videos have narrow tiles."""
    room = tile.shape[1] / 2 - 12
    height_scale = tile.shape[0] / 480.0

    def fitted(label: str) -> float:
        (width, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)
        scale = min(height_scale, room / width)
        while scale > 0.35 and cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] > room:
            scale *= 0.97  # glyph widths round to whole pixels: not exactly linear in the scale
        return scale

    for label in labels:
        scale = fitted(label)
        if scale >= 0.6 * height_scale:
            return scale, label
    return max(scale, 0.35), labels[-1]


def contact_sheet(frames: dict[int, np.ndarray], motion, body, fps: float, name: str) -> np.ndarray:
    """The sheet: each kept frame's side-by-side overlay of the exported motion, labelled with its
    frame number and time, in rows of tiles (2 per row for landscape videos, 4 for portrait)."""
    faces = body.faces.cpu().numpy()
    tiles = []
    for t, image in sorted(frames.items()):
        with torch.no_grad():
            verts = body(torch.as_tensor(motion.pose[t:t + 1]), torch.as_tensor(motion.shape)[None]).vertices[0].numpy()
        world = _world(motion)
        ground = Ground.of(world.world_from_camera, float(world.translation[t][1])) if world is not None else None
        tile = overlay_frame(image, verts, faces, motion.camera[t], detected=bool(motion.detected[t]), ground=ground)
        scale, label = _fitted_label(tile, [f"{name} frame {t} ({t / fps:.2f} s)", f"frame {t} ({t / fps:.2f} s)"])
        outline = max(2, round(3 * scale))
        for colour, thick in (((0, 0, 0), outline), ((255, 255, 255), max(1, outline // 3))):
            cv2.putText(tile, label, (6, tile.shape[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)
        tiles.append(tile)
    h, w = tiles[0].shape[:2]
    per_row = 2 if w >= 2 * h else 4
    while len(tiles) % per_row:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.concatenate(tiles[i:i + per_row], axis=1) for i in range(0, len(tiles), per_row)]
    sheet = np.concatenate(rows, axis=0)
    factor = SHEET_WIDTH / sheet.shape[1]
    if factor < 1:  # keeps the committed PNGs small
        sheet = cv2.resize(sheet, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return sheet


def _world(motion):
    """The motion's world frame, or None for a ``motion.npz`` written before it existed."""
    return getattr(motion, "world", None)


def bench_video(video: Path, work: Path, out: Path, extra: list[str], pools: dict[str, _Pool], reuse: bool = False) -> VideoResult:
    name = video.stem
    result = work / name
    cost_file = work / f"{name}.cost.json"  # the process's time and memory, beside the capture
    if reuse and (result / "run.json").is_file():
        print(f"\n== {name}: reusing the capture in {result}", flush=True)
        cost = json.loads(cost_file.read_text()) if cost_file.is_file() else {}
    else:
        print(f"\n== {name}: capture", flush=True)
        cost, argv = run_capture(video, result, extra)
        write_json(cost_file, {**cost, "argv": argv})
    run = json.loads((result / "run.json").read_text())
    summary = run["summary"]
    motion = read_motion_npz(result / "motion.npz")
    with np.load(result / "motion.npz") as z:
        kp_in, conf = z["keypoints2d_input"], z["keypoints2d_confidence"]
    frames = np.asarray(motion.detected, bool)
    t_count = motion.num_frames
    sheet_at = np.unique(np.linspace(0, t_count - 1, SHEET_FRAMES).round().astype(int))
    print(f"== {name}: scoring", flush=True)
    masks, kp_rerun, kept = mask_pass(result, sheet_at)
    both = (conf >= KEYPOINT_CONFIDENCE_THRESHOLD) & (kp_rerun[..., 2] >= KEYPOINT_CONFIDENCE_THRESHOLD)
    rerun_px = _mean(np.linalg.norm(kp_rerun[..., :2] - kp_in[..., :2], axis=-1)[both])
    heights = person_heights(masks)
    body = load_body_model(motion.body_model)
    scores = []
    for method in METHODS:
        pred = read_prediction(result / "predictions" / method / f"{summary['clip_id']}.npz")
        world = _world(motion) if method == "exported" else None
        scores.append(score_method(method, pred, body, masks, heights, kp_in, conf, frames, world, pools[method]))
    sheet = contact_sheet(kept, motion, body, motion.fps, name)
    ok, png = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    write_bytes(out / f"{name}.png", png.tobytes())
    stages = {k: float(v) for k, v in summary["timings_s"].items()}
    nan = float("nan")
    cost = RunCost(t_count, stages["total"], cost.get("process_s", nan), cost.get("peak_rss_gib", nan), stages,
                   cost.get("cpu_s", nan), cost.get("steal_pct", nan))
    return VideoResult(
        name=name, source_size=tuple(run["video"]["source_size"]), size=tuple(motion.image_size), fps=motion.fps,
        frames=t_count, frames_without_person=int((~frames).sum()), person_height_px=float(np.nanmedian(heights)),
        world_frame=_world(motion) is not None, detector_rerun_px=rerun_px,
        detector_jitter2d_px=_detector_jitter(kp_in, conf, frames), cost=cost, scores=tuple(scores), sheet=f"{name}.png")


def _detector_jitter(kp_in: np.ndarray, conf: np.ndarray, frames: np.ndarray) -> float:
    """Mean 2D acceleration of the detector's keypoints, px/frame^2, over keypoints confident in
    all three frames of a triple of frames with a person."""
    if len(kp_in) < 3:
        return float("nan")
    acc = np.linalg.norm(kp_in[2:, :, :2] - 2 * kp_in[1:-1, :, :2] + kp_in[:-2, :, :2], axis=-1)
    ok = (conf[2:] >= KEYPOINT_CONFIDENCE_THRESHOLD) & (conf[1:-1] >= KEYPOINT_CONFIDENCE_THRESHOLD) & (
        conf[:-2] >= KEYPOINT_CONFIDENCE_THRESHOLD)
    ok &= (frames[2:] & frames[1:-1] & frames[:-2])[:, None]
    return _mean(acc[ok])


def _f(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def format_tables(results: list[VideoResult], overall: tuple[MethodScores, ...], command: str, note: str) -> str:
    """The markdown tables of ``results.md``."""
    lines = [f"Command: `{command}`", "", note, ""]
    lines += ["| video | method | kpt px mean / p95 | kpt % height mean / p95 | silhouette IoU | jitter 3D mm/f² | "
              "jitter 2D px/f² | skating mm/f mean / p95 | penetration: frames / max mm |", "|---|---|---|---|---|---|---|---|---|"]
    for name, scores in [(r.name, r.scores) for r in results] + [("**overall**", overall)]:
        for s in scores:
            skate = "n/a" if s.skating_mm_mean is None else f"{_f(s.skating_mm_mean)} / {_f(s.skating_mm_p95)}"
            pen = "n/a" if s.penetration_frames is None else f"{100 * s.penetration_frames:.1f} % / {_f(s.penetration_max_mm)}"
            lines.append(f"| {name} | {s.method} | {_f(s.keypoint_px_mean, 2)} / {_f(s.keypoint_px_p95, 2)} | "
                         f"{_f(s.keypoint_pct_mean, 2)} / {_f(s.keypoint_pct_p95, 2)} | {_f(s.silhouette_iou, 3)} | "
                         f"{_f(s.jitter3d_mm)} | {_f(s.jitter2d_px, 2)} | {skate} | {pen} |")
    lines += ["", "| video | frames | analysed at | person height px (median) | frames without a person | detector 2D jitter px/f² | "
              "mask-pass keypoint shift px | frames/s (pipeline / process) | CPU s (ms / frame) | CPU steal % | peak memory GiB |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        c = r.cost
        lines.append(f"| {r.name} | {r.frames} | {r.size[0]}x{r.size[1]} (from {r.source_size[0]}x{r.source_size[1]}) | "
                     f"{_f(r.person_height_px, 0)} | {r.frames_without_person} | {_f(r.detector_jitter2d_px, 2)} | "
                     f"{_f(r.detector_rerun_px, 3)} | {c.fps_pipeline:.2f} / {c.fps_process:.2f} | "
                     f"{_f(c.cpu_s)} ({_f(1e3 * c.cpu_s / c.frames, 0)}) | {_f(c.steal_pct)} | {c.peak_rss_gib:.2f} |")
    frames = sum(r.frames for r in results)
    pipeline = sum(r.cost.pipeline_s for r in results)
    process = sum(r.cost.process_s for r in results)
    cpu = sum(r.cost.cpu_s for r in results)
    lines.append(f"| **all** | {frames} | | | {sum(r.frames_without_person for r in results)} | | | "
                 f"{frames / pipeline:.2f} / {frames / process:.2f} | {_f(cpu)} ({_f(1e3 * cpu / frames, 0)}) | | "
                 f"{max(r.cost.peak_rss_gib for r in results):.2f} |")
    stages = list(dict.fromkeys(k for r in results for k in r.cost.stages_s))
    lines += ["", "Stage table, ms per frame (`run.json` timings):", "",
              "| stage | " + " | ".join(r.name for r in results) + " |", "|---" * (len(results) + 1) + "|"]
    for k in stages:
        cells = [_f(1000 * r.cost.stages_s[k] / r.frames) if k in r.cost.stages_s else "" for r in results]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--videos", type=Path, default=root.parent / "shared" / "video", help="folder of videos")
    parser.add_argument("--only", nargs="*", help="video names (stems) to run, in this order (default: all, by name)")
    parser.add_argument("--out", type=Path, default=root / "docs" / "real-video", help="results.json, results.md, sheets")
    parser.add_argument("--work", type=Path, help="keep the capture results here (default: a temporary folder)")
    parser.add_argument("--end", type=float, help="capture only the first END seconds of each video (development)")
    parser.add_argument("--iters", type=int, help="adaptation steps per segment (development; default: capture's)")
    parser.add_argument("--reuse", action="store_true", help="score the captures already in --work instead of running them")
    parser.add_argument("--note", default="", help="written above the tables, before the load average (e.g. which commit ran)")
    args = parser.parse_args()
    import tempfile

    suffixes = {".mp4", ".mov", ".avi", ".mkv", ".webm"}
    videos = sorted(p for p in args.videos.iterdir() if p.suffix.lower() in suffixes) if args.videos.is_dir() else []
    if args.only:  # in the order given
        videos = [v for name in args.only for v in videos if v.stem == name]
    if not videos:
        raise SystemExit(f"no video in {args.videos}; give --videos DIR (default ../shared/video)")
    extra = (["--end", f"{args.end:g}"] if args.end else []) + (["--iters", str(args.iters)] if args.iters else [])
    command = shlex.join(["python", "benchmarks/bench_real_video.py", *sys.argv[1:]])
    pools = {m: _pool() for m in METHODS}
    results: list[VideoResult] = []
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        for video in videos:  # the files are rewritten after each video: an interrupted run keeps what it measured
            results.append(bench_video(video, work, args.out, extra, pools, args.reuse))
            overall = tuple(pooled_scores(m, pools[m]) for m in METHODS)
            load = os.getloadavg()
            note = (f"{args.note} " if args.note else "") + (
                f"Load average when {video.stem} was done: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
                f"(1 / 5 / 15 min) on {os.cpu_count()} cores.")
            payload = {"command": command, "note": note, "started_utc": started,
                       "written_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                       "videos": [dict(asdict(r), fps_pipeline=r.cost.fps_pipeline, fps_process=r.cost.fps_process)
                                  for r in results],
                       "overall": [asdict(s) for s in overall], "missing": [v.stem for v in videos[len(results):]]}
            write_json(args.out / "results.json", payload)
            tables = format_tables(results, overall, command, note)
            write_text(args.out / "results.md", tables)
    print("\n" + tables)


if __name__ == "__main__":
    main()
