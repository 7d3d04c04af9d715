"""The captured motion: the typed record every exporter takes, and its ``motion.npz`` file.

``motion.npz`` (format :data:`MOTION_VERSION`, ``docs/exports.md``) holds every field of
:class:`CapturedMotion` plus the names that make it self-describing:

| key | shape | meaning |
|---|---|---|
| ``version`` | () int | format version |
| ``body_model`` | () str | ``"anny"``, ``"smpl"`` or ``"smplx"`` |
| ``fps`` | () float | frames per second of ``pose``/``camera`` |
| ``image_size`` | (2,) int | (W, H) of the frames the cameras refer to |
| ``pose`` | (T, P, 3) float32 | axis-angle per articulated bone, relative to the parent, in the body model's rest axes (``docs/conventions.md``), order ``pose_joint_names`` |
| ``shape`` | (S,) float32 | one body shape for the video, order ``shape_names`` |
| ``camera`` | (T, 9) float32 | Eq. 3 camera in frame pixels, order ``camera_layout`` |
| ``joints3d`` | (T, J, 3) float32 | joints, body frame (metres, root at the origin), order ``joint_names`` |
| ``keypoints3d`` | (T, K, 3) float32 | keypoints, body frame, order ``keypoint_names`` |
| ``keypoints2d`` | (T, K, 2) float32 | keypoints in frame pixels |
| ``detected`` | (T,) bool | frames where the detector found the person |
| ``world_rotation`` | (T, 3, 3) float32 | body frame -> world (y up, ground y = 0, metres; :mod:`selfmocap.export.world`) |
| ``world_translation`` | (T, 3) float32 | the root's world position: ``X_world = world_rotation X_body + world_translation`` |
| ``world_from_camera`` | (4, 4) float64 | the capture camera (OpenCV axes) -> world: its height and pitch |
| ``world_focal`` | () float | the real focal length assumed, frame pixels (the ``--fov`` prior) |
| ``contacts`` | (T, 2) bool | foot in contact with the ground, left then right |
| ``foot_offset`` | (T, 3) float32 | what foot locking and the ground added to ``world_translation`` |
| ``joint_names``, ``joint_parents``, ``pose_joint_names``, ``keypoint_names``, ``shape_names``, ``camera_layout`` | | names |

plus any ``extra`` arrays the caller adds (e.g. the input keypoints).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch

from selfmocap.body.config import body_model_class
from selfmocap.io import write_bytes
from selfmocap.export.config import WorldOptions
from selfmocap.export.world import WorldFrame, place_in_world
from selfmocap.geometry.camera import CAMERA_ARRAY_LAYOUT, Camera, project

MOTION_VERSION = 2
#: Older formats :func:`read_motion_npz` still reads (version 1: no world frame, ``world`` is None).
READABLE_VERSIONS = (1, 2)


@dataclass(frozen=True)
class CapturedMotion:
    """Per-frame body-model parameters and cameras of one video (T frames).

    Attributes:
        body_model: the body model's name (``BodyModel.name``).
        fps: frames per second.
        image_size: (W, H) of the frames the cameras refer to, pixels.
        pose: (T, P, 3) float32 axis-angle per articulated bone, local-ref (relative to the
            parent, in the rest pose's world-aligned axes), order of ``body.joint_names[1:]``.
        shape: (S,) one body shape for the whole video.
        camera: (T, 9) Eq. 3 cameras in frame pixels (``f, alpha, beta, gamma, Tx, Ty, depth,
            cx, cy``, :meth:`~selfmocap.geometry.camera.Camera.from_array`).
        joints3d: (T, J, 3) joints in the body frame (metres, root at the origin).
        keypoints3d: (T, K, 3) keypoints in the body frame.
        keypoints2d: (T, K, 2) keypoints in frame pixels.
        detected: (T,) bool, frames where the detector found the person.
        world: the motion in the world frame (:func:`selfmocap.export.world.place_in_world`); the
            3D exporters need it (None: not placed yet, or a version-1 file).
    """

    body_model: str
    fps: float
    image_size: tuple[int, int]
    pose: np.ndarray
    shape: np.ndarray
    camera: np.ndarray
    joints3d: np.ndarray
    keypoints3d: np.ndarray
    keypoints2d: np.ndarray
    detected: np.ndarray
    world: WorldFrame | None = None

    def __post_init__(self) -> None:
        t = len(self.pose)
        problems = []
        if not (np.isfinite(self.fps) and self.fps > 0):
            problems.append(f"fps must be positive, got {self.fps}")
        if len(self.image_size) != 2 or min(self.image_size) <= 0:
            problems.append(f"image_size must be (W, H) > 0, got {self.image_size}")
        expected = {
            "pose": (t, None, 3),
            "shape": (None,),
            "camera": (t, 9),
            "joints3d": (t, None, 3),
            "keypoints3d": (t, None, 3),
            "keypoints2d": (t, self.keypoints3d.shape[1] if self.keypoints3d.ndim == 3 else None, 2),
            "detected": (t,),
        }
        for name, want in expected.items():
            got = np.shape(getattr(self, name))
            if len(got) != len(want) or any(w is not None and g != w for g, w in zip(got, want)):
                spec = "(" + ", ".join("*" if w is None else str(w) for w in want) + ")"
                problems.append(f"{name} must be {spec}, got {got}")
        if t == 0:
            problems.append("the motion has no frames")
        if not problems and self.joints3d.shape[1] != self.pose.shape[1] + 1:
            problems.append(
                f"joints3d has {self.joints3d.shape[1]} joints, pose {self.pose.shape[1]} bones: "
                "joint_names[1:] must match the pose joints one-to-one"
            )
        if not problems:
            bad = [n for n in ("pose", "shape", "camera") if not np.isfinite(getattr(self, n)).all()]
            if bad:
                problems.append(f"{', '.join(bad)} must be finite (fill the frames without a detection before exporting)")
        if not problems and np.asarray(self.detected).dtype != bool:
            problems.append(f"detected must be bool, got {np.asarray(self.detected).dtype}")
        if not problems and self.world is not None and self.world.num_frames != t:
            problems.append(f"world has {self.world.num_frames} frames, the motion {t}")
        if problems:
            raise ValueError("CapturedMotion: " + "; ".join(problems))

    @property
    def num_frames(self) -> int:
        return len(self.pose)

    def placed(self) -> WorldFrame:
        """:attr:`world`, or a clear error for a motion not placed in the world frame."""
        if self.world is None:
            raise ValueError("the motion has no world frame: place it with "
                             "dataclasses.replace(motion, world=selfmocap.export.world.place_in_world(motion, body))")
        return self.world

    def cameras(self, dtype: torch.dtype = torch.float64) -> Camera:
        """The T cameras as a :class:`~selfmocap.geometry.camera.Camera` batch."""
        return Camera.from_array(torch.as_tensor(np.asarray(self.camera), dtype=dtype))


@dataclass(frozen=True)
class BodyNames:
    """The orders of a body model's axes (``joint_names[0]`` is the root)."""

    joint_names: tuple[str, ...]
    joint_parents: tuple[int, ...]
    keypoint_names: tuple[str, ...]
    shape_names: tuple[str, ...]


def body_names(body_model: str, shape_dim: int | None = None) -> BodyNames:
    """The names of a registered body model (:func:`~selfmocap.body.config.body_model_class`: the
    class attributes of its class), without building it."""
    model = body_model_class(body_model)
    return BodyNames(
        joint_names=tuple(model.joint_names),
        joint_parents=tuple(int(p) for p in model.joint_parents),
        keypoint_names=tuple(model.keypoint_names),
        # SMPL's (SMPL-X's) betas count depends on the file: its names exist only per instance
        shape_names=tuple(model.shape_names) if isinstance(getattr(model, "shape_names", None), tuple)
        else tuple(f"beta{i}" for i in range(shape_dim or 0)),
    )


def captured_motion(
    body,
    pose: np.ndarray,
    shape: np.ndarray,
    camera: np.ndarray,
    *,
    fps: float,
    image_size: tuple[int, int],
    detected: np.ndarray | None = None,
    world: WorldOptions | None = WorldOptions(),
    batch: int = 64,
) -> CapturedMotion:
    """Build a :class:`CapturedMotion` from parameters, running ``body`` for the joints and
    keypoints and Eq. 3 for the 2D keypoints.

    Args:
        body: the body model (:class:`~selfmocap.body.model.BodyModel`).
        pose: (T, P, 3) axis-angle; shape: (S,); camera: (T, 9).
        detected: (T,) bool; all true when None.
        world: options of the world frame (:func:`~selfmocap.export.world.place_in_world`); None
            leaves ``world`` unset.
        batch: frames per body-model call (bounds memory on long videos).
    """
    pose = np.asarray(pose, np.float32)
    camera = np.asarray(camera, np.float32)
    shape = np.asarray(shape, np.float32)
    if pose.ndim != 3 or camera.shape != (len(pose), 9) or shape.shape != (body.shape_dim,):
        raise ValueError(
            f"need pose (T, {body.num_pose_joints}, 3), camera (T, 9), shape ({body.shape_dim},); "
            f"got {pose.shape}, {camera.shape}, {shape.shape}"
        )
    joints, keypoints, keypoints2d = [], [], []
    dtype = body.default_shape.dtype
    with torch.no_grad():
        for start in range(0, len(pose), batch):
            p = torch.from_numpy(pose[start : start + batch]).to(dtype)
            out = body(p, torch.from_numpy(shape)[None].to(dtype))
            cam = Camera.from_array(torch.from_numpy(camera[start : start + batch]).to(dtype))
            joints.append(out.joints.float().numpy())
            keypoints.append(out.keypoints.float().numpy())
            keypoints2d.append(project(out.keypoints, cam).float().numpy())
    motion = CapturedMotion(
        body_model=body.name,
        fps=float(fps),
        image_size=(int(image_size[0]), int(image_size[1])),
        pose=pose,
        shape=shape,
        camera=camera,
        joints3d=np.concatenate(joints),
        keypoints3d=np.concatenate(keypoints),
        keypoints2d=np.concatenate(keypoints2d),
        detected=np.ones(len(pose), bool) if detected is None else np.asarray(detected, bool),
    )
    return motion if world is None else replace(motion, world=place_in_world(motion, body, world, batch=batch))


def frame_ranges(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` runs of the true entries of a (T,) bool mask, e.g. the frames
    without a detection: ``frame_ranges(~motion.detected)``."""
    mask = np.asarray(mask, bool)
    if mask.ndim != 1:
        raise ValueError(f"mask must be (T,), got {mask.shape}")
    edges = np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b) - 1) for a, b in zip(starts, stops)]


def format_frame_ranges(ranges: list[tuple[int, int]]) -> str:
    """``"3, 10-14"`` (``"none"`` when empty)."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges) or "none"


_ARRAY_FIELDS = ("pose", "shape", "camera", "joints3d", "keypoints3d", "keypoints2d")
_NAME_FIELDS = ("joint_names", "joint_parents", "pose_joint_names", "keypoint_names", "shape_names", "camera_layout")
#: motion.npz key -> WorldFrame attribute.
_WORLD_KEYS = {"world_rotation": "rotation", "world_translation": "translation", "world_from_camera": "world_from_camera",
               "world_focal": "focal", "contacts": "contacts", "foot_offset": "foot_offset"}
_RESERVED = ({f.name for f in fields(CapturedMotion)} - {"world"}) | set(_NAME_FIELDS) | set(_WORLD_KEYS) | {"version"}


def write_motion_npz(path: str | Path, motion: CapturedMotion, extra: dict[str, np.ndarray] | None = None) -> Path:
    """Write ``motion.npz`` (module docstring) atomically; ``extra`` arrays are stored beside the
    fields under their own names, which must not collide with the reserved ones. Returns ``path``."""
    names = body_names(motion.body_model, len(motion.shape))
    if len(names.joint_names) != motion.joints3d.shape[1] or len(names.keypoint_names) != motion.keypoints3d.shape[1]:
        raise ValueError(
            f"motion has {motion.joints3d.shape[1]} joints and {motion.keypoints3d.shape[1]} keypoints; "
            f"body model {motion.body_model!r} has {len(names.joint_names)} and {len(names.keypoint_names)}"
        )
    world = motion.placed()
    extra = dict(extra or {})
    clash = sorted(_RESERVED & set(extra))
    if clash:
        raise ValueError(f"extra arrays may not use the reserved names {clash}")
    arrays: dict[str, np.ndarray] = {
        "version": np.array(MOTION_VERSION),
        "body_model": np.array(motion.body_model),
        "fps": np.array(float(motion.fps)),
        "image_size": np.array(motion.image_size, np.int64),
        **{name: np.asarray(getattr(motion, name), np.float32) for name in _ARRAY_FIELDS},
        "detected": np.asarray(motion.detected, bool),
        "joint_names": np.array(names.joint_names),
        "joint_parents": np.array(names.joint_parents, np.int64),
        "pose_joint_names": np.array(names.joint_names[1:]),
        "keypoint_names": np.array(names.keypoint_names),
        "shape_names": np.array(names.shape_names),
        "camera_layout": np.array(CAMERA_ARRAY_LAYOUT),
        "world_rotation": np.asarray(world.rotation, np.float32),
        "world_translation": np.asarray(world.translation, np.float32),
        "world_from_camera": np.asarray(world.world_from_camera, np.float64),
        "world_focal": np.array(float(world.focal)),
        "contacts": np.asarray(world.contacts, bool),
        "foot_offset": np.asarray(world.foot_offset, np.float32),
        **{k: np.asarray(v) for k, v in extra.items()},
    }
    for key, value in arrays.items():
        if value.dtype == object:
            raise ValueError(f"array {key!r} has dtype object; motion.npz is read without pickle")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return write_bytes(path, buffer.getvalue())


def read_motion_npz(path: str | Path) -> CapturedMotion:
    """Read a ``motion.npz``; a missing, foreign or newer file gets a clear error naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            values = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path} is not a readable selfmocap motion file ({err})") from None
    version = int(values["version"]) if "version" in values else None
    if version not in READABLE_VERSIONS:
        raise ValueError(f"{path}: motion format {version} is not one of {READABLE_VERSIONS}")
    missing = sorted(({f.name for f in fields(CapturedMotion)} - {"world"} | (set(_WORLD_KEYS) if version >= 2 else set()))
                     - set(values))
    if missing:
        raise ValueError(f"{path} lacks motion fields {missing}")
    return CapturedMotion(
        body_model=str(values["body_model"]),
        fps=float(values["fps"]),
        image_size=(int(values["image_size"][0]), int(values["image_size"][1])),
        **{name: values[name] for name in _ARRAY_FIELDS},
        detected=values["detected"].astype(bool),
        world=_read_world(values) if version >= 2 else None,
    )


def _read_world(values: dict[str, np.ndarray]) -> WorldFrame:
    fields_ = {attr: values[key] for key, attr in _WORLD_KEYS.items()}
    fields_["focal"] = float(fields_["focal"])
    fields_["contacts"] = fields_["contacts"].astype(bool)
    return WorldFrame(**fields_)
