"""``selfmocap capture VIDEO --out DIR``: a video in, animation-ready 3D motion out.

Stages (``docs/capture.md``), each with a progress bar:

1. **cues**: frames are streamed from the file (never all decoded at once); mediapipe's pose
   model gives 2D keypoints and a person mask per frame (or the user's keypoint JSON / mask
   PNGs); masks are kept as PNGs in the work folder.
2. **crops**: one square person box per frame from the keypoints, smoothed over time, filled in
   where nobody was detected.
3. **adapt**: the video is cut into segments of at most ``--segment`` frames (memory stays
   bounded: only one segment's frames, masks and DIS optical flow are in RAM). On each segment
   the pretrained network predicts every frame (the "pretrained" result), then the *adapting*
   network (one network carried through the whole video) is fine-tuned on the segment's frame
   pairs with the self-supervised losses, and predicts every frame again (the "adapted"
   result). A video of at most one segment is exactly the paper's test-time adaptation.
4. **motion**: one body shape per video (median over detected frames), frames without a person
   filled by interpolation, temporal smoothing bounded by the 2D evidence.
5. **exports**: ``motion.npz``, ``motion.glb``, ``motion.bvh``, optional meshes, the overlay
   video, the report, ``run.json``.

Everything is written into a temporary folder beside ``--out`` that is renamed to ``--out`` only
at the end: an interrupted run leaves no result that looks complete. ``--out`` is checked, locked
and its partial folder created before any work; only selfmocap's own files are ever replaced.
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import roma
import torch
from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap.adapt.adapt import adapt_network
from selfmocap.adapt.config import AdaptOptions
from selfmocap.adapt.log import AdaptLog
from selfmocap.adapt.inputs import (
    build_inputs,
    crop_squares,
    mask_pixels,
)
from selfmocap.adapt.network import predict_clip, to_clip_prediction
from selfmocap.adapt.refine import RefineTargets, keypoint_errors, refine_motion, video_shape
from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.capture.config import CaptureConfig, CaptureOptions, SourceOptions
from selfmocap.cues.flow import pair_flow
from selfmocap.cues.mediapipe import KEYPOINT_CONFIDENCE_THRESHOLD
from selfmocap.capture.summary import CaptureSummary, CaptureTimings, ReprojectionSummary, SmoothingSummary
from selfmocap.cues.detector import MIN_VISIBLE_KEYPOINTS
from selfmocap.capture.smoothing import (
    SIGMA_FRAMES,
    MotionParams,
    blend_params,
    jitter_mm,
    smooth_within_tolerance,
)
from selfmocap.errors import UserError
from selfmocap.data.predictions import ClipPrediction, write_prediction, write_run_info
from selfmocap.export.motion import format_frame_ranges, frame_ranges
from selfmocap.geometry.camera import Camera, camera_oriented, project

#: Frames per body-model call on whole-video arrays (memory stays bounded for long videos).
CHUNK = 128

#: Files whose presence marks a folder as holding a capture result.
RESULT_MARKERS = ("motion.npz", "run.json")


@dataclass(frozen=True)
class Cues:
    """2D cues of the whole video: keypoints in RAM, masks as PNG files in the work folder."""

    keypoints: np.ndarray  #: (T, K, 3) frame pixels, binary confidence
    raw_confidence: np.ndarray  #: (T, K) the detector's confidence
    detected: np.ndarray  #: (T,) bool
    mask_dir: Path
    seconds: float  #: the whole pass
    detector_seconds: float  #: of which in the detector (the rest: decoding, resizing, mask files)
    world: np.ndarray | None = None  #: (T, K, 4) mediapipe's metric world landmarks and confidence, None without mediapipe

    def mask(self, t: int) -> np.ndarray:
        image = cv2.imread(str(self.mask_dir / f"{t:06d}.png"), cv2.IMREAD_GRAYSCALE)
        return image > 0


@dataclass
class CaptureResult:
    """What ``capture`` produced (also returned to the demo)."""

    out: Path
    clip_id: str
    num_frames: int
    fps: float
    detected: np.ndarray
    pretrained: ClipPrediction
    adapted: ClipPrediction
    exported: ClipPrediction
    timings: CaptureTimings
    summary: CaptureSummary


#: Every file or folder a capture run writes into its result folder: the only entries
#: ``--overwrite`` replaces (anything else in ``--out`` is the user's and is kept).
RESULT_ENTRIES = frozenset({
    "motion.npz", "motion.glb", "motion.bvh", "meshes", "overlay.mp4", "overlay.avi", "overlay_frame.png",
    "report.html", "report_losses.png", "report_reprojection.png", "adapt_log.csv", "adapt_curves.png",
    "predictions", "run.json", "cache",
})

#: File in the partial folder naming the process that writes it (stale partials are removed).
PID_FILE = ".selfmocap.pid"


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out(out: Path, overwrite: bool, video: Path | None = None) -> None:
    """Refuse an ``--out`` a capture would damage or could not write (one-line ``UserError``)."""
    resolved = out.resolve()
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise UserError(f"--out {out}: {parent} is a file, not a folder: choose another --out")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder: choose another --out")
    if _within(Path.cwd().resolve(), resolved):
        raise UserError(f"--out {out} is the current folder or one of its parents: choose a new folder for the result")
    if video is not None:
        source = video.resolve()
        if _within(source, resolved):
            raise UserError(f"--out {out} holds the input {video}: choose an --out outside the input")
        if source.is_dir() and _within(resolved, source):
            raise UserError(f"--out {out} is inside the input image folder {video}: choose an --out outside it")
    if not out.is_dir():
        return
    entries = {e.name for e in out.iterdir()}
    if not entries:
        return
    if not any(m in entries for m in RESULT_MARKERS):
        raise UserError(f"--out {out} is a non-empty folder that holds no capture result: "
                        "choose a new or empty folder (nothing in it is deleted)")
    if not overwrite:
        raise UserError(f"--out {out} already holds a capture result: choose another --out, or add --overwrite to replace it")


def finalize(work: Path, out: Path) -> None:
    """Move the finished work folder to ``out``.

    Only selfmocap's own entries of an old result (``RESULT_ENTRIES``) are replaced: a folder that
    holds nothing else is swapped whole; otherwise the old entries are first moved aside, the new
    ones moved in one by one, and only then the aside copies deleted (an interrupted run leaves the
    old result in ``.NAME.old-PID`` beside ``out``, never half-deleted). Other files are kept.
    """
    (work / PID_FILE).unlink(missing_ok=True)
    if not out.exists():
        os.replace(work, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    entries = list(out.iterdir())
    if all(e.name in RESULT_ENTRIES for e in entries):
        os.replace(out, old)
        os.replace(work, out)
    else:
        old.mkdir()
        for entry in entries:
            if entry.name in RESULT_ENTRIES:
                os.replace(entry, old / entry.name)
        for entry in list(work.iterdir()):
            os.replace(entry, out / entry.name)
        work.rmdir()
    shutil.rmtree(old, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(out: Path) -> list[Path]:
    """Remove ``.NAME.partial-*`` folders of ``out`` whose recorded writing process is gone."""
    removed = []
    for partial in out.parent.glob(f".{out.name}.partial-*"):
        try:
            pid = int((partial / PID_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # no pid recorded: not ours to judge
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(partial)
    return removed


class OutLock:
    """An exclusive ``fcntl.flock`` on ``.NAME.lock`` beside ``out``; a second capture into the same
    ``--out`` is refused. The lock file is removed on release."""

    def __init__(self, out: Path):
        self.path = out.parent / f".{out.name}.lock"
        self.out = out
        self.fd: int | None = None

    def acquire(self) -> "OutLock":
        import fcntl

        for _ in range(10):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as err:
                raise UserError(f"--out {self.out}: cannot write in {self.path.parent} ({err.strerror}): "
                                "choose another --out") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise UserError(f"--out {self.out} is being written by another capture right now: "
                                "wait for it or choose another --out") from None
            try:  # the holder before us may have removed the file after we opened it: lock the current one
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                return self
            os.close(fd)
        raise UserError(f"--out {self.out}: cannot lock {self.path}: choose another --out")

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)
            self.fd = None


def make_work(out: Path) -> Path:
    """Create the partial folder beside ``out`` (mode from the umask, writer's pid recorded)."""
    from selfmocap.io import dir_mode

    try:
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as err:
        raise UserError(f"--out {out}: cannot write in {out.parent} ({err.strerror}): choose another --out") from None
    os.chmod(work, dir_mode())
    (work / PID_FILE).write_text(f"{os.getpid()}\n")
    return work


def prepare_out(out: Path, overwrite: bool, video: Path | None = None) -> tuple[OutLock, Path]:
    """Check ``out``, create its parent, lock it, remove stale partials, create the partial folder."""
    check_out(out, overwrite, video)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {out}: cannot create {out.parent} ({err.strerror}): choose another --out") from None
    lock = OutLock(out).acquire()
    try:
        check_out(out, overwrite, video)  # again, under the lock
        remove_stale_partials(out)
        work = make_work(out)
    except BaseException:
        lock.release()
        raise
    return lock, work


def gather_cues(reader, source: SourceOptions, work: Path) -> Cues:
    """Stream the frames once: keypoints and masks per frame (mediapipe or the user's files)."""
    from selfmocap.cues.mediapipe import PoseDetector
    from selfmocap.cues.keypoint_files import read_keypoints, read_masks

    info = reader.info
    started = time.perf_counter()
    mask_dir = work / "cache" / "masks"
    mask_dir.mkdir(parents=True)
    window = dict(source_indices=info.source_indices, source_num_frames=info.source_num_frames)
    user_kp = read_keypoints(source.keypoints, info.num_frames, info.scale, **window) if source.keypoints else None
    user_masks = read_masks(source.masks, info.num_frames, info.size, **window) if source.masks else None
    detector = PoseDetector(model_complexity=source.model_complexity, segmentation=user_masks is None) if (
        user_kp is None or user_masks is None) else None
    keypoints = np.zeros((info.num_frames, len(KEYPOINT_NAMES), 3), np.float32)
    world = np.zeros((info.num_frames, len(KEYPOINT_NAMES), 4), np.float32) if detector is not None else None
    in_detector = 0.0
    try:
        for t, frame in enumerate(tqdm(reader, total=info.num_frames, desc="cues", unit="frame")):
            tic = time.perf_counter()
            cues = detector(frame) if detector is not None else None
            in_detector += time.perf_counter() - tic
            keypoints[t] = user_kp[t] if user_kp is not None else cues.keypoints
            if world is not None and cues.world is not None:
                world[t] = cues.world
            mask = user_masks[t] if user_masks is not None else cues.mask
            if mask is None:
                mask = np.zeros(frame.shape[:2], bool)
            cv2.imwrite(str(mask_dir / f"{t:06d}.png"), mask.astype(np.uint8) * 255)
    finally:
        if detector is not None:
            detector.close()
    # input keypoints below the detector's confidence threshold count as missing: the network
    # was trained with binary visibility, and mediapipe's visibility is a probability
    raw_conf = keypoints[..., 2].copy()
    keypoints[..., 2] = (raw_conf >= KEYPOINT_CONFIDENCE_THRESHOLD).astype(np.float32)
    detected = (keypoints[..., 2] > 0).sum(1) >= MIN_VISIBLE_KEYPOINTS
    keypoints[~detected, :, 2] = 0.0
    if world is not None:
        world[~detected, :, 3] = 0.0
    return Cues(keypoints, raw_conf, detected, mask_dir, time.perf_counter() - started, in_detector, world)


def iterations(options: CaptureOptions, pairs: int) -> int:
    """Adaptation steps for a segment with ``pairs`` frame pairs."""
    if not options.adapt or pairs < 1:
        return 0
    if options.iters > 0:
        return options.iters
    return max(options.min_iters, math.ceil(options.epochs * pairs / options.step.batch))


def segments(num_frames: int, length: int) -> list[tuple[int, int]]:
    """Split ``num_frames`` into near-equal consecutive [start, end) segments of at most ``length``."""
    count = max(1, math.ceil(num_frames / max(length, 1)))
    bounds = np.linspace(0, num_frames, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _cat_predictions(parts: list[ClipPrediction]) -> ClipPrediction:
    arrays = {
        name: np.concatenate([getattr(p, name) for p in parts]) for name in ClipPrediction.__dataclass_fields__
        if isinstance(getattr(parts[0], name), np.ndarray)
    }
    return ClipPrediction(**arrays, body_model=parts[0].body_model)


def fill_missing(params: MotionParams, detected: np.ndarray) -> MotionParams:
    """Frames without a detection take the parameters interpolated between the nearest detected
    frames (slerp for rotations; the nearest one at the ends)."""
    if detected.all() or not detected.any():
        return params
    t_idx = np.arange(len(detected))
    known = t_idx[detected]
    prev = np.array([known[known <= t].max() if (known <= t).any() else known.min() for t in t_idx])
    nxt = np.array([known[known >= t].min() if (known >= t).any() else known.max() for t in t_idx])
    span = np.maximum(nxt - prev, 1)
    weight = torch.tensor(np.where(nxt == prev, 0.0, (t_idx - prev) / span))
    a = MotionParams(params.pose[prev], params.rotation[prev], params.focal[prev], params.trans[prev])
    b = MotionParams(params.pose[nxt], params.rotation[nxt], params.focal[nxt], params.trans[nxt])
    return blend_params(a, b, weight)


def refine_targets(cues: Cues, sides: np.ndarray) -> RefineTargets:
    """What the final per-frame fit compares with: the cues and the person's box sides."""
    return RefineTargets(
        keypoints=torch.from_numpy(cues.keypoints),
        side=torch.from_numpy(np.asarray(sides, np.float32)),
        detected=torch.from_numpy(cues.detected),
        masks=lambda a, b: torch.from_numpy(np.stack([cues.mask(t) for t in range(a, b)])),
        world=None if cues.world is None else torch.from_numpy(cues.world),
    )


def final_motion(body, adapted: ClipPrediction, cues: Cues, options: CaptureOptions, fps: float,
                 ceiling: torch.Tensor | None = None):
    """One shape per video, missing frames filled, smoothing within the 2D tolerance (and, with
    ``ceiling`` (T,) pixels, never above the larger of the frame's unsmoothed error and its ceiling).

    Returns the exported :class:`ClipPrediction` and the per-frame smoothing blend weights."""
    detected = cues.detected
    shape = video_shape(adapted, detected)
    cam = Camera.from_array(torch.from_numpy(adapted.camera).double())
    raw = MotionParams(
        pose=roma.rotvec_to_rotmat(torch.from_numpy(adapted.pose).double()),
        rotation=cam.rotation, focal=cam.focal, trans=cam.trans,
    )
    raw = fill_missing(raw, detected)
    t_count = len(raw)
    shape_t = torch.from_numpy(shape).float()[None].expand(t_count, -1)

    def camera_of(p: MotionParams) -> Camera:
        return cam.replace(rotation=p.rotation, focal=p.focal, trans=p.trans)

    def project_params(p: MotionParams) -> torch.Tensor:
        with torch.no_grad():
            kp = torch.cat([body(p.pose[i:i + CHUNK].float(), shape_t[i:i + CHUNK]).keypoints
                            for i in range(0, t_count, CHUNK)]).double()
        return project(kp, camera_of(p))

    sigma = SIGMA_FRAMES[options.smoothing] * fps / 30.0
    final, weight = smooth_within_tolerance(raw, sigma, project_params, torch.from_numpy(cues.keypoints).double(),
                                            options.smoothing_tolerance, ceiling=ceiling)
    camera = camera_of(final).to(torch.float32)
    valid = torch.from_numpy(detected)
    exported = _cat_predictions([
        to_clip_prediction(body, final.pose[i:i + CHUNK].float(), shape_t[i:i + CHUNK], camera.index(slice(i, i + CHUNK)),
                           valid[i:i + CHUNK])
        for i in range(0, t_count, CHUNK)
    ])
    return exported, weight


def reprojection_per_frame(pred: ClipPrediction, cues: Cues) -> np.ndarray:
    return keypoint_errors(pred, torch.from_numpy(cues.keypoints)).numpy()


def camera_keypoints(pred: ClipPrediction) -> np.ndarray:
    """(T, K, 3) root-centred keypoints in camera orientation (what the metrics compare)."""
    rot = Camera.from_array(torch.from_numpy(pred.camera).double()).rotation.numpy()
    return camera_oriented(pred.keypoints3d.astype(np.float64), rot)


def run_capture(config: CaptureConfig) -> CaptureResult:
    """``selfmocap capture``: see the module docstring."""
    from selfmocap.video import open_video
    from selfmocap.models.pretrained import checkpoint_body, load_pretrained

    timings = CaptureTimings()
    started = time.perf_counter()
    src, opts = config.source, config.capture
    lock, work = prepare_out(config.out, opts.overwrite, config.video)
    try:
        reader = open_video(config.video, start=src.start, end=src.end, fps=src.fps, max_size=src.max_size)
        pretrained = load_pretrained(config.checkpoint)
        body = checkpoint_body(pretrained.card, config.body, f"checkpoint {config.checkpoint or 'shipped'}")
        result = _capture(config, reader, pretrained, body, work, timings, started)
        shutil.rmtree(work / "cache", ignore_errors=True)
        finalize(work, config.out)
        result.out = config.out
        return result
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        lock.release()


def _capture(config: CaptureConfig, reader, pretrained, body, work: Path, timings: CaptureTimings, started: float) -> CaptureResult:
    src, opts = config.source, config.capture
    info = reader.info
    clip_id = Path(config.video).stem if Path(config.video).is_file() else Path(config.video).name
    t_count = info.num_frames
    cues = gather_cues(reader, src, work)
    timings.decode = cues.seconds - cues.detector_seconds
    timings.mediapipe = cues.detector_seconds
    missing = frame_ranges(~cues.detected)
    if not cues.detected.any():
        raise UserError(
            f"no person found in any of the {t_count} frames of {config.video}: check that one person is fully "
            "visible, or give your own detections with --keypoints"
        )
    n_missing = int((~cues.detected).sum())
    if 2 * n_missing > t_count:
        print(f"capture: warning: no person found in {n_missing} of the {t_count} frames; their motion is "
              f"interpolated from the {t_count - n_missing} frames with a person, so it is mostly guessed; give your "
              "own detections with --keypoints, or film with more light and the person closer to the camera")
    if t_count == 1 and opts.adapt:
        print("capture: a one-frame video: adaptation is skipped (it trains on pairs of frames); "
              "the pretrained network's prediction is exported")
    w, h = info.size
    centres, sides = crop_squares(cues.keypoints, lambda t: mask_pixels(cues.mask(t)), opts.crop, (w, h))
    gap = min(opts.crop.pair_gap, max(t_count - 1, 1))
    objective = config.objective
    if t_count <= gap:
        objective = replace(objective, losses=tuple(n for n in objective.losses if n != "motion") or ("kpt",))
    sigma = pretrained.card.frame_config.heatmap_sigma
    crop = pretrained.card.network_config.input_size
    frozen_net = pretrained.model.eval()
    net = copy.deepcopy(frozen_net)
    log = AdaptLog()
    parts_before, parts_after = [], []
    seg_list = segments(t_count, opts.segment)
    frames_iter = iter(reader)
    detected_idx = np.flatnonzero(cues.detected)
    t_still, still = int(detected_idx[len(detected_idx) // 2]), None  # the report's overlay frame
    for k, (a, b) in enumerate(seg_list):
        label = f"segment {k + 1}/{len(seg_list)}" if len(seg_list) > 1 else "video"
        tic = time.perf_counter()
        frames = [next(frames_iter) for _ in range(b - a)]
        if a <= t_still < b:
            still = frames[t_still - a]
        masks = np.stack([cues.mask(t) for t in range(a, b)])
        timings.decode += time.perf_counter() - tic
        tic = time.perf_counter()
        seg_gap = min(gap, max(b - a - 1, 1))
        flow, valid = pair_flow(frames, seg_gap, progress=f"flow {label}", threads=torch.get_num_threads())
        timings.flow += time.perf_counter() - tic
        tic = time.perf_counter()
        inputs = build_inputs(clip_id, frames, cues.keypoints[a:b], masks, flow, valid, seg_gap, centres[a:b], sides[a:b], crop,
                              None if cues.world is None else cues.world[a:b])
        timings.crops += time.perf_counter() - tic
        del frames, flow, valid, masks
        tic = time.perf_counter()
        parts_before.append(predict_clip(frozen_net, body, inputs, sigma))
        timings.network += time.perf_counter() - tic
        pairs = inputs.num_frames - inputs.gap
        steps = iterations(opts, pairs if inputs.detected.any() else 0)
        tic = time.perf_counter()
        if steps > 0:
            options = AdaptOptions(iters=steps, step=replace(opts.step, seed=opts.step.seed + k))
            adapt_network(net, body, [inputs], options, objective, sigma, log, progress=f"adapt {label}")
        timings.adapt += time.perf_counter() - tic
        tic = time.perf_counter()
        parts_after.append(predict_clip(net, body, inputs, sigma))
        timings.network += time.perf_counter() - tic
        del inputs
    before, after = _cat_predictions(parts_before), _cat_predictions(parts_after)
    before = replace(before, valid=cues.detected)
    after = replace(after, valid=cues.detected)
    tic = time.perf_counter()
    refined = refine_motion(body, after, video_shape(after, cues.detected), refine_targets(cues, sides), config.refine)
    timings.refine = time.perf_counter() - tic
    err_before, err_after = reprojection_per_frame(before, cues), reprojection_per_frame(after, cues)
    tic = time.perf_counter()
    exported, weight = final_motion(body, refined, cues, opts, info.fps, ceiling=torch.from_numpy(err_after))
    timings.smoothing = time.perf_counter() - tic

    pred_dir = work / "predictions"
    write_prediction(pred_dir / "pretrained", clip_id, before)
    write_prediction(pred_dir / "adapted", clip_id, after)
    write_prediction(pred_dir / "refined", clip_id, refined)
    write_prediction(pred_dir / "exported", clip_id, exported)

    err_final = reprojection_per_frame(exported, cues)
    summary = CaptureSummary(
        clip_id=clip_id,
        frames=t_count,
        fps=info.fps,
        size=tuple(info.size),
        frames_without_person=format_frame_ranges(missing),
        frames_without_person_count=int((~cues.detected).sum()),
        reprojection_px=ReprojectionSummary(
            pretrained=float(np.nanmean(err_before)),
            adapted=float(np.nanmean(err_after)),
            refined=float(np.nanmean(reprojection_per_frame(refined, cues))),
            exported=float(np.nanmean(err_final)),
        ),
        jitter_adapted_mm=jitter_mm(camera_keypoints(after), cues.detected),
        jitter_exported_mm=jitter_mm(camera_keypoints(exported), cues.detected),
        smoothing=SmoothingSummary(level=opts.smoothing, tolerance_px=opts.smoothing_tolerance,
                                   frames_pulled_back=int((weight < 1).sum()) if opts.smoothing != "off" else 0),
        adaptation_steps=len(log.rows),
        segments=len(seg_list),
    )
    tic = time.perf_counter()
    _write_exports(config, reader, body, exported, cues, log, summary, err_before, err_after, (t_still, still), work)
    timings.exports = time.perf_counter() - tic
    timings.total = time.perf_counter() - started
    summary.timings = timings
    write_run_info(work, "capture", config=cfg.to_dict(config), checkpoint=str(config.checkpoint or "shipped"),
                   seconds=timings.total, summary=summary.to_dict(), video=_video_info(info))
    return CaptureResult(work, clip_id, t_count, info.fps, cues.detected, before, after, exported, timings, summary)


def _video_info(info) -> dict:
    return {
        "source": str(info.source), "kind": info.kind, "source_fps": info.source_fps, "fps": info.fps,
        "frames": info.num_frames, "size": list(info.size), "source_size": list(info.source_size),
        "source_indices": [int(i) for i in info.source_indices],
    }


def _write_exports(config, reader, body, exported: ClipPrediction, cues: Cues, log: AdaptLog, summary: CaptureSummary,
                   err_before: np.ndarray, err_after: np.ndarray, still: tuple[int, np.ndarray], work: Path) -> None:
    from selfmocap import export

    info = reader.info
    motion = export.CapturedMotion(
        body_model=body.name,
        fps=info.fps,
        image_size=tuple(info.size),
        pose=exported.pose,
        shape=exported.shape[0],
        camera=exported.camera,
        joints3d=exported.joints3d,
        keypoints3d=exported.keypoints3d,
        keypoints2d=exported.keypoints2d,
        detected=cues.detected,
    )
    motion = replace(motion, world=export.place_in_world(motion, body, config.world))
    summary.world = export.world_summary(motion, motion.world)
    bar = tqdm(total=4 + (config.capture.meshes != "none") + config.capture.overlay, desc="exports", unit="file")
    export.write_motion_npz(work / "motion.npz", motion, extra={
        "keypoints2d_input": cues.keypoints,
        "keypoints2d_confidence": cues.raw_confidence,
        "reprojection_px_pretrained": err_before,
        "reprojection_px_adapted": err_after,
        **({} if cues.world is None else {"world_keypoints_input": cues.world}),
    })
    bar.update()
    export.write_glb(work / "motion.glb", motion, body)
    bar.update()
    export.write_bvh(work / "motion.bvh", motion, body)
    bar.update()
    if config.capture.meshes != "none":
        export.write_meshes(work / "meshes", motion, body, fmt=config.capture.meshes)
        bar.update()
    if config.capture.overlay:
        path = export.write_overlay_video(work / "overlay.mp4", motion, body, iter(reader), info.fps, progress="overlay video")
        summary.overlay = path.name
        bar.update()
    log.write(work)
    overlay_png = work / "overlay_frame.png"
    _overlay_still(*still, motion, body, overlay_png)
    export.write_report(work, rows=log.rows, reprojection_before=err_before, reprojection_after=err_after,
                        detected=cues.detected, acceleration_before=summary.jitter_adapted_mm,
                        acceleration_after=summary.jitter_exported_mm, summary=summary.to_dict(),
                        config=cfg.to_dict(config), images=[overlay_png])
    bar.update()
    bar.close()


def _overlay_still(t: int, frame: np.ndarray, motion, body, path: Path) -> None:
    """The side-by-side overlay of frame ``t`` (kept from the segment loop) as a PNG, for the report."""
    from selfmocap.export import overlay_frame

    with torch.no_grad():
        vertices = body(roma.rotvec_to_rotmat(torch.from_numpy(motion.pose[t:t + 1]).float()),
                        torch.from_numpy(motion.shape).float()[None]).vertices
    image = overlay_frame(frame, vertices[0].numpy(), body.faces.numpy(), motion.camera[t])
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
