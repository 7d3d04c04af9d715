"""2D cues of a real frame: body keypoints and a person mask from mediapipe's pose solution.

:class:`PoseDetector` wraps mediapipe 0.10.21's legacy ``mp.solutions.pose`` (BlazePose) in video
mode: the person detector runs on the first frame and whenever tracking is lost, the landmark
model follows the person from frame to frame in between. It runs on the CPU with the models
shipped in the mediapipe wheel; nothing is downloaded.

Mapping (``docs/capture-inputs.md``, checked on synthetic frames with known 2D keypoints):

* mediapipe's ``LEFT_*`` landmarks are the subject's left, like :data:`KEYPOINT_NAMES`;
* pixel coordinates are ``x = x_norm * W``, ``y = y_norm * H`` with no half-pixel shift: on
  mirrored frames the measured offset to our continuous convention is -0.13 px on 256-pixel
  frames (see the docs page for how it grows with the person's size), far below the landmark
  error;
* ``FOOT_INDEX`` (the tip of the foot) plays the big toe (median 1.7-2.6 px from the true big toes
  on synthetic frames, 2.9-3.9 px from the small toes); the small toes have no counterpart and
  get confidence 0;
* confidence is mediapipe's ``visibility`` (the probability that the landmark is in the image
  and not occluded, in practice high for self-occluded limbs too).
"""

from __future__ import annotations

import functools
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from tqdm import tqdm

from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.cues.detector import MIN_VISIBLE_KEYPOINTS
from selfmocap.errors import UserError

#: A keypoint counts as seen when its confidence is at least this (mediapipe's own default for
#: its visibility, and the threshold the capture pipeline binarises confidences with).
KEYPOINT_CONFIDENCE_THRESHOLD: Final[float] = 0.5

#: Segmentation probabilities at least this are person pixels.
MASK_THRESHOLD: Final[float] = 0.5

#: mediapipe's 33 pose landmarks, in its order (``mp.solutions.pose.PoseLandmark``).
MEDIAPIPE_LANDMARK_NAMES: Final[tuple[str, ...]] = (
    "nose",
    "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear",
    "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_pinky", "right_pinky",
    "left_index", "right_index",
    "left_thumb", "right_thumb",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)

#: Our keypoint name -> mediapipe landmark name, for every keypoint with a counterpart.
KEYPOINT_FROM_MEDIAPIPE: Final[dict[str, str]] = {
    **{name: name for name in KEYPOINT_NAMES[:17]},  # the 17 COCO keypoints share their names
    "left_big_toe": "left_foot_index",
    "right_big_toe": "right_foot_index",
    "left_heel": "left_heel",
    "right_heel": "right_heel",
}

#: (K,) index into mediapipe's landmarks of each keypoint of :data:`KEYPOINT_NAMES`, -1: none.
MEDIAPIPE_INDEX: Final[tuple[int, ...]] = tuple(
    MEDIAPIPE_LANDMARK_NAMES.index(KEYPOINT_FROM_MEDIAPIPE[name]) if name in KEYPOINT_FROM_MEDIAPIPE else -1
    for name in KEYPOINT_NAMES
)

#: Pose landmark model file of each ``model_complexity``, inside the mediapipe package.
_MODEL_FILES: Final[dict[int, str]] = {
    0: "modules/pose_landmark/pose_landmark_lite.tflite",
    1: "modules/pose_landmark/pose_landmark_full.tflite",
    2: "modules/pose_landmark/pose_landmark_heavy.tflite",
}

INSTALL_HINT: Final[str] = 'pip install --no-deps mediapipe==0.10.21 && pip install absl-py attrs flatbuffers "protobuf<5"'

#: stderr lines from mediapipe's C++ side that carry no information for a user: TF-Lite's INFO
#: lines and absl's INFO (I) and WARNING (W) records. Errors (E) and fatal records (F) are kept.
_LOG_NOISE = re.compile(
    r"^(INFO: |WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\])"
)


@dataclass(frozen=True, eq=False)
class FrameCues:
    """The 2D cues of one frame (K keypoints, frame H x W).

    Attributes:
        keypoints: (K, 3) float32 ``x, y`` in frame pixels (continuous, pixel centres at +0.5) and
            confidence in [0, 1]; all zero where a keypoint is missing.
        mask: (H, W) bool person segmentation, or None when not available (segmentation off, or
            no person found in the frame).
        landmarks: (33, 4) mediapipe's raw output (normalised x, y, z and visibility), or None.
        world: (K, 4) float32 mediapipe's metric 3D ``pose_world_landmarks`` mapped to
            :data:`KEYPOINT_NAMES` (:func:`mediapipe_to_world_keypoints`): ``x, y, z`` in metres
            around the hip centre, and confidence; or None where there are none.
    """

    keypoints: np.ndarray
    mask: np.ndarray | None
    landmarks: np.ndarray | None = None
    world: np.ndarray | None = None

    @property
    def detected(self) -> bool:
        """At least ``MIN_VISIBLE_KEYPOINTS`` keypoints with confidence >= ``KEYPOINT_CONFIDENCE_THRESHOLD``."""
        return int((self.keypoints[:, 2] >= KEYPOINT_CONFIDENCE_THRESHOLD).sum()) >= MIN_VISIBLE_KEYPOINTS


def mediapipe_to_keypoints(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """mediapipe pose landmarks -> our keypoints.

    Args:
        landmarks: (33, 4) normalised ``x, y`` (fractions of the frame width and height), ``z``
            (ignored) and ``visibility``, in mediapipe's order (:data:`MEDIAPIPE_LANDMARK_NAMES`).
        width, height: frame size in pixels.

    Returns:
        (K, 3) float32 in :data:`KEYPOINT_NAMES` order: ``x_norm * width``, ``y_norm * height``
        (our continuous pixel convention, measured: see the module docstring) and the visibility
        clipped to [0, 1] as confidence; keypoints without a mediapipe counterpart are all zero.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (len(MEDIAPIPE_LANDMARK_NAMES), 4):
        raise ValueError(f"expected ({len(MEDIAPIPE_LANDMARK_NAMES)}, 4) landmarks, got {landmarks.shape}")
    index = np.array(MEDIAPIPE_INDEX)
    has = index >= 0
    out = np.zeros((len(KEYPOINT_NAMES), 3), np.float32)
    picked = landmarks[index[has]]
    out[has, 0] = picked[:, 0] * width
    out[has, 1] = picked[:, 1] * height
    out[has, 2] = np.clip(np.nan_to_num(picked[:, 3]), 0.0, 1.0)
    return out


def mediapipe_to_world_keypoints(world: np.ndarray) -> np.ndarray:
    """mediapipe's ``pose_world_landmarks`` -> our keypoints in 3D.

    Args:
        world: (33, 4) ``x, y, z`` in metres (origin between the hips, mediapipe's own axes:
            x to the image's right, y down, z away from the camera, up to an unknown rotation
            and scale of its estimate) and ``visibility``, in mediapipe's order.

    Returns:
        (K, 4) float32 in :data:`KEYPOINT_NAMES` order: ``x, y, z`` as given and the visibility
        clipped to [0, 1] as confidence; keypoints without a counterpart are all zero.
    """
    world = np.asarray(world, dtype=np.float64)
    if world.shape != (len(MEDIAPIPE_LANDMARK_NAMES), 4):
        raise ValueError(f"expected ({len(MEDIAPIPE_LANDMARK_NAMES)}, 4) world landmarks, got {world.shape}")
    index = np.array(MEDIAPIPE_INDEX)
    has = index >= 0
    out = np.zeros((len(KEYPOINT_NAMES), 4), np.float32)
    picked = world[index[has]]
    finite = np.isfinite(picked[:, :3]).all(axis=1)
    out[has, :3] = np.where(finite[:, None], picked[:, :3], 0.0)
    out[has, 3] = np.where(finite, np.clip(np.nan_to_num(picked[:, 3]), 0.0, 1.0), 0.0)
    return out


def import_mediapipe():
    """The ``mediapipe`` module, or a ``UserError`` saying how to install it."""
    try:
        import mediapipe
        from mediapipe.python.solutions import pose  # noqa: F401  (fails on a broken install)
    except Exception as err:  # ImportError, or protobuf/numpy incompatibilities raised at import
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"mediapipe is not usable ({reason}); install it with: {INSTALL_HINT}") from None
    return mediapipe


def pose_model_path(mediapipe_module, model_complexity: int) -> Path:
    """Path of the pose landmark model of a complexity inside the mediapipe package (it may not exist)."""
    return Path(mediapipe_module.__file__).parent / _MODEL_FILES[model_complexity]


def is_log_noise(line: str) -> bool:
    """Whether a stderr line is one of mediapipe's uninformative INFO/WARNING records."""
    return _LOG_NOISE.match(line) is not None


@functools.cache
def _libc():
    import ctypes

    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def _flush_c_streams() -> None:
    """``fflush(NULL)``: flush every C stdio output stream of the process (no-op where unavailable)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "fflush"):
        libc.fflush(None)


class _StderrFilter:
    """Runs blocks with file descriptor 2 sent to a scratch file, then writes back to stderr every
    line that is not mediapipe noise (:func:`is_log_noise`).

    mediapipe's C++ logging writes straight to descriptor 2 and ignores ``GLOG_minloglevel``,
    ``TF_CPP_MIN_LOG_LEVEL`` and Python's logging, so filtering the descriptor is the only way to
    keep the command's output clean. Records that mediapipe's threads emit outside the blocks
    (rare) still reach the terminal."""

    def __init__(self) -> None:
        self._scratch = tempfile.TemporaryFile()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no usable descriptor 2: nothing to filter
            yield
            return
        self._scratch.seek(0)
        self._scratch.truncate()
        os.dup2(self._scratch.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except ValueError:
                pass
            _flush_c_streams()  # TF-Lite's messages can sit in a C stdio buffer
            os.dup2(saved, 2)
            os.close(saved)
            self._scratch.seek(0)
            text = self._scratch.read().decode("utf-8", errors="replace")
            kept = "".join(line for line in text.splitlines(keepends=True) if not is_log_noise(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()

    def close(self) -> None:
        self._scratch.close()


class PoseDetector:
    """mediapipe pose in video (tracking) mode: one call per frame, in order.

    Args:
        model_complexity: mediapipe's landmark model: 0 lite, 1 full, 2 heavy. The wheel ships
            only the full model (1); the others must already be in the mediapipe package.
        min_confidence: mediapipe's ``min_detection_confidence`` (person detector score) and
            ``min_tracking_confidence`` (below it, tracking is dropped and the detector runs again).
        segmentation: also return a person mask per frame.
        mask_threshold: segmentation probability at which a pixel is a person pixel.

    Raises:
        UserError: mediapipe is not installed or the requested model is not available.
    """

    def __init__(self, model_complexity: int = 1, min_confidence: float = 0.5, segmentation: bool = True,
                 mask_threshold: float = MASK_THRESHOLD):
        if model_complexity not in _MODEL_FILES:
            raise UserError(f"mediapipe model complexity must be 0 (lite), 1 (full) or 2 (heavy), got {model_complexity}")
        if not 0.0 <= min_confidence <= 1.0:
            raise UserError(f"the detector's minimum confidence must be in [0, 1], got {min_confidence}")
        mediapipe = import_mediapipe()
        model = pose_model_path(mediapipe, model_complexity)
        if not model.is_file():
            raise UserError(f"mediapipe's pose model {model.name} (complexity {model_complexity}) is not installed and "
                            f"will not be downloaded; use model complexity 1 (in the wheel) or copy the file to {model}")
        try:  # mediapipe's Python-side messages go through absl-py
            from absl import logging as absl_logging

            absl_logging.set_verbosity(absl_logging.ERROR)
        except ImportError:
            pass
        self.segmentation = segmentation
        self.mask_threshold = mask_threshold
        self._size: tuple[int, int] | None = None
        self._quiet = _StderrFilter()
        with self._quiet():
            self._pose = mediapipe.solutions.pose.Pose(
                static_image_mode=False,
                model_complexity=model_complexity,
                smooth_landmarks=True,
                enable_segmentation=segmentation,
                smooth_segmentation=segmentation,
                min_detection_confidence=min_confidence,
                min_tracking_confidence=min_confidence,
            )
            # The graph opens its calculators (TF-Lite interpreters, which log) on its own threads
            # after start: wait for them here, inside the filter, not during the caller's next step.
            graph = getattr(self._pose, "_graph", None)
            if graph is not None:
                graph.wait_until_idle()

    def __call__(self, rgb: np.ndarray) -> FrameCues:
        """Keypoints and mask of the next frame, ``rgb`` (H, W, 3) uint8."""
        if self._pose is None:
            raise RuntimeError("PoseDetector used after close()")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        if self._size is None:
            self._size = (w, h)
        elif self._size != (w, h):  # mediapipe's temporal filters fail on a change of size
            raise ValueError(f"frame is {w}x{h}, earlier frames {self._size[0]}x{self._size[1]}: one detector per video")
        with self._quiet():
            result = self._pose.process(np.ascontiguousarray(rgb))
        if result.pose_landmarks is None:
            return FrameCues(np.zeros((len(KEYPOINT_NAMES), 3), np.float32), None, None)
        landmarks = np.array([[p.x, p.y, p.z, p.visibility] for p in result.pose_landmarks.landmark], np.float32)
        mask = None
        if self.segmentation and result.segmentation_mask is not None:
            mask = np.asarray(result.segmentation_mask) >= self.mask_threshold
        world = None
        if result.pose_world_landmarks is not None:
            world = mediapipe_to_world_keypoints(
                np.array([[p.x, p.y, p.z, p.visibility] for p in result.pose_world_landmarks.landmark], np.float32))
        return FrameCues(mediapipe_to_keypoints(landmarks, w, h), mask, landmarks, world)

    def close(self) -> None:
        """Release mediapipe's graph (idempotent)."""
        pose, self._pose = getattr(self, "_pose", None), None
        if pose is not None:
            try:
                with self._quiet():
                    pose.close()
            except RuntimeError:  # a graph that already failed re-raises its error on close
                pass
            finally:
                self._quiet.close()

    def __enter__(self) -> PoseDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def world_landmarks(frames: list[np.ndarray], progress: str | None = None) -> np.ndarray:
    """(T, K, 4) mediapipe's metric world landmarks of each frame as our keypoints with confidence
    (all zero where mediapipe finds no person): the 3D cue of the ``world3d`` loss and of a
    ``world_input`` network. mediapipe only ever sees the RGB frames, so nothing of a clip's 3D
    truth reaches here."""
    out = np.zeros((len(frames), len(KEYPOINT_NAMES), 4), np.float32)
    with PoseDetector(segmentation=False) as detector:
        for t, frame in enumerate(tqdm(frames, desc=progress, disable=progress is None, unit="frame")):
            cues = detector(frame)
            if cues.world is not None:
                out[t] = cues.world
    return out
