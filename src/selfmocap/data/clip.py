"""The on-disk clip format (``docs/dataset.md``) and its typed reader/writer.

One clip per folder ``DIR/<clip_id>/``::

    meta.json        ClipMeta (format version, split, seed, size, fps, motion family, ...)
    labels.npz       ClipLabels (pose, shape, camera, 2D/3D keypoints, 3D joints)
    rgb/000000.png   RGB frames (lossless)
    mask/000000.png  true person silhouette (0/255)
    mask_input/...   the silhouette a method is *given* (degraded on the ``shift`` split only)
    depth.npz        depth (T, H, W) float16 metres, 0 on background
    flow.npz         flow (T-1, H, W, 2) float16 forward flow t -> t+1 in pixels,
                     flow_valid (T-1, H, W) bool: the surface point is visible in t+1
    world_landmarks.npz  optional (``selfmocap synth --world-landmarks``): world (T, K, 4)
                     float32, mediapipe's 3D world landmarks of the RGB frames as our keypoints
                     with confidence (all zero where it found nobody), the 3D input of a
                     ``world_input`` network in pretraining

A clip is written to ``DIR/.tmp-<clip_id>`` and renamed when complete, so a folder named like a
clip is always whole; readers ignore the ``.tmp-*`` leftovers of an interrupted run.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, fields
from pathlib import Path

import cv2
import numpy as np

from selfmocap.io import atomic_path
from selfmocap.data.records import FORMAT_VERSION, ClipLabels, ClipMeta, MotionWindow

TMP_PREFIX = ".tmp-"
WORLD_LANDMARKS_FILE = "world_landmarks.npz"


def _write_png(path: Path, image: np.ndarray) -> None:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"could not write {path}")


def _read_png(path: Path, color: bool) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"could not read image {path}: missing or corrupt")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if color else image


class ClipWriter:
    """Writes one clip into a temporary folder; :meth:`commit` renames it into place."""

    def __init__(self, root: Path, clip_id: str):
        self.final = Path(root) / clip_id
        self.tmp = Path(root) / f"{TMP_PREFIX}{clip_id}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        for sub in ("rgb", "mask"):
            (self.tmp / sub).mkdir(parents=True)

    def write_frame(self, t: int, rgb: np.ndarray, mask: np.ndarray, input_mask: np.ndarray | None) -> None:
        _write_png(self.tmp / "rgb" / f"{t:06d}.png", rgb)
        _write_png(self.tmp / "mask" / f"{t:06d}.png", mask.astype(np.uint8) * 255)
        if input_mask is not None:
            (self.tmp / "mask_input").mkdir(exist_ok=True)
            _write_png(self.tmp / "mask_input" / f"{t:06d}.png", input_mask.astype(np.uint8) * 255)

    def write_clip(self, meta: ClipMeta, labels: ClipLabels, depth: np.ndarray, flow: np.ndarray, flow_valid: np.ndarray) -> None:
        np.savez(self.tmp / "labels.npz", **{f.name: getattr(labels, f.name) for f in fields(labels)})
        np.savez_compressed(self.tmp / "depth.npz", depth=depth.astype(np.float16))
        np.savez_compressed(self.tmp / "flow.npz", flow=flow.astype(np.float16), flow_valid=flow_valid)
        (self.tmp / "meta.json").write_text(json.dumps(asdict(meta), indent=1))

    def commit(self) -> Path:
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.tmp, self.final)
        return self.final


class Clip:
    """Read access to one complete clip folder. Labels load lazily; frames load on demand."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        meta_file = self.path / "meta.json"
        if not meta_file.is_file():
            raise FileNotFoundError(f"{self.path} is not a selfmocap clip: no meta.json")
        raw = json.loads(meta_file.read_text())
        if raw.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{self.path}: clip format version {raw.get('format_version')} is not supported "
                f"(this selfmocap reads version {FORMAT_VERSION}); regenerate it with `selfmocap synth`"
            )
        raw["camera_layout"] = tuple(raw["camera_layout"])
        if raw.get("motion_window") is not None:
            raw["motion_window"] = MotionWindow(**raw["motion_window"])
        self.meta = ClipMeta(**raw)
        self._labels: ClipLabels | None = None

    def __repr__(self) -> str:
        return f"Clip({str(self.path)!r}, frames={self.meta.num_frames})"

    def __len__(self) -> int:
        return self.meta.num_frames

    @property
    def labels(self) -> ClipLabels:
        """The clip's ground truth, read once and kept."""
        if self._labels is None:
            self._labels = self.read_labels()
        return self._labels

    def read_labels(self) -> ClipLabels:
        """The clip's ground truth, read from disk (not kept)."""
        with np.load(self.path / "labels.npz") as z:
            return ClipLabels(**{f.name: z[f.name] for f in fields(ClipLabels)})

    def rgb(self, t: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB frame ``t``."""
        return _read_png(self.path / "rgb" / f"{t:06d}.png", color=True)

    def mask(self, t: int) -> np.ndarray:
        """(H, W) bool true silhouette."""
        return _read_png(self.path / "mask" / f"{t:06d}.png", color=False) > 127

    def input_mask(self, t: int) -> np.ndarray:
        """(H, W) bool silhouette given to methods (degraded on ``shift``, else the true one)."""
        path = self.path / "mask_input" / f"{t:06d}.png"
        if path.is_file():
            return _read_png(path, color=False) > 127
        return self.mask(t)

    def depth(self) -> np.ndarray:
        """(T, H, W) float32 depth in metres (0 on background)."""
        with np.load(self.path / "depth.npz") as z:
            return z["depth"].astype(np.float32)

    def world_landmarks(self) -> np.ndarray | None:
        """(T, K, 4) float32 mediapipe's world landmarks of the frames, or None where they were not
        computed (``selfmocap synth --world-landmarks``)."""
        path = self.path / WORLD_LANDMARKS_FILE
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as z:
            world = z["world"].astype(np.float32)
        if not self._fits_world(world):
            raise ValueError(f"{path}: expected ({len(self)}, K, 4) world landmarks, got {world.shape}; delete it and rerun synth --world-landmarks")
        return world

    def _fits_world(self, world: np.ndarray) -> bool:
        return world.ndim == 3 and world.shape[0] == len(self) and world.shape[2] == 4

    def write_world_landmarks(self, world: np.ndarray) -> Path:
        """Store (T, K, 4) world landmarks of this clip's frames (atomically)."""
        world = np.asarray(world, dtype=np.float32)
        if not self._fits_world(world):
            raise ValueError(f"expected ({len(self)}, K, 4) world landmarks, got {world.shape}")
        with atomic_path(self.path / WORLD_LANDMARKS_FILE) as tmp:
            np.savez_compressed(tmp, world=world)
        return self.path / WORLD_LANDMARKS_FILE

    def flow(self) -> tuple[np.ndarray, np.ndarray]:
        """Ground-truth forward flow (T-1, H, W, 2) float32 and its validity (T-1, H, W) bool."""
        with np.load(self.path / "flow.npz") as z:
            return z["flow"].astype(np.float32), z["flow_valid"]


def clips_body_model(clips, root: str | Path = "") -> str:
    """The body model all ``clips`` record (their ground truth's); a mix raises ``ValueError``."""
    models = sorted({c.meta.body_model for c in clips})
    if len(models) != 1:
        raise ValueError(f"the clips of {root} mix body models ({', '.join(models)}); keep one per folder")
    return models[0]


def list_clips(root: str | Path, body=None) -> list[Clip]:
    """All complete clips under ``root`` (a dataset folder or one clip folder), sorted by id; a
    folder in SURREAL's layout (``docs/surreal.md``) gives :class:`~selfmocap.data.surreal.SurrealClip`
    records with the same interface.

    ``body`` (a :class:`~selfmocap.body.BodyModelConfig`) says where body model files are, for
    datasets whose labels need them (SURREAL's, made from SMPL parameters).
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"dataset folder {root} does not exist; make one with `selfmocap synth --out {root}`")
    if (root / "meta.json").is_file():
        return [Clip(root)]
    from selfmocap.data import surreal

    if root.is_file():  # one SURREAL clip, given by its video or annotation file
        stem = root.with_name(root.name.removesuffix(".mp4").removesuffix(surreal.INFO_SUFFIX))
        return [surreal.SurrealClip(stem, stem.name, body=body)]
    clips = [
        Clip(p)
        for p in sorted(root.iterdir())
        if p.is_dir() and not p.name.startswith(TMP_PREFIX) and (p / "meta.json").is_file()
    ]
    if not clips and surreal.is_surreal_folder(root):
        return surreal.list_surreal_clips(root, body)
    if not clips:
        raise FileNotFoundError(
            f"no selfmocap or SURREAL clips in {root}; make some with `selfmocap synth --out {root}` (docs/surreal.md for SURREAL)"
        )
    return clips
