"""The typed records of a clip (``docs/dataset.md``): :class:`ClipMeta` (``meta.json``),
:class:`ClipLabels` (``labels.npz``) and :class:`MotionWindow`. Every dataset reader
(:mod:`selfmocap.data.clip`, :mod:`selfmocap.data.surreal`) fills them; they import no reader."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selfmocap.geometry.camera import CAMERA_ARRAY_LAYOUT

FORMAT_VERSION = 1


@dataclass(frozen=True)
class MotionWindow:
    """Where a clip's motion comes from when it is drawn from a motion-capture file."""

    file: str  #: the BVH file, as found under ``selfmocap synth --motions``
    first_frame: int  #: source frame (0-based) of the clip's first frame
    last_frame: float  #: source frame of the clip's last frame (fractional after resampling)
    source_fps: float  #: the file's frame rate
    bone_map: str  #: the bone-map profile that mapped the file's skeleton


@dataclass(frozen=True)
class ClipMeta:
    """Clip-level facts, stored as ``meta.json``."""

    clip_id: str
    split: str
    seed: int
    num_frames: int
    fps: float
    width: int
    height: int
    body_model: str
    motion_family: str
    background: str
    palette: str
    degraded_mask: bool
    format_version: int = FORMAT_VERSION
    camera_layout: tuple[str, ...] = CAMERA_ARRAY_LAYOUT
    #: which of the body model's files the labels are for (SMPL: neutral, male, female)
    gender: str = "neutral"
    motion_window: MotionWindow | None = None  #: set for motions drawn from motion capture


@dataclass(frozen=True)
class ClipLabels:
    """Per-frame ground truth (T frames, J joints, K = 23 keypoints), stored as ``labels.npz``.

    Attributes:
        pose: (T, J - 1, 3) axis-angle per pose joint (body-model rest axes; Anny 19, SMPL 23).
        shape: (S,) body shape (Anny phenotypes, SMPL betas), constant over the clip.
        camera: (T, 9) Eq. 3 camera in full-frame pixels: f, alpha, beta, gamma, Tx, Ty, depth, cx, cy.
        keypoints2d: (T, K, 3) pixel u, v and visibility (1: inside the frame and not occluded).
        keypoints3d: (T, K, 3) keypoints in the body frame (metres, root at origin).
        joints3d: (T, J, 3) skeleton joints in the body frame.
    """

    pose: np.ndarray
    shape: np.ndarray
    camera: np.ndarray
    keypoints2d: np.ndarray
    keypoints3d: np.ndarray
    joints3d: np.ndarray
