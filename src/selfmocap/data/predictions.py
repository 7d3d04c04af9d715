"""Per-clip predictions: what ``predict``, ``adapt`` and ``optimize`` write and ``evaluate`` reads.

``PRED_DIR/<clip_id>.npz`` per clip (``docs/predictions.md``) and ``PRED_DIR/run.json`` with the
method, its resolved config and versions. Every array is per frame (T frames):

| key | shape | meaning |
|---|---|---|
| ``pose`` | (T, J, 3) | axis-angle per pose joint (body-model rest axes; Anny 19, SMPL 23) |
| ``shape`` | (T, S) | body shape per frame |
| ``camera`` | (T, 9) | Eq. 3 camera in full-frame pixels (``f, alpha, beta, gamma, Tx, Ty, depth, cx, cy``) |
| ``joints3d`` | (T, J, 3) | joints, body frame (metres, root at the origin) |
| ``keypoints3d`` | (T, K, 3) | keypoints, body frame |
| ``keypoints2d`` | (T, K, 2) | keypoints projected into the frame (pixels) |
| ``vertices`` | (T, V, 3) | optional (``--vertices``), float16, body frame |
| ``valid`` | (T,) | False where the method had no input for the frame |
| ``body_model`` | () | name of the body model (``anny`` when absent: files from before SMPL) |
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from selfmocap import io as files
from selfmocap.errors import UserError

PREDICTION_VERSION = 1


@dataclass(frozen=True)
class ClipPrediction:
    """Predicted bodies and cameras of one clip (see the module docstring for shapes)."""

    pose: np.ndarray
    shape: np.ndarray
    camera: np.ndarray
    joints3d: np.ndarray
    keypoints3d: np.ndarray
    keypoints2d: np.ndarray
    valid: np.ndarray
    vertices: np.ndarray | None = None
    body_model: str = "anny"

    def __post_init__(self) -> None:
        t = len(self.pose)
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and len(value) != t:
                raise ValueError(f"prediction field {f.name} has {len(value)} frames, pose has {t}")


def check_predictions_out(pred_dir: Path) -> None:
    """A one-line ``UserError`` for an ``--out`` predictions folder that is a file."""
    if pred_dir.exists() and not pred_dir.is_dir():
        raise UserError(f"--out {pred_dir} exists and is not a folder")


def prediction_path(pred_dir: str | Path, clip_id: str) -> Path:
    """Where a clip's prediction lives in a predictions folder: ``PRED_DIR/<clip_id>.npz``."""
    return Path(pred_dir) / f"{clip_id}.npz"


def write_prediction(pred_dir: str | Path, clip_id: str, prediction: ClipPrediction) -> Path:
    """Write ``PRED_DIR/<clip_id>.npz`` atomically."""
    pred_dir = Path(pred_dir)
    pred_dir.mkdir(parents=True, exist_ok=True)
    arrays = {f.name: getattr(prediction, f.name) for f in fields(prediction) if getattr(prediction, f.name) is not None}
    arrays["body_model"] = np.array(prediction.body_model)
    if "vertices" in arrays:
        arrays["vertices"] = arrays["vertices"].astype(np.float16)
    arrays["version"] = np.array(PREDICTION_VERSION)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return files.write_bytes(prediction_path(pred_dir, clip_id), buffer.getvalue())


def read_prediction(path: str | Path) -> ClipPrediction:
    """Read one ``<clip_id>.npz``; a missing or foreign file gets a clear error naming it."""
    path = Path(path)
    try:
        with np.load(path) as z:
            version = int(z["version"]) if "version" in z else None
            values = {f.name: z[f.name] for f in fields(ClipPrediction) if f.name in z}
            if "body_model" in values:
                values["body_model"] = str(values["body_model"])
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path} is not a readable selfmocap prediction file ({err})") from None
    if version != PREDICTION_VERSION:
        raise ValueError(f"{path}: prediction format {version} is not {PREDICTION_VERSION}; rerun the method that wrote it")
    if "vertices" in values:
        values["vertices"] = values["vertices"].astype(np.float32)
    try:
        return ClipPrediction(**values)
    except TypeError as err:
        raise ValueError(f"{path} lacks prediction fields ({err})") from None


def write_run_info(pred_dir: str | Path, method: str, **info) -> None:
    """``PRED_DIR/run.json``: which method wrote the predictions, with what."""
    from selfmocap import __version__

    payload = {"method": method, "selfmocap_version": __version__, **info}
    files.write_json(Path(pred_dir) / "run.json", payload)
