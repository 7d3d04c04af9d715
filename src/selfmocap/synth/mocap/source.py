"""BVH files as a :class:`~selfmocap.synth.motion.MotionSource`: windows of real motion capture.

:class:`BvhMotion` scans the files once (skeleton, frame count, frame rate, bone map), then for
each clip draws a file (weighted by how many windows it holds, so every window of every file is
equally likely) and an integer start frame, retargets the file (:func:`retarget`, cached), and
resamples the window to the clip's frame rate: rotations by slerp (roma), the root path linearly.
The window is turned to start facing -z at the origin like the procedural motions, and the pose is
clamped into the joint limits (:func:`~selfmocap.body.limits.clamp_pose`: the rest of selfmocap
assumes poses inside them; :func:`limit_report` measures what the clamp changes).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import roma
import torch

from selfmocap.body.limits import ANNY_JOINT_LIMITS, JointLimits, clamp_pose
from selfmocap.errors import UserError
from selfmocap.data.records import MotionWindow
from selfmocap.geometry.rotations import slerp
from selfmocap.synth.mocap.bone_map import BoneMap, BoneMapError, ResolvedMap, load_bone_map, resolve_bone_map
from selfmocap.synth.mocap.bvh import (
    BvhFormatError,
    BvhHeader,
    drop_frames,
    leading_calibration_frames,
    read_bvh,
    read_bvh_header,
)
from selfmocap.synth.mocap.retarget import RetargetedMotion, TargetSkeleton, retarget
from selfmocap.synth.motion import Motion

#: Retargeted files kept in memory per process (a long CMU file takes about 1 MB).
CACHE_FILES = 32


class MotionInputError(UserError):
    """Unusable motion files or bone map (a one-line message naming the problem and the fix)."""


def list_bvh_files(path: str | Path) -> list[Path]:
    """The BVH files of ``path``: the file itself, or every ``*.bvh`` below a folder, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".bvh")
        if not files:
            raise MotionInputError(f"no .bvh files in {path}; point --motions at a BVH file or a folder holding some")
        return files
    raise MotionInputError(f"--motions {path} does not exist; give a BVH file or a folder of them")


@dataclass(frozen=True)
class _Entry:
    header: BvhHeader
    resolved: ResolvedMap


def resample(ret: RetargetedMotion, first_frame: int, num_frames: int, fps: float) -> RetargetedMotion:
    """Sample ``num_frames`` at ``fps`` from frame ``first_frame`` of ``ret`` on.

    Rotations (pose and root) are slerped between the two nearest source frames, the root path is
    interpolated linearly; at the file's own rate and an integer start the frames are copied. A
    window running past the last frame holds it.
    """
    if first_frame < 0 or first_frame > ret.num_frames - 1:
        raise ValueError(f"first frame {first_frame} outside the {ret.num_frames} frames")
    u = np.minimum(first_frame + np.arange(num_frames) * ret.fps / fps, ret.num_frames - 1)
    i0 = np.clip(np.floor(u).astype(int), 0, max(ret.num_frames - 2, 0))
    i1 = np.minimum(i0 + 1, ret.num_frames - 1)
    w = np.clip(u - i0, 0.0, 1.0)
    pose = roma.rotvec_to_unitquat(torch.from_numpy(ret.pose))
    root = roma.rotmat_to_unitquat(torch.from_numpy(ret.root_rotation))
    wt = torch.from_numpy(w)
    pose_q = slerp(pose[i0], pose[i1], wt[:, None].expand(-1, pose.shape[1]))
    root_q = slerp(root[i0], root[i1], wt)
    return replace(
        ret,
        pose=roma.unitquat_to_rotvec(pose_q).numpy(),
        root_rotation=roma.unitquat_to_rotmat(root_q).numpy(),
        root_position=(1 - w)[:, None] * ret.root_position[i0] + w[:, None] * ret.root_position[i1],
        fps=float(fps),
        first_frame=ret.first_frame + first_frame,
    )


def start_heading(root_rotation: np.ndarray) -> np.ndarray:
    """The heading of a (3, 3) body-frame root rotation: the (3, 3) rotation about the vertical (y)
    that turns -z towards the root's forward direction (its rotated -z) seen from above.

    Its transpose, applied to the root, leaves the forward direction in the y-z plane on the -z
    side: heading zero, pitch and roll kept.
    """
    forward = root_rotation @ np.array([0.0, 0.0, -1.0])
    theta = math.atan2(-forward[0], -forward[2])  # Ry(theta) (0, 0, -1) = (-sin, 0, -cos)
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def motion_from_window(
    ret: RetargetedMotion, first_frame: int, num_frames: int, fps: float, family: str,
    window: MotionWindow | None = None, limits: JointLimits | None = ANNY_JOINT_LIMITS,
) -> Motion:
    """A :class:`Motion` from a window of a retargeted file: resampled, turned to start facing -z at
    the origin, clamped into ``limits`` (None: not clamped)."""
    clip = resample(ret, first_frame, num_frames, fps)
    heading = start_heading(clip.root_rotation[0])
    trans = clip.root_position @ heading  # rows: heading^T x
    trans[:, [0, 2]] -= trans[0, [0, 2]]
    root = heading.T @ clip.root_rotation
    pose = clip.pose if limits is None else clamp_pose(clip.pose, limits)
    return Motion(
        pose=pose.astype(np.float32),
        root_orient=roma.rotmat_to_rotvec(torch.from_numpy(root)).numpy().astype(np.float32),
        root_trans=trans.astype(np.float32),
        fps=float(fps),
        family=family,
        window=window,
    )


@dataclass(frozen=True)
class LimitReport:
    """What clamping into the joint limits changes, per articulated bone.

    Attributes:
        clamped_fraction: (19,) fraction of frames whose rotation the clamp changes by > 1 deg.
        max_change_deg: (19,) largest change (geodesic angle, degrees).
    """

    clamped_fraction: np.ndarray
    max_change_deg: np.ndarray


def limit_report(pose: np.ndarray, limits: JointLimits = ANNY_JOINT_LIMITS) -> LimitReport:
    """Compare a (T, 19, 3) pose with its clamped version."""
    a = roma.rotvec_to_rotmat(torch.from_numpy(pose))
    b = roma.rotvec_to_rotmat(torch.from_numpy(clamp_pose(pose, limits)))
    change = np.degrees(roma.rotmat_geodesic_distance(a, b).numpy())
    return LimitReport((change > 1.0).mean(0), change.max(0))


class BvhMotion:
    """Motion clips drawn from windows of BVH files, retargeted onto the target skeleton.

    Args:
        files: BVH files (:func:`list_bvh_files`).
        target: the body model's rest skeleton (:func:`~selfmocap.synth.mocap.retarget.anny_target_skeleton`).
        bone_map: the map (:func:`~selfmocap.synth.mocap.bone_map.load_bone_map`; the shipped one by default).
        limits: joint limits the poses are clamped into.

    Raises:
        MotionInputError: a file that cannot be read or that no profile of the map fits.
    """

    def __init__(
        self, files: list[Path], target: TargetSkeleton, bone_map: BoneMap | None = None,
        limits: JointLimits = ANNY_JOINT_LIMITS,
    ):
        if not files:
            raise MotionInputError("no BVH files given")
        self.target = target
        self.bone_map = bone_map or load_bone_map()
        self.limits = limits
        self.entries = tuple(_scan(Path(f), self.bone_map) for f in files)
        self._cache: OrderedDict[Path, RetargetedMotion] = OrderedDict()

    @classmethod
    def from_paths(
        cls, motions: str | Path, target: TargetSkeleton, motion_map: str | Path | None = None,
        limits: JointLimits = ANNY_JOINT_LIMITS,
    ) -> "BvhMotion":
        """The source behind ``selfmocap synth --motions DIR_OR_FILE [--motion-map FILE]``."""
        try:
            bone_map = load_bone_map(motion_map)
        except BoneMapError as err:
            raise MotionInputError(f"{err} (--motion-map)") from None
        return cls(list_bvh_files(motions), target, bone_map, limits)

    def _span(self, entry: _Entry, num_frames: int, fps: float) -> float:
        """Source frames a window of ``num_frames`` at ``fps`` covers."""
        return (num_frames - 1) * entry.header.fps / fps

    def check_window(self, num_frames: int, fps: float) -> None:
        """Raise :class:`MotionInputError` unless some file is long enough for a clip."""
        if not any(self._span(e, num_frames, fps) <= e.header.num_frames - 1 for e in self.entries):
            longest = max(self.entries, key=lambda e: (e.header.num_frames - 1) / e.header.fps)
            raise MotionInputError(
                f"a clip of {num_frames} frames at {fps:g} fps lasts {(num_frames - 1) / fps:.2f} s, longer than every "
                f"BVH file (the longest, {longest.header.path.name}, lasts {(longest.header.num_frames - 1) / longest.header.fps:.2f} s); "
                "lower --frames or raise --fps"
            )

    def retargeted(self, path: Path) -> RetargetedMotion:
        """The whole file retargeted, leading calibration frames dropped (cached,
        :data:`CACHE_FILES` files per process)."""
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        entry = next(e for e in self.entries if e.header.path == path)
        try:
            clip = read_bvh(path)
        except BvhFormatError as err:
            raise MotionInputError(f"{err}; fix or remove that file") from None
        skip = leading_calibration_frames(clip)
        ret = replace(retarget(drop_frames(clip, skip), entry.resolved, self.target, self.limits), first_frame=skip)
        self._cache[path] = ret
        if len(self._cache) > CACHE_FILES:
            self._cache.popitem(last=False)
        return ret

    def sample(self, rng: np.random.Generator, num_frames: int = 30, fps: float = 30.0) -> Motion:
        """A window of ``num_frames`` at ``fps`` from a random file, a pure function of ``rng``'s state.

        Files are drawn in proportion to the number of windows they hold (from their headers), then
        the window's first frame uniformly among the integer frames that fit.
        """
        self.check_window(num_frames, fps)
        spans = np.array([self._span(e, num_frames, fps) for e in self.entries])
        last = np.array([e.header.num_frames - 1 for e in self.entries])
        counts = np.where(spans <= last, np.floor(last - spans + 1e-9) + 1, 0)
        k = int(rng.choice(len(self.entries), p=counts / counts.sum()))
        entry = self.entries[k]
        ret = self.retargeted(entry.header.path)
        # calibration frames dropped from the file: at least one start, holding the last frame if need be
        starts = max(int(np.floor(ret.num_frames - 1 - spans[k] + 1e-9)) + 1, 1)
        first = int(rng.integers(starts))
        window = MotionWindow(
            file=str(entry.header.path),
            first_frame=ret.first_frame + first,
            last_frame=round(min(ret.first_frame + first + float(spans[k]), entry.header.num_frames - 1), 4),
            source_fps=entry.header.fps,
            bone_map=entry.resolved.profile,
        )
        return motion_from_window(ret, first, num_frames, fps, f"bvh:{entry.header.path.name}", window, self.limits)


def _scan(path: Path, bone_map: BoneMap) -> _Entry:
    try:
        header = read_bvh_header(path)
    except FileNotFoundError:
        raise MotionInputError(f"BVH file {path} does not exist") from None
    except BvhFormatError as err:
        raise MotionInputError(f"{err}; fix or remove that file") from None
    if header.num_frames < 1:
        raise MotionInputError(f"{path} holds no frames; remove it from --motions")
    try:
        resolved = resolve_bone_map(bone_map, header.skeleton, source=str(path))
    except BoneMapError as err:
        raise MotionInputError(str(err)) from None
    return _Entry(header, resolved)
