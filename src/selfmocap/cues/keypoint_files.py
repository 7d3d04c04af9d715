"""2D cues from files, for people who run their own keypoint detector or segmenter.

Keypoints (:func:`read_keypoints`), in any of these layouts:

* an OpenPose output folder (one ``*_keypoints.json`` per frame, natural order of names) or a
  single OpenPose JSON file (a one-frame video), BODY_25 (25 points) or COCO-18 (18 points);
  ``people[0]`` or, when several people are listed, the one with the highest mean confidence;
* a COCO-format JSON (``images`` with ``id``/``file_name``, frames in natural order of
  ``file_name``; ``annotations`` with ``image_id`` and ``keypoints``): 17 COCO points, 23 (COCO
  then the 6 COCO-WholeBody foot points), 133 (COCO-WholeBody, only the body and feet are used),
  or 17 plus a WholeBody ``foot_kpts`` list; the annotation with the highest ``score`` (or mean
  confidence) per image.

Both formats store pixel indices (the centre of the top-left pixel is (0, 0); Detectron2 reads
COCO keypoints so); they are shifted by half a pixel to our continuous convention
(``docs/conventions.md``), then scaled to the resized frames. The third number of each point
becomes the confidence, clipped to [0, 1] (COCO's visibility flags 1 and 2 both give 1).
Frames without a person, and points a layout lacks, get confidence 0.

Masks (:func:`read_masks`): a folder of PNGs, one per frame, natural order; a nonzero pixel is a
person pixel (RGBA: a nonzero alpha); resized to the frames with nearest-neighbour sampling.

The file must hold one entry per frame read from the video; when the reader's
``source_indices`` and ``source_num_frames`` are passed, one entry per frame of the whole video is
accepted too, and the entries of the frames read are picked from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.video import natural_key
from selfmocap.errors import UserError

#: OpenPose BODY_25 point order (OpenPose's left is the subject's left, as ours).
OPENPOSE_BODY_25: Final[tuple[str, ...]] = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "mid_hip",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
    "left_big_toe", "left_small_toe", "left_heel",
    "right_big_toe", "right_small_toe", "right_heel",
)

#: OpenPose COCO-18 point order.
OPENPOSE_COCO_18: Final[tuple[str, ...]] = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)

#: COCO's 17 keypoints (the first 17 of ours) then the 6 COCO-WholeBody foot points in their order.
COCO_WHOLEBODY_23: Final[tuple[str, ...]] = KEYPOINT_NAMES[:17] + (
    "left_big_toe", "left_small_toe", "left_heel",
    "right_big_toe", "right_small_toe", "right_heel",
)

#: Points per person -> (layout name, point order) for each accepted layout.
OPENPOSE_LAYOUTS: Final[dict[int, tuple[str, tuple[str, ...]]]] = {
    25: ("OpenPose BODY_25", OPENPOSE_BODY_25),
    18: ("OpenPose COCO-18", OPENPOSE_COCO_18),
}
COCO_LAYOUTS: Final[dict[int, tuple[str, tuple[str, ...]]]] = {
    17: ("COCO", KEYPOINT_NAMES[:17]),
    23: ("COCO + WholeBody feet", COCO_WHOLEBODY_23),
    133: ("COCO-WholeBody", COCO_WHOLEBODY_23),  # body and feet come first; face and hands unused
}

_OPENPOSE_HINT = "accepted: OpenPose BODY_25 (25 points) or COCO-18 (18 points)"
_COCO_HINT = "accepted: COCO (17 points), COCO + WholeBody feet (23) or COCO-WholeBody (133)"


def layout_index(order: Sequence[str]) -> np.ndarray:
    """(K,) index into a layout's points of each of our :data:`KEYPOINT_NAMES`, -1 where absent."""
    return np.array([order.index(name) if name in order else -1 for name in KEYPOINT_NAMES])


def to_keypoints(points: np.ndarray, order: Sequence[str], scale: float = 1.0) -> np.ndarray:
    """(N, 3) points of a file layout (pixel indices, confidence) -> (K, 3) float32 in our order,
    continuous pixels of the resized frames: ``(x + 0.5) * scale``; confidence clipped to [0, 1].

    Points with confidence 0, and our keypoints that the layout lacks, are all zero."""
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (len(order), 3):
        raise ValueError(f"expected ({len(order)}, 3) points, got {points.shape}")
    index = layout_index(order)
    has = index >= 0
    out = np.zeros((len(KEYPOINT_NAMES), 3), np.float64)
    out[has] = points[index[has]]
    out[:, 2] = np.clip(np.nan_to_num(out[:, 2]), 0.0, 1.0)
    out[:, :2] = (out[:, :2] + 0.5) * scale
    out[out[:, 2] <= 0] = 0.0
    return out.astype(np.float32)


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UserError(f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
                        "give OpenPose or COCO keypoint JSON") from None
    except (UnicodeDecodeError, OSError) as err:
        raise UserError(f"{path} could not be read as a JSON text file ({err}); give OpenPose or COCO keypoint JSON") from None


def _points(flat, where: str, layouts: dict[int, tuple[str, tuple[str, ...]]], hint: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """A flat ``[x, y, c, ...]`` list -> ((N, 3) array, layout order), or a UserError."""
    try:
        values = np.asarray(flat, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise UserError(f"{where}: keypoints are not a list of numbers; {hint}") from None
    if values.size % 3 or values.size // 3 not in layouts:
        found = f"{values.size // 3} points" if values.size % 3 == 0 else f"{values.size} numbers (not x, y, confidence triples)"
        raise UserError(f"{where}: a person has {found}; {hint}")
    points = values.reshape(-1, 3)
    bad = ~np.isfinite(points)
    if bad.any():
        k, j = (int(i) for i in np.argwhere(bad)[0])
        what = ("x", "y", "confidence")[j]
        raise UserError(f"{where}: point {k} has a non-finite {what} ({float(points[k, j])}, "
                        f"{int(bad.any(axis=1).sum())} such points in all); write finite numbers "
                        "(a missing point is 0, 0, 0) or remove the entry")
    return points, layouts[len(points)][1]


def openpose_frame(data, where: str, scale: float = 1.0) -> np.ndarray:
    """One OpenPose JSON object -> (K, 3) keypoints of its most confident person (zeros: nobody)."""
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise UserError(f"{where} is not OpenPose output (no 'people' list); give OpenPose JSON or a COCO JSON")
    best, best_score = np.zeros((len(KEYPOINT_NAMES), 3), np.float32), -1.0
    for k, person in enumerate(data["people"]):
        flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
        if flat is None:
            raise UserError(f"{where}: person {k} has no 'pose_keypoints_2d'; write OpenPose JSON with body keypoints")
        points, order = _points(flat, f"{where} person {k}", OPENPOSE_LAYOUTS, _OPENPOSE_HINT)
        score = float(np.clip(points[:, 2], 0.0, 1.0).mean())
        if score > best_score:
            best, best_score = to_keypoints(points, order, scale), score
    return best


def _openpose_files(folder: Path) -> list[Path]:
    files = [p for p in folder.glob("*_keypoints.json") if p.is_file()]
    if not files:
        files = [p for p in folder.glob("*.json") if p.is_file()]
    return sorted(files, key=lambda p: natural_key(p.name))


def coco_frames(data, where: str, scale: float = 1.0) -> np.ndarray:
    """A COCO-format object -> (images, K, 3), images in natural order of ``file_name``."""
    images, annotations = data.get("images"), data.get("annotations")
    if not isinstance(images, list) or not isinstance(annotations, list):
        raise UserError(f"{where}: a COCO keypoint file needs 'images' and 'annotations' lists; add them")
    try:
        order = sorted(images, key=lambda im: natural_key(str(im["file_name"])))
        row = {im["id"]: t for t, im in enumerate(order)}
    except (KeyError, TypeError):
        raise UserError(f"{where}: every entry of 'images' needs an 'id' and a 'file_name'; add them "
                        "(frames are ordered by file_name)") from None
    out = np.zeros((len(order), len(KEYPOINT_NAMES), 3), np.float32)
    best = np.full(len(order), -np.inf)
    for k, ann in enumerate(annotations):
        if not isinstance(ann, dict) or "image_id" not in ann or not isinstance(ann.get("keypoints"), list):
            raise UserError(f"{where}: annotation {k} needs an 'image_id' and a 'keypoints' list; fix or remove it")
        if not isinstance(ann["image_id"], (int, str)) or ann["image_id"] not in row:
            raise UserError(f"{where}: annotation {k} refers to image_id {ann['image_id']!r}, which is not in 'images'; "
                            "add that image or remove the annotation")
        flat = list(ann["keypoints"])
        if len(flat) == 17 * 3 and isinstance(ann.get("foot_kpts"), list) and len(ann["foot_kpts"]) == 6 * 3:
            flat = flat + list(ann["foot_kpts"])  # COCO-WholeBody keeps the feet apart
        frame = f"frame {row[ann['image_id']]} ({order[row[ann['image_id']]].get('file_name')})"
        points, layout = _points(flat, f"{where} annotation {k}, {frame}", COCO_LAYOUTS, _COCO_HINT)
        points = points[: len(layout)]
        score = float(ann["score"]) if isinstance(ann.get("score"), (int, float)) else float(
            np.clip(points[:, 2], 0.0, 1.0).mean())
        t = row[ann["image_id"]]
        if score > best[t]:
            out[t], best[t] = to_keypoints(points, layout, scale), score
    return out


def _select(entries, num_frames: int, source_indices: np.ndarray | None, source_num_frames: int | None,
            where: str, unit: str):
    """The video's entries of a file: all of them when there is one per frame read, or the
    ``source_indices`` rows when there is one per frame of the whole video."""
    count = len(entries)
    if count == num_frames:
        return entries
    whole = source_indices is not None and source_num_frames is not None
    if whole and count == source_num_frames and len(source_indices) == num_frames:
        return [entries[int(i)] for i in source_indices] if isinstance(entries, list) else entries[source_indices]
    also = f" (or {source_num_frames}, one per frame of the whole video)" if whole else ""
    raise UserError(f"{where} has {count} {unit} but {num_frames} frames are read from the video; "
                    f"give {num_frames}{also}, or change --start/--end/--fps to match")


def read_keypoints(path: str | Path, num_frames: int, scale: float = 1.0, source_indices: np.ndarray | None = None,
                   source_num_frames: int | None = None) -> np.ndarray:
    """The user's 2D keypoints, one row per frame read from the video.

    Args:
        path: an OpenPose folder or JSON file, or a COCO-format JSON file (module docstring).
        num_frames: frames read from the video (``VideoInfo.num_frames``).
        scale: resized frame pixels per source pixel (``VideoInfo.scale``).
        source_indices, source_num_frames: optional ``VideoInfo.source_indices`` and
            ``VideoInfo.source_num_frames``; with both, a file with one entry per frame of the
            whole video is accepted too, and the entries of the frames read are used.

    Returns:
        (num_frames, K, 3) float32: x, y in pixels of the resized frames and confidence, in
        :data:`KEYPOINT_NAMES` order; confidence 0 where a point or the person is missing.

    Raises:
        UserError: a missing or unreadable file, a wrong number of points per person (with the
            accepted layouts), or a number of frames that does not match the video.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise UserError(f"keypoint file or folder {path} does not exist; give an OpenPose folder/JSON or a COCO JSON")
    if path.is_dir():
        files = _openpose_files(path)
        if not files:
            raise UserError(f"{path} holds no OpenPose JSON file (*_keypoints.json); give OpenPose output or a COCO JSON")
        chosen = _select(files, num_frames, source_indices, source_num_frames, str(path), "JSON files")
        frames = np.stack([openpose_frame(_load_json(f), f"{f} (frame {t})", scale) for t, f in enumerate(chosen)])
        return frames.astype(np.float32)
    data = _load_json(path)
    if isinstance(data, dict) and "annotations" in data:
        frames = coco_frames(data, str(path), scale)
        return np.asarray(_select(frames, num_frames, source_indices, source_num_frames, str(path), "images"), np.float32)
    if isinstance(data, dict) and "people" in data:
        frames = openpose_frame(data, f"{path} (frame 0)", scale)[None]
        return np.asarray(_select(frames, num_frames, source_indices, source_num_frames, str(path), "frames"), np.float32)
    raise UserError(f"{path} is neither OpenPose output (a 'people' list) nor COCO keypoints ('images' and "
                    "'annotations'); give one of those")


def mask_from_image(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) image -> (H, W) bool: nonzero pixels (RGBA: nonzero alpha)."""
    if image.ndim == 2:
        return image != 0
    if image.shape[2] == 4:
        return image[..., 3] != 0
    return (image != 0).any(axis=2)


class MaskFolder:
    """Person masks from PNG files, one per frame, read on access: ``masks[t]`` is (H, W) bool at
    ``size`` = (W, H), resized with nearest-neighbour sampling."""

    def __init__(self, files: list[Path], size: tuple[int, int]):
        self.files = list(files)
        self.size = (int(size[0]), int(size[1]))

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, t: int) -> np.ndarray:
        if not -len(self.files) <= t < len(self.files):
            raise IndexError(f"mask {t} of {len(self.files)}")
        path = self.files[t]
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise UserError(f"{path} is not a readable image; give PNG masks (nonzero = person)")
        mask = mask_from_image(image)
        w, h = self.size
        if mask.shape != (h, w):
            mask = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        return mask


def read_masks(folder: str | Path, num_frames: int, size: tuple[int, int], source_indices: np.ndarray | None = None,
               source_num_frames: int | None = None) -> MaskFolder:
    """The user's person masks: a folder of PNGs (natural order), one per frame read from the
    video (or, with ``source_indices``, one per frame of the whole video).

    Args:
        folder: the mask folder.
        num_frames: frames read from the video (``VideoInfo.num_frames``).
        size: (W, H) of the frames (``VideoInfo.size``); masks are resized to it.
        source_indices, source_num_frames: optional, as in :func:`read_keypoints`.

    Raises:
        UserError: a missing folder, no PNG, a count that does not match, or masks whose aspect
            ratio differs from the frames'.
    """
    from selfmocap.video import image_size

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"mask folder {folder} does not exist or is not a folder; give a folder of PNG masks")
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".png"),
                   key=lambda p: natural_key(p.name))
    if not files:
        raise UserError(f"{folder} holds no PNG mask; give one PNG per frame (nonzero = person)")
    chosen = _select(files, num_frames, source_indices, source_num_frames, str(folder), "PNG masks")
    w, h = size
    for path in chosen:  # every mask: one of another shape would be stretched over its frame
        mw, mh = image_size(path)
        if abs(mw / mh - w / h) > 0.02 * (w / h):
            raise UserError(f"mask {path.name} is {mw}x{mh}, another shape than the {w}x{h} frames; "
                            "give masks of the video's frames")
    return MaskFolder(chosen, size)
