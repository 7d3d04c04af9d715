"""SURREAL (Varol et al., CVPR 2017) read in its own layout, behind the :class:`~selfmocap.data.clip.Clip`
interface, so that ``predict``, ``adapt``, ``optimize``, ``evaluate`` and ``pretrain`` run on it
unchanged (``docs/surreal.md``)::

    <root>/.../<sequence>/<sequence>_c0001.mp4          RGB, 320 x 240
                          <sequence>_c0001_info.mat     pose (72, T), shape (10, T), joints2D (2, 24, T),
                                                        joints3D (3, 24, T), camLoc (3,), zrot (T,), gender (T,)
                          <sequence>_c0001_segm.mat     segm_1 .. segm_T (240, 320) uint8, 0 = background
                          <sequence>_c0001_depth.mat    depth_1 .. depth_T (240, 320) metres (optional)
                          <sequence>_c0001_gtflow.mat   gtflow_1 .. gtflow_T (240, 320, 2) (optional)

Ground truth comes from the SMPL parameters and SURREAL's camera, mapped to selfmocap's
conventions (the derivations are in ``docs/surreal.md``):

* camera: ``f = 600`` px, principal point ``(160, 120)`` (SURREAL's ``getIntrinsicBlender``); the
  world-to-camera matrix is fixed, ``W = [[0, 0, -1], [0, 1, 0], [-1, 0, 0]]``, and the camera
  sits at ``camLoc`` (``getExtrinsicBlender``);
* body orientation in the world: ``G = R90 Rz(zrot) R(pose[0:3])`` with ``R90`` 90 degrees about x
  (SURREAL's ``smpl_relations.py``), the root at ``joints3D[:, 0]``;
* **the mirror**: ``W`` has determinant -1 (Blender's camera matrix in SURREAL is a reflection),
  so SURREAL's images show the *mirror image* of the SMPL body ``(pose, shape)`` (SURREAL's demo
  notes that "left/right are swapped"). No rotation can show that body, so the labels describe the
  body the images show: the mirrored pose (left/right joints swapped, each rotation ``M R M``,
  ``M = diag(-1, 1, 1)``) seen with ``R = W G C M``, a proper rotation (``C``: SMPL's axes -> the
  body frame); the root is at ``W (joints3D[:, 0] - camLoc)`` in camera space. SMPL is left/right
  symmetric to a few millimetres, the error of this description;
* pose: ``pose[3:72]`` mirrored as above (SMPL's axes); shape: ``shape[:, 0]`` (SMPL's shape
  space is symmetric);
* keypoints: the SMPL body model's (``docs/smpl.md``), projected; visible when inside the frame and
  not behind the depth map by more than 10 cm (inside the frame only, without ``_depth.mat``);
* flow: SURREAL's ``gtflow_k`` is Blender Cycles' vector pass (R, G): the *backward* motion of frame
  k's pixels to frame k - 1, in raster units with y up. It is turned into the forward flow
  t -> t + 1 of selfmocap's clips by inverting ``gtflow_{t+2}`` (:func:`forward_flow_from_backward`).

SMPL's files are needed for the labels (the keypoints are not stored): the clips carry a
:class:`~selfmocap.body.BodyModelConfig` and load SMPL, in the clip's gender when the SMPL path is
a folder that has it, only when labels are asked for.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import roma
import torch

from selfmocap.body.names import SMPL_TO_BODY
from selfmocap.data.records import ClipLabels, ClipMeta

SURREAL_FOCAL: Final[float] = 600.0  #: pixels: 60 mm lens on a 32 mm sensor, 320 px wide
SURREAL_WIDTH: Final[int] = 320
SURREAL_HEIGHT: Final[int] = 240
SURREAL_FPS: Final[float] = 30.0
#: World (SURREAL's Blender scene) -> OpenCV camera axes: Blender's fixed camera orientation
#: followed by Blender camera -> computer-vision camera (y and z flipped). Determinant -1.
WORLD_TO_CAMERA: Final[np.ndarray] = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
#: The body-frame mirror (x -> -x) that makes ``WORLD_TO_CAMERA @ G @ SMPL_TO_BODY`` a rotation.
MIRROR: Final[np.ndarray] = np.diag([-1.0, 1.0, 1.0])
#: 90 degrees about x: SMPL's y-up body into SURREAL's world (``smpl_relations.rotateBody``).
R90: Final[np.ndarray] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: SURREAL's depth maps put 1e10 on the background.
DEPTH_BACKGROUND: Final[float] = 1e9
KEYPOINT_OCCLUSION_TOLERANCE: Final[float] = 0.10
#: Largest depth change (m) of a surface point between two frames for its flow to count as valid.
FLOW_DEPTH_TOLERANCE: Final[float] = 0.10
#: Pixels over which the backward flow is extended off the person (:func:`forward_flow_from_backward`).
EXTEND_SIGMA: Final[float] = 6.0
GENDERS: Final[dict[int, str]] = {0: "female", 1: "male"}
INFO_SUFFIX: Final[str] = "_info.mat"
_STEM = re.compile(r"^(?P<sequence>.+)_c(?P<clip>\d{4})$")
_CACHE_CLIPS: Final[int] = 4  #: decoded videos / segmentations kept per process


@dataclass(frozen=True)
class SurrealInfo:
    """The parts of ``<clip>_info.mat`` selfmocap uses (T frames).

    Attributes:
        pose: (T, 72) SMPL pose; ``pose[:, 0:3]`` the pelvis rotation before ``zrot``.
        shape: (T, 10) betas (constant over a clip).
        joints2d: (T, 24, 2) SMPL joints in pixels (rounded).
        joints3d: (T, 24, 3) SMPL joints in the world, metres.
        cam_loc: (3,) camera position in the world.
        zrot: (T,) body rotation about the world's vertical, radians.
        gender: "female" or "male".
        sequence: ``<sequence>_c<clip>``.
    """

    pose: np.ndarray
    shape: np.ndarray
    joints2d: np.ndarray
    joints3d: np.ndarray
    cam_loc: np.ndarray
    zrot: np.ndarray
    gender: str
    sequence: str

    @property
    def num_frames(self) -> int:
        return len(self.pose)


def _frames_last(array: np.ndarray, rows: tuple[int, ...]) -> np.ndarray:
    """MATLAB's (..., T) array, whose trailing T = 1 may have been squeezed away -> (T, ...)."""
    array = np.asarray(array, dtype=np.float64).reshape(*rows, -1)
    return np.moveaxis(array, -1, 0)


def read_info(path: str | Path) -> SurrealInfo:
    """Read ``<clip>_info.mat`` (``scipy.io.loadmat``); a missing key or file is a ``ValueError``."""
    from scipy.io import loadmat

    path = Path(path)
    try:
        mat = loadmat(path)
    except (OSError, ValueError, TypeError) as err:
        raise ValueError(f"cannot read SURREAL annotation {path} ({err})") from None
    missing = [k for k in ("pose", "shape", "joints2D", "joints3D", "camLoc", "zrot", "gender") if k not in mat]
    if missing:
        raise ValueError(f"{path} is not a SURREAL _info.mat: missing {', '.join(missing)}")
    pose = _frames_last(mat["pose"], (72,))
    t = len(pose)
    zrot = np.asarray(mat["zrot"], dtype=np.float64).reshape(-1)
    gender = np.asarray(mat["gender"]).reshape(-1)
    sequence = mat.get("sequence")
    return SurrealInfo(
        pose=pose,
        shape=_frames_last(mat["shape"], (10,)),
        joints2d=_frames_last(mat["joints2D"], (2, 24)).transpose(0, 2, 1),
        joints3d=_frames_last(mat["joints3D"], (3, 24)).transpose(0, 2, 1),
        cam_loc=np.asarray(mat["camLoc"], dtype=np.float64).reshape(3),
        zrot=np.broadcast_to(zrot, (t,)).copy() if zrot.size in (1, t) else zrot[:t],
        gender=GENDERS.get(int(gender[0]), "neutral"),
        sequence=str(np.asarray(sequence).reshape(-1)[0]) if sequence is not None and np.size(sequence) else path.name[: -len(INFO_SUFFIX)],
    )


def surreal_cameras(info: SurrealInfo) -> np.ndarray:
    """(T, 9) Eq. 3 cameras (``f, alpha, beta, gamma, Tx, Ty, depth, cx, cy``) of a clip, for the
    mirrored body its images show (see the module docstring)."""
    from selfmocap.geometry.camera import rotmat_to_euler

    t = info.num_frames
    cz, sz = np.cos(info.zrot), np.sin(info.zrot)
    rz = np.zeros((t, 3, 3))
    rz[:, 0, 0], rz[:, 0, 1], rz[:, 1, 0], rz[:, 1, 1], rz[:, 2, 2] = cz, -sz, sz, cz, 1.0
    pelvis = roma.rotvec_to_rotmat(torch.from_numpy(info.pose[:, :3])).numpy()
    rotation = WORLD_TO_CAMERA @ R90 @ rz @ pelvis @ SMPL_TO_BODY @ MIRROR
    root = (info.joints3d[:, 0] - info.cam_loc) @ WORLD_TO_CAMERA.T
    euler = rotmat_to_euler(torch.from_numpy(rotation)).numpy()
    out = np.zeros((t, 9))
    out[:, 0] = SURREAL_FOCAL
    out[:, 1:4] = euler
    out[:, 4:7] = root
    out[:, 7:9] = (SURREAL_WIDTH / 2, SURREAL_HEIGHT / 2)
    return out


def mirrored_pose(pose: np.ndarray) -> np.ndarray:
    """(T, 23, 3) SMPL axis-angle -> the pose of the mirror-image body (left/right swapped, ``M R M``)."""
    from selfmocap.body.mirror import flip_pose
    from selfmocap.body.names import pose_flip_index

    rot = roma.rotvec_to_rotmat(torch.from_numpy(np.asarray(pose, np.float64)))
    return roma.rotmat_to_rotvec(flip_pose(rot, pose_flip_index("smpl"))).numpy()


def forward_flow_from_backward(
    backward_next: np.ndarray, mask: np.ndarray, mask_next: np.ndarray, depth: np.ndarray | None = None,
    depth_next: np.ndarray | None = None, iterations: int = 10, tolerance: float = 0.5,
    depth_tolerance: float = FLOW_DEPTH_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Forward flow t -> t+1 on frame t's pixels from the backward flow of frame t+1.

    ``backward_next`` (H, W, 2) gives, at each pixel q of frame t+1 (y down), where its surface
    point was in frame t: ``q + b(q)``. The forward flow solves ``f(p) = -b(p + f(p))``, found by
    fixed-point iteration from ``f = -b(p)`` with bilinear sampling (human motion between frames
    is a few pixels and smooth, so it converges in a few steps). Off the person of frame t+1 the
    backward flow is extended smoothly from the person's (a mask-normalised blur), so that pixels
    which the person leaves start their search with the person's motion rather than the
    background's zero.

    Returns:
        flow (H, W, 2) float32 and valid (H, W) bool: person pixels of frame t whose target is a
        person pixel of t+1 that maps back within ``tolerance`` px (forward-backward
        consistency, which drops points hidden at t+1) and, with depth maps, lies within
        ``depth_tolerance`` metres of the pixel's depth (which drops points hidden at t whose
        surface the iteration found instead); background pixels that stay background (zero
        flow, static camera).
    """
    h, w = mask.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    weight = mask_next.astype(np.float32)
    person = np.ascontiguousarray(backward_next * weight[..., None], dtype=np.float32)
    spread = cv2.GaussianBlur(person, (0, 0), EXTEND_SIGMA) / np.maximum(cv2.GaussianBlur(weight, (0, 0), EXTEND_SIGMA), 1e-6)[..., None]
    back = np.where(mask_next[..., None], person, spread).astype(np.float32)

    def sample(flow: np.ndarray) -> np.ndarray:  # b at p + flow (pixel-centre coordinates)
        return cv2.remap(back, cols + flow[..., 0], rows + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    forward = -back.copy()
    for _ in range(iterations):
        forward = -sample(forward)
    target_col, target_row = cols + forward[..., 0], rows + forward[..., 1]
    inside = (target_col >= -0.5) & (target_col < w - 0.5) & (target_row >= -0.5) & (target_row < h - 0.5)
    lands = cv2.remap(mask_next.astype(np.uint8), target_col, target_row, cv2.INTER_NEAREST, borderValue=0) > 0
    consistent = np.linalg.norm(forward + sample(forward), axis=-1) < tolerance
    if depth is not None and depth_next is not None:
        target_depth = cv2.remap(depth_next.astype(np.float32), target_col, target_row, cv2.INTER_NEAREST, borderValue=0)
        consistent &= np.abs(target_depth - depth) < depth_tolerance
    valid = np.where(mask, inside & lands & consistent, ~mask_next)
    return np.where(mask[..., None], forward, 0.0).astype(np.float32), valid


class _LRU:
    """A tiny per-process cache of per-clip arrays (decoded videos, segmentations)."""

    def __init__(self, size: int):
        self.size, self.items = size, OrderedDict()

    def get(self, path: Path, make):
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)  # a rewritten file is read again
        if key in self.items:
            self.items.move_to_end(key)
        else:
            self.items[key] = make()
            if len(self.items) > self.size:
                self.items.popitem(last=False)
        return self.items[key]


_VIDEOS = _LRU(_CACHE_CLIPS)
_SEGMENTATIONS = _LRU(_CACHE_CLIPS)


def _read_video(path: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    if not frames:
        raise OSError(f"could not decode any frame of {path}")
    return np.stack(frames)


def _video_length(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    capture.release()
    return count


def _load_mat_frames(path: Path, prefix: str, count: int) -> list[np.ndarray]:
    from scipy.io import loadmat

    mat = loadmat(path, variable_names=[f"{prefix}_{k + 1}" for k in range(count)])
    missing = [k for k in range(count) if f"{prefix}_{k + 1}" not in mat]
    if missing:
        raise ValueError(f"{path} lacks {prefix}_{missing[0] + 1} (the clip has {count} frames)")
    return [mat[f"{prefix}_{k + 1}"] for k in range(count)]


@functools.lru_cache(maxsize=4)
def _smpl_for(path: str | None, gender: str):
    from selfmocap.body import load_body_model

    return load_body_model("smpl", path, gender=gender)


class SurrealClip:
    """One SURREAL clip (``<stem>.mp4`` and its ``.mat`` files) as a selfmocap clip.

    Args:
        stem: the clip's path without suffix, e.g. ``.../01_01/01_01_c0001``.
        clip_id: its id (unique in the listing; prediction files are named after it).
        split: the ``meta.split`` to report (SURREAL's ``train``/``val``/``test`` when the path shows it).
        body: a :class:`~selfmocap.body.BodyModelConfig` locating the SMPL files (labels need them).
    """

    def __init__(self, stem: str | Path, clip_id: str, split: str = "surreal", body=None):
        from selfmocap.body import BodyModelConfig

        self.stem = Path(stem)
        self.path = self.stem.parent  #: the sequence folder (no ``mask_input`` there: no degraded masks)
        self.body = body or BodyModelConfig()
        if self.body.body_model not in (None, "smpl"):
            raise ValueError(f"SURREAL's ground truth is SMPL: drop --body-model {self.body.body_model} or use smpl")
        self.info = read_info(self.file(INFO_SUFFIX))
        frames = self.info.num_frames
        if self.file(".mp4").is_file():
            count = _video_length(self.file(".mp4"))
            frames = min(frames, count) if count > 0 else frames
        self.meta = ClipMeta(
            clip_id=clip_id, split=split, seed=0, num_frames=frames, fps=SURREAL_FPS, width=SURREAL_WIDTH,
            height=SURREAL_HEIGHT, body_model="smpl", motion_family=self.info.sequence, background="surreal",
            palette="surreal", degraded_mask=False, gender=self.info.gender,
        )
        self._labels: ClipLabels | None = None

    def file(self, suffix: str) -> Path:
        return self.stem.with_name(self.stem.name + suffix)

    def __repr__(self) -> str:
        return f"SurrealClip({str(self.stem)!r}, frames={self.meta.num_frames})"

    def __len__(self) -> int:
        return self.meta.num_frames

    def __getstate__(self) -> dict:  # DataLoader workers: no cached labels in the pickle
        return {**self.__dict__, "_labels": None}

    @property
    def labels(self) -> ClipLabels:
        """Ground truth (SMPL posed with the clip's parameters, SURREAL's camera), computed once."""
        if self._labels is None:
            self._labels = self.read_labels()
        return self._labels

    def smpl(self):
        """The SMPL model of the clip's gender (the neutral one when the SMPL path has no such file)."""
        path = self.body.body_model_path
        return _smpl_for(None if path is None else str(path), self.meta.gender)

    @torch.no_grad()
    def read_labels(self) -> ClipLabels:
        """Compute the clip's :class:`ClipLabels` (needs SMPL's files; see the module docstring)."""
        from selfmocap.geometry.camera import Camera, project_camera_space, to_camera_space

        body = self.smpl()
        t = len(self)
        pose = mirrored_pose(self.info.pose[:t, 3:72].reshape(t, 23, 3)).astype(np.float32)
        shape = np.zeros(body.shape_dim, np.float32)
        n = min(body.shape_dim, self.info.shape.shape[1])
        shape[:n] = self.info.shape[0, :n]
        cameras = surreal_cameras(self.info)[:t].astype(np.float32)
        out = body(torch.from_numpy(pose), torch.from_numpy(shape)[None].to(body.default_shape.dtype))
        camera = Camera.from_array(torch.from_numpy(cameras).double())
        kp_cam = to_camera_space(out.keypoints.double(), camera)
        uv = project_camera_space(kp_cam, camera).numpy()
        z = kp_cam[..., 2].numpy()
        visible = (uv[..., 0] >= 0) & (uv[..., 0] < SURREAL_WIDTH) & (uv[..., 1] >= 0) & (uv[..., 1] < SURREAL_HEIGHT) & (z > 0)
        if self.file("_depth.mat").is_file():
            depth = self.depth()
            col = np.clip(np.floor(uv[..., 0]).astype(int), 0, SURREAL_WIDTH - 1)
            row = np.clip(np.floor(uv[..., 1]).astype(int), 0, SURREAL_HEIGHT - 1)
            surface = depth[np.arange(t)[:, None], row, col]
            visible &= ~((surface > 0) & (surface < z - KEYPOINT_OCCLUSION_TOLERANCE))
        return ClipLabels(
            pose=pose,
            shape=shape,
            camera=cameras,
            keypoints2d=np.concatenate([uv, visible[..., None]], axis=-1).astype(np.float32),
            keypoints3d=out.keypoints.float().numpy(),
            joints3d=out.joints.float().numpy(),
        )

    def rgb(self, t: int) -> np.ndarray:
        """(240, 320, 3) uint8 RGB frame ``t`` (the video is decoded once and kept while in use)."""
        return _VIDEOS.get(self.file(".mp4"), lambda: _read_video(self.file(".mp4")))[t]

    def segmentation(self, t: int) -> np.ndarray:
        """(240, 320) uint8 SMPL body part of each pixel (1..24), 0 on the background."""
        return _SEGMENTATIONS.get(self.file("_segm.mat"), lambda: np.stack(_load_mat_frames(self.file("_segm.mat"), "segm", len(self))))[t]

    def mask(self, t: int) -> np.ndarray:
        """(240, 320) bool person silhouette (SURREAL's segmentation)."""
        return self.segmentation(t) > 0

    def input_mask(self, t: int) -> np.ndarray:
        """SURREAL gives no degraded silhouettes: the true one."""
        return self.mask(t)

    def depth(self) -> np.ndarray:
        """(T, 240, 320) float32 depth in metres, 0 on the background (SURREAL: 1e10)."""
        depth = np.stack(_load_mat_frames(self.file("_depth.mat"), "depth", len(self))).astype(np.float32)
        depth[depth > DEPTH_BACKGROUND] = 0.0
        return depth

    def world_landmarks(self) -> None:
        """SURREAL ships no mediapipe landmarks: a ``world_input`` network trains on these clips
        without its 3D input (:meth:`Clip.world_landmarks`)."""
        return None

    def backward_flow(self) -> np.ndarray:
        """(T, 240, 320, 2) float32 SURREAL's flow in selfmocap's pixel convention: at each pixel of
        frame k, the offset to where its surface point was in frame k - 1 (y down). Frame 0's is
        whatever Blender wrote (it has no previous frame)."""
        flows = np.stack(_load_mat_frames(self.file("_gtflow.mat"), "gtflow", len(self))).astype(np.float32)
        flows[..., 1] *= -1.0  # Blender raster y points up
        return flows

    def flow(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward flow (T-1, 240, 320, 2) t -> t+1 and its validity, from SURREAL's backward flow
        (:func:`forward_flow_from_backward`, with the depth maps when ``_depth.mat`` is there)."""
        backward = self.backward_flow()
        depth = self.depth() if self.file("_depth.mat").is_file() else [None] * len(self)
        pairs = [
            forward_flow_from_backward(backward[t + 1], self.mask(t), self.mask(t + 1), depth[t], depth[t + 1])
            for t in range(len(self) - 1)
        ]
        if not pairs:
            return np.zeros((0, SURREAL_HEIGHT, SURREAL_WIDTH, 2), np.float32), np.zeros((0, SURREAL_HEIGHT, SURREAL_WIDTH), bool)
        return np.stack([f for f, _ in pairs]), np.stack([v for _, v in pairs])


def surreal_stems(root: str | Path) -> list[Path]:
    """Clip stems under ``root`` (any depth): ``<name>_c####`` with an ``_info.mat`` and an ``.mp4``."""
    root = Path(root)
    stems = []
    for info in sorted(root.rglob(f"*_c[0-9][0-9][0-9][0-9]{INFO_SUFFIX}")):
        stem = info.with_name(info.name[: -len(INFO_SUFFIX)])
        if stem.with_name(stem.name + ".mp4").is_file():
            stems.append(stem)
    return stems


def surreal_clip_id(stem: Path, root: Path) -> str:
    """``run0/01_01/01_01_c0001`` under ``root`` -> ``run0-01_01_c0001``: the folders joined by
    ``-``, without the sequence folder the file name repeats."""
    relative = stem.relative_to(root)
    parts = list(relative.parent.parts)
    match = _STEM.match(stem.name)
    if parts and match and parts[-1] == match["sequence"]:
        parts = parts[:-1]
    return "-".join([*parts, stem.name])


def list_surreal_clips(root: str | Path, body=None) -> list[SurrealClip]:
    """All SURREAL clips under ``root``, sorted by id. ``body`` locates SMPL (labels need it)."""
    root = Path(root)
    stems = surreal_stems(root)
    if not stems:
        raise FileNotFoundError(f"no SURREAL clips (<name>_c####.mp4 with _info.mat) under {root}")
    clips = []
    for stem in stems:
        parts = {p.lower() for p in stem.resolve().parts}
        split = next((s for s in ("train", "val", "test") if s in parts), "surreal")
        clips.append(SurrealClip(stem, surreal_clip_id(stem, root), split, body))
    return sorted(clips, key=lambda c: c.meta.clip_id)


def is_surreal_folder(root: str | Path) -> bool:
    """Whether ``root`` holds SURREAL clips (at any depth)."""
    return bool(next(iter(Path(root).rglob(f"*_c[0-9][0-9][0-9][0-9]{INFO_SUFFIX}")), None))
