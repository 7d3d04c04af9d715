"""``selfmocap evaluate --annotations FILE.npz --capture DIR``: score captures of real images
against the 3D joints of SPIN / mmpose annotation files (:mod:`selfmocap.eval.annotations`).

Protocol (``docs/evaluation.md``), on the 12 limb joints
(:data:`~selfmocap.eval.annotations.LIMB_JOINTS`), in mm:

* ``pa_mpjpe_mm``: per-joint error after the best similarity (:func:`~selfmocap.body.metrics.pa_mpjpe`);
* ``per_joint_mm``: per-joint error after root alignment, the root being the midpoint of the two
  hips of each skeleton. The capture's body-frame keypoints are turned into the camera's
  orientation with the recorded camera rotation (``R X``, :meth:`Camera.from_array`), the
  annotation is in camera space already: a wrong global orientation counts, as it does in the
  synthetic protocol;
* ``joint_mm``: that error per joint.

A row whose limb joints are not all annotated (confidence 0 in ``S``) is scored on the annotated
ones when both hips and :data:`MIN_LIMB_JOINTS` joints are (:func:`scorable`).

Frames: an annotation row is matched to a captured frame by the image's file name. A capture of
an image folder records the folder and which of its (naturally sorted) images it read
(``run.json``: ``video.source``, ``video.source_indices``); the names are that folder's listing.
A row whose ``imgname`` has folders (SPIN's ``S1/Seq1/imageFrames/video_0/frame_000001.jpg``)
matches the frame whose path ends with all of them, else the one frame of that file name when
the name is unique among the rows.

Rows scored per method: ``capture`` (``motion.npz``, the exported motion), ``pretrained`` and
``adapted`` (the capture's ``predictions/`` folders, when present), and ``mediapipe``:
mediapipe's metric world landmarks, PA-MPJPE only (their rotation is mediapipe's own), from
``motion.npz`` when the capture kept them (:data:`MEDIAPIPE_WORLD_KEY`) or recomputed from the
images with ``--mediapipe-reference``. Frames without a detection are left out of that method,
and counted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from selfmocap.errors import UserError
from selfmocap.eval.config import RealConfig
from selfmocap.eval.annotations import LIMB_HIPS, LIMB_JOINTS, Annotations, read_annotations
from selfmocap.body.metrics import LIMB_KEYPOINTS, MM, mpjpe, pa_mpjpe
from selfmocap.geometry.camera import Camera, camera_oriented

#: The ``motion.npz`` extra holding mediapipe's world landmarks per frame, (T, K, 4): ``x, y, z``
#: metres around the hips' centre and a confidence, in ``keypoint_names`` order.
MEDIAPIPE_WORLD_KEY = "world_keypoints_input"
#: Methods in table order: the exported motion, the capture's two network predictions, mediapipe.
METHODS = ("capture", "adapted", "pretrained", "mediapipe")
_PREDICTIONS = ("adapted", "pretrained")
#: Per-frame tables are printed up to this many frames (the JSON always has them all).
MAX_PRINTED_FRAMES = 20
#: A row is scored when both hips and at least this many of the 12 limb joints are annotated.
MIN_LIMB_JOINTS = 8


@dataclass(frozen=True)
class CapturedFrame:
    """One frame of a capture: where its motion is and which image it came from."""

    capture: Path
    index: int
    image: Path


@dataclass(frozen=True)
class LimbErrors:
    """Per-frame errors of F frames on the 12 limb joints, mm (over each frame's annotated joints)."""

    pa_mpjpe_mm: torch.Tensor  # (F,)
    per_joint_mm: torch.Tensor  # (F,)
    joint_mm: torch.Tensor  # (F, 12), NaN where the joint is not annotated


def root_aligned(points: torch.Tensor) -> torch.Tensor:
    """(..., 12, 3) limb joints minus their hips' midpoint."""
    return points - points[..., list(LIMB_HIPS), :].mean(dim=-2, keepdim=True)


def scorable(annotated: np.ndarray) -> np.ndarray:
    """(N, 12) annotated limb joints -> (N,) rows that can be scored: both hips (the root) and at
    least :data:`MIN_LIMB_JOINTS` limb joints annotated."""
    return annotated[:, list(LIMB_HIPS)].all(axis=1) & (annotated.sum(axis=1) >= MIN_LIMB_JOINTS)


def limb_errors(pred: torch.Tensor, target: torch.Tensor, annotated: torch.Tensor | None = None) -> LimbErrors:
    """Errors of (F, 12, 3) predicted vs true limb joints (:data:`LIMB_JOINTS` order), both in
    the camera's orientation (any origin: both are root aligned here).

    ``annotated`` (F, 12) bool leaves joints out per frame (PA-MPJPE and the mean over the
    others); every frame needs both hips (:func:`scorable`).
    """
    if annotated is None:
        annotated = torch.ones(pred.shape[:-1], dtype=torch.bool)
    if pred.shape != target.shape or pred.shape[-2:] != (len(LIMB_JOINTS), 3) or annotated.shape != pred.shape[:-1]:
        raise ValueError(f"need (F, {len(LIMB_JOINTS)}, 3) pred and target and (F, {len(LIMB_JOINTS)}) annotated; "
                         f"got {tuple(pred.shape)}, {tuple(target.shape)}, {tuple(annotated.shape)}")
    p, t = root_aligned(pred), root_aligned(target)
    pa, per_joint = torch.empty(pred.shape[:-2], dtype=pred.dtype), torch.empty(pred.shape[:-2], dtype=pred.dtype)
    for mask in torch.unique(annotated, dim=0):  # frames with the same annotated joints, batched
        rows = (annotated == mask).all(dim=-1)
        pa[rows] = pa_mpjpe(pred[rows][:, mask], target[rows][:, mask])
        per_joint[rows] = mpjpe(p[rows][:, mask], t[rows][:, mask])
    joint = torch.where(annotated, (p - t).norm(dim=-1) * MM, torch.full_like(p[..., 0], float("nan")))
    return LimbErrors(pa_mpjpe_mm=pa, per_joint_mm=per_joint, joint_mm=joint)


@dataclass(frozen=True)
class RealMetrics:
    """One method's means over its F scored frames (None without frames or where not defined)."""

    pa_mpjpe_mm: float | None
    per_joint_mm: float | None
    joint_mm: dict[str, float] | None
    frames: int
    left_out: int  #: matched frames this method has no estimate for (no detection)

    def to_json(self) -> dict:
        return {"pa_mpjpe_mm": self.pa_mpjpe_mm, "per_joint_mm": self.per_joint_mm, "joint_mm": self.joint_mm,
                "frames": self.frames, "left_out": self.left_out}


@dataclass(frozen=True)
class FrameScore:
    """One scored image: where it was captured and each method's errors (None: not scored)."""

    imgname: str
    capture: Path
    index: int
    pa_mpjpe_mm: dict[str, float | None]
    per_joint_mm: dict[str, float | None]

    def to_json(self) -> dict:
        return {"capture": str(self.capture), "frame": self.index,
                "pa_mpjpe_mm": self.pa_mpjpe_mm, "per_joint_mm": self.per_joint_mm}


@dataclass(frozen=True)
class RealSummary:
    """What ``selfmocap evaluate --annotations`` measures; :meth:`to_json` is its JSON file."""

    joint_order: str
    annotations: tuple[Path, ...]
    methods: dict[str, RealMetrics]
    frames: tuple[FrameScore, ...]
    annotated: int  #: rows in the annotation files
    not_captured: int  #: rows no captured frame matches
    not_annotated: int  #: matched rows without enough annotated limb joints (:func:`scorable`)
    partial: int  #: scored rows with some limb joints not annotated (scored on the others)
    mediapipe_source: str | None  #: "capture" (motion.npz), "images" (--mediapipe-reference) or None

    def to_json(self) -> dict:
        return {
            "joints": list(LIMB_JOINTS), "joint_order": self.joint_order,
            "annotations": [str(p) for p in self.annotations],
            "annotated": self.annotated, "not_captured": self.not_captured, "not_annotated": self.not_annotated, "partial": self.partial,
            "mediapipe_source": self.mediapipe_source,
            "methods": {name: m.to_json() for name, m in self.methods.items()},
            "frames": {f.imgname: f.to_json() for f in self.frames},
        }


# ----------------------------------------------------------------------------- captures and frames

def capture_folders(path: Path) -> list[Path]:
    """``path`` when it is a capture (holds ``motion.npz``), else its subfolders that are."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise UserError(f"--capture {path} is not a folder; give a selfmocap capture --out folder or a folder of them")
    if (path / "motion.npz").is_file():
        return [path]
    found = sorted(p for p in path.iterdir() if p.is_dir() and (p / "motion.npz").is_file())
    if not found:
        raise UserError(f"--capture {path} holds no capture (no motion.npz in it or its subfolders); "
                        "run selfmocap capture IMAGE_FOLDER --out DIR first")
    return found


def _run_info(capture: Path) -> dict:
    try:
        info = json.loads((capture / "run.json").read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"{capture}/run.json is missing or unreadable ({err}); evaluate a complete selfmocap capture folder") from None
    if not isinstance(info, dict) or not isinstance(info.get("video"), dict) or "source_indices" not in info["video"]:
        raise UserError(f"{capture}/run.json does not say which frames were captured; rerun selfmocap capture on the images")
    return info


def captured_frames(capture: Path, images_root: Path | None = None) -> list[CapturedFrame]:
    """The image each frame of a capture came from (the capture's folder listing, ``run.json``)."""
    from selfmocap.video import list_images

    video = _run_info(capture)["video"]
    if video.get("kind") != "images":
        raise UserError(f"{capture} is a capture of the video {video.get('source')}: annotation files name images, "
                        "so capture the folder of annotated images instead")
    folder = Path(video["source"])
    if images_root is not None:
        folder = Path(images_root).expanduser() / folder.name
    if not folder.is_dir():
        raise UserError(f"{capture} was captured from {folder}, which is not there any more; give --images-root "
                        "with the folder that now holds it")
    files = list_images(folder)
    indices = [int(i) for i in video["source_indices"]]
    if not indices or max(indices) >= len(files):
        raise UserError(f"{folder} now holds {len(files)} images, fewer than {capture} captured; "
                        "evaluate against the folder as it was captured")
    return [CapturedFrame(capture, t, files[i]) for t, i in enumerate(indices)]


def match_frames(imgnames: tuple[str, ...], frames: list[CapturedFrame]) -> dict[int, CapturedFrame]:
    """Annotation row -> the captured frame of that image (module docstring: by file name, and
    by the folders the name has)."""
    wanted = [Path(name.replace("\\", "/")).parts for name in imgnames]
    rows_by_name: dict[str, list[int]] = defaultdict(list)
    for row, parts in enumerate(wanted):
        rows_by_name[parts[-1]].append(row)
    matched: dict[int, CapturedFrame] = {}
    for frame in frames:
        candidates = rows_by_name.get(frame.image.name, [])
        exact = [r for r in candidates if frame.image.parts[-len(wanted[r]):] == wanted[r]]
        chosen = exact if exact else (candidates if len(candidates) == 1 else [])
        if len(chosen) == 1 and chosen[0] not in matched:
            matched[chosen[0]] = frame
    return matched


# ----------------------------------------------------------------------------- per-method estimates

@dataclass(frozen=True)
class _Estimates:
    """Limb joints of F frames by one method: (F, 12, 3) camera-oriented (or mediapipe's own
    axes), and which frames have an estimate."""

    joints: np.ndarray
    has: np.ndarray


def _limb_columns(keypoint_names: list[str], capture: Path) -> list[int]:
    missing = [n for n in LIMB_JOINTS if n not in keypoint_names]
    if missing:
        raise UserError(f"{capture}/motion.npz has no keypoints {', '.join(missing)}; evaluate a capture whose body model has COCO's limb keypoints")
    return [keypoint_names.index(n) for n in LIMB_JOINTS]


def _oriented(keypoints3d: np.ndarray, camera: np.ndarray, columns: list[int]) -> np.ndarray:
    rotation = Camera.from_array(torch.as_tensor(np.asarray(camera), dtype=torch.float64)).rotation
    return camera_oriented(torch.as_tensor(keypoints3d[:, columns], dtype=torch.float64), rotation).numpy()


def _capture_estimates(capture: Path, indices: list[int], images: list[Path], mediapipe_images: bool) -> tuple[dict[str, _Estimates], str | None]:
    """Each method's limb joints at frames ``indices`` of one capture."""
    from selfmocap.data.predictions import prediction_path, read_prediction
    from selfmocap.export import read_motion_npz

    try:
        motion = read_motion_npz(capture / "motion.npz")
    except ValueError as err:
        raise UserError(str(err)) from None
    with np.load(capture / "motion.npz", allow_pickle=False) as z:
        names = [str(n) for n in z["keypoint_names"]]
        world = z[MEDIAPIPE_WORLD_KEY] if MEDIAPIPE_WORLD_KEY in z.files else None
    columns = _limb_columns(names, capture)
    idx = np.asarray(indices)
    out = {"capture": _Estimates(_oriented(motion.keypoints3d[idx], motion.camera[idx], columns), motion.detected[idx])}
    clip_id = _run_info(capture).get("summary", {}).get("clip_id")
    for method in _PREDICTIONS:
        path = prediction_path(capture / "predictions" / method, str(clip_id))
        if clip_id is not None and path.is_file():
            try:
                pred = read_prediction(path)
            except ValueError as err:
                raise UserError(str(err)) from None
            out[method] = _Estimates(_oriented(pred.keypoints3d[idx], pred.camera[idx], columns), pred.valid[idx].astype(bool))
    source = None
    if world is not None and world.shape[:2] == (motion.num_frames, len(names)) and world.shape[2] == 4:
        world = world[idx][:, columns]
        source = "capture"
    elif mediapipe_images:
        world = mediapipe_world(images, motion.image_size)[:, list(LIMB_KEYPOINTS)]  # KEYPOINT_NAMES order
        source = "images"
    if world is not None:
        out["mediapipe"] = _Estimates(world[..., :3].astype(np.float64), world[..., 3].max(axis=1) > 0)
    return out, source


def mediapipe_world(images: list[Path], size: tuple[int, int]) -> np.ndarray:
    """mediapipe's world landmarks on each image (resized to the capture's ``size`` as capture
    does), (F, K, 4) in :data:`~selfmocap.body.names.KEYPOINT_NAMES` order; zero confidence where
    it finds nobody."""
    import cv2

    from selfmocap.body.names import KEYPOINT_NAMES
    from selfmocap.cues.mediapipe import PoseDetector

    out = np.zeros((len(images), len(KEYPOINT_NAMES), 4), np.float32)
    with PoseDetector(segmentation=False) as detector:
        for k, path in enumerate(images):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise UserError(f"{path} could not be read; check the captured image folder")
            if (bgr.shape[1], bgr.shape[0]) != tuple(size):
                bgr = cv2.resize(bgr, tuple(size), interpolation=cv2.INTER_AREA)
            cues = detector(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if cues.world is not None and cues.detected:
                out[k] = cues.world
    return out


# ----------------------------------------------------------------------------- scoring

def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def score_frames(annotations: Annotations, matched: dict[int, CapturedFrame], mediapipe_images: bool = False) -> RealSummary:
    """Errors of every method on the matched rows (see the module docstring)."""
    by_capture: dict[Path, list[int]] = defaultdict(list)
    for row, frame in matched.items():
        by_capture[frame.capture].append(row)
    ok = scorable(annotations.annotated)
    confident = [r for r in matched if ok[r]]
    per_method: dict[str, dict[int, tuple[float, float | None, np.ndarray | None]]] = defaultdict(dict)
    left_out: dict[str, int] = defaultdict(int)
    sources = set()
    for capture, rows in sorted(by_capture.items()):
        rows = sorted((r for r in rows if ok[r]), key=lambda r: matched[r].index)
        if not rows:
            continue
        estimates, source = _capture_estimates(capture, [matched[r].index for r in rows], [matched[r].image for r in rows], mediapipe_images)
        sources.add(source)
        truth, annotated = torch.from_numpy(annotations.joints[rows]), torch.from_numpy(annotations.annotated[rows])
        for method, est in estimates.items():
            errors = limb_errors(torch.from_numpy(est.joints), truth, annotated)
            for k, row in enumerate(rows):
                if not est.has[k]:
                    left_out[method] += 1
                    continue
                oriented = method != "mediapipe"  # mediapipe's axes are its own: PA only
                per_method[method][row] = (float(errors.pa_mpjpe_mm[k]),
                                           float(errors.per_joint_mm[k]) if oriented else None,
                                           errors.joint_mm[k].numpy() if oriented else None)
    methods = {}
    for method in METHODS:
        if method not in per_method and method not in left_out:
            continue
        scored = per_method.get(method, {})
        joint = [v[2] for v in scored.values() if v[2] is not None]
        methods[method] = RealMetrics(
            pa_mpjpe_mm=_mean([v[0] for v in scored.values()]),
            per_joint_mm=_mean([v[1] for v in scored.values() if v[1] is not None]),
            joint_mm=dict(zip(LIMB_JOINTS, (float(x) for x in np.nanmean(joint, axis=0)))) if joint else None,
            frames=len(scored), left_out=left_out.get(method, 0),
        )
    frames = tuple(
        FrameScore(annotations.imgname[r], matched[r].capture, matched[r].index,
                   {m: per_method[m][r][0] if r in per_method[m] else None for m in methods},
                   {m: per_method[m][r][1] if r in per_method[m] else None for m in methods})
        for r in sorted(confident, key=lambda r: annotations.imgname[r])
    )
    source = next((s for s in ("capture", "images") if s in sources), None)
    return RealSummary(joint_order=annotations.joint_order, annotations=annotations.sources, methods=methods, frames=frames,
                       annotated=len(annotations), not_captured=len(annotations) - len(matched),
                       not_annotated=len(matched) - len(confident),
                       partial=int((~annotations.annotated[confident]).any(axis=1).sum()) if confident else 0, mediapipe_source=source)


def evaluate_real(config: RealConfig) -> RealSummary:
    """``selfmocap evaluate --annotations --capture``: read, match, score (no body model is
    needed: the captures hold their keypoints)."""
    if config.annotations is None or config.capture is None:
        raise UserError("give both --annotations (the annotation npz) and --capture (the capture of its images)")
    annotations = read_annotations(config.annotations, config.joint_order)
    frames = [f for c in capture_folders(config.capture) for f in captured_frames(c, config.images_root)]
    matched = match_frames(annotations.imgname, frames)
    if not matched:
        raise UserError(f"no captured frame of {config.capture} is an image of {config.annotations} (captured e.g. "
                        f"{frames[0].image.name}, annotated e.g. {annotations.imgname[0]}); capture the annotated images")
    if not scorable(annotations.annotated)[list(matched)].any():
        raise UserError(f"none of the {len(matched)} captured images of {config.annotations} has both hips and {MIN_LIMB_JOINTS} "
                        "limb joints annotated (confidence > 0 in S); nothing to score")
    return score_frames(annotations, matched, config.mediapipe_reference)


def format_real(summary: RealSummary) -> str:
    """Markdown tables: methods overall, root-aligned error per joint, and per frame (when few)."""
    def fmt(v):
        return "-" if v is None else f"{v:.1f}"

    label = {"capture": "capture (motion.npz)", "adapted": "adapted network", "pretrained": "pretrained network",
             "mediapipe": f"mediapipe world landmarks ({'from the capture' if summary.mediapipe_source == 'capture' else 'run on the images'})"}
    scored = len(summary.frames)
    lines = [
        f"Real 3D annotations ({summary.joint_order}, {', '.join(p.name for p in summary.annotations)}): {summary.annotated} images, "
        f"{scored} scored ({summary.partial} on fewer than 12 joints: the others not annotated), {summary.not_captured} not captured, "
        f"{summary.not_annotated} with too few joints annotated.",
        f"Joints: {', '.join(LIMB_JOINTS)}; per-joint error after aligning the hips' midpoints, in the camera's orientation.",
        "",
        "| method | PA-MPJPE mm | per-joint mm (root aligned) | frames | no estimate |",
        "|---|---|---|---|---|",
        *(f"| {label[m]} | {fmt(r.pa_mpjpe_mm)} | {fmt(r.per_joint_mm)} | {r.frames} | {r.left_out} |" for m, r in summary.methods.items()),
        "",
        "Per joint, root aligned (mm):",
        "",
        "| method | " + " | ".join(LIMB_JOINTS) + " |",
        "|---" * (len(LIMB_JOINTS) + 1) + "|",
        *(f"| {m} | " + " | ".join(fmt(r.joint_mm[j]) for j in LIMB_JOINTS) + " |" for m, r in summary.methods.items() if r.joint_mm),
    ]
    if 0 < scored <= MAX_PRINTED_FRAMES:
        names = list(summary.methods)
        lines += ["", "Per image, PA-MPJPE / root-aligned per-joint (mm):", "", "| image | " + " | ".join(names) + " |",
                  "|---" * (len(names) + 1) + "|"]
        lines += [f"| {f.imgname} | " + " | ".join(f"{fmt(f.pa_mpjpe_mm[m])} / {fmt(f.per_joint_mm[m])}" for m in names) + " |"
                  for f in summary.frames]
    if not summary.mediapipe_source:
        lines += ["", "(no mediapipe reference: the captures did not keep its world landmarks; add --mediapipe-reference)"]
    return "\n".join(lines)
