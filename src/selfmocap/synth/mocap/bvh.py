"""BVH motion capture: parsing with ``bvhio`` and the skeleton's forward kinematics in numpy.

A BVH file holds a rest skeleton (each joint's ``OFFSET`` from its parent, all rotations zero) and
per-frame channels. bvhio parses both (:func:`bvhio.readAsBvh`); each joint's keyframe is its local
translation (the offset, overwritten by position channels where the joint has them) and its local
rotation (the Euler channels composed intrinsically in the file's order, ``R = R_1 R_2 R_3``).
Forward kinematics is the usual ``G_j = G_parent R_j`` and ``P_j = P_parent + G_parent t_j``; the
tests check it against bvhio's own scene graph (:func:`bvhio.readAsHierarchy`).

Units and axes are the file's own (centimetres, inches or metres; Y-up or Z-up): retargeting
(:mod:`selfmocap.synth.mocap.retarget`) finds them from the rest skeleton.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import roma
import torch

from selfmocap.geometry import kinematics

#: Frame times are written with a few decimals (0.041667 for 24 fps): rates within this relative
#: tolerance of an integer are taken as that integer.
_FPS_ROUNDING = 1e-4


@dataclass(frozen=True)
class BvhSkeleton:
    """The joint hierarchy of a BVH file, parents before children (the file's order).

    Attributes:
        names: (N,) joint names as written in the file.
        parents: (N,) index of each joint's parent, -1 for the root.
        offsets: (N, 3) rest offset of each joint from its parent (the root's: its rest position),
            file units and axes.
        end_sites: (N, 3) offset of each joint's ``End Site``, NaN for joints without one.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    end_sites: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.names)
        if len(self.parents) != n or self.offsets.shape != (n, 3) or self.end_sites.shape != (n, 3):
            raise ValueError(f"BvhSkeleton needs N names, parents, offsets (N, 3), end_sites (N, 3); N = {n}")
        if any(p >= i for i, p in enumerate(self.parents)):
            raise ValueError("BvhSkeleton joints must come after their parents")

    def rest_positions(self) -> np.ndarray:
        """(N, 3) joint positions in the rest pose (all rotations zero), file units and axes."""
        out = np.zeros_like(self.offsets)
        for i, p in enumerate(self.parents):
            out[i] = self.offsets[i] if p < 0 else out[p] + self.offsets[i]
        return out

    def is_descendant(self, joint: int, ancestor: int) -> bool:
        """Whether ``joint`` lies below ``ancestor`` (or is it)."""
        while joint >= 0:
            if joint == ancestor:
                return True
            joint = self.parents[joint]
        return False


@dataclass(frozen=True)
class BvhClip:
    """A parsed BVH file.

    Attributes:
        path: the file.
        skeleton: its hierarchy and rest offsets.
        translations: (T, N, 3) local translation of each joint from its parent per frame.
        rotations: (T, N, 3, 3) local rotation of each joint per frame.
        fps: frames per second (``1 / Frame Time``).
    """

    path: Path
    skeleton: BvhSkeleton
    translations: np.ndarray
    rotations: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        return self.translations.shape[0]

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return (self.num_frames - 1) / self.fps


@dataclass(frozen=True)
class BvhHeader:
    """What :func:`read_bvh_header` reads without the frames: skeleton, frame count and rate."""

    path: Path
    skeleton: BvhSkeleton
    num_frames: int
    fps: float


class BvhFormatError(ValueError):
    """A file bvhio cannot parse as BVH (the message names the file and the problem)."""


def _check_complete(path: Path) -> None:
    """Refuse files that end early: bvhio 1.5.4 reads past the end of a file forever (its line
    reader never sees the end), so a truncated hierarchy or missing frames must be caught first."""
    lines = [line.split() for line in path.read_text(errors="replace").splitlines()]
    lines = [tokens for tokens in lines if tokens]
    motion = next((i for i, tokens in enumerate(lines) if tokens[0] == "MOTION"), None)
    if motion is None:
        raise BvhFormatError(f"{path}: not a complete BVH file: no MOTION section (empty or truncated?)")
    braces = [token for tokens in lines[:motion] for token in tokens if token in ("{", "}")]
    if not braces or braces.count("{") != braces.count("}"):
        raise BvhFormatError(f"{path}: not a complete BVH file: the HIERARCHY's braces do not close")
    header = lines[motion + 1 : motion + 3]
    if len(header) < 2 or header[0][0] != "Frames:" or header[1][:2] != ["Frame", "Time:"]:
        raise BvhFormatError(f"{path}: not a complete BVH file: MOTION must be followed by 'Frames:' and 'Frame Time:'")
    try:
        declared = int(header[0][1])
    except (IndexError, ValueError):
        raise BvhFormatError(f"{path}: not a readable BVH file: bad 'Frames:' line") from None
    held = len(lines) - motion - 3
    if held < declared:
        raise BvhFormatError(f"{path}: not a complete BVH file: it declares {declared} frames but holds {held}")


def _parse(path: Path, frames: bool):
    import bvhio

    _check_complete(path)
    try:
        return bvhio.readAsBvh(str(path), loadKeyFrames=frames)
    except IndexError:
        raise BvhFormatError(f"{path}: not a readable BVH file: a frame holds fewer values than its CHANNELS") from None
    except (SyntaxError, ValueError, UnicodeDecodeError) as err:
        detail = err.msg if isinstance(err, SyntaxError) else str(err) or type(err).__name__
        line = f" (line {err.args[1][1]})" if isinstance(err, SyntaxError) and len(err.args) > 1 else ""
        raise BvhFormatError(f"{path}: not a readable BVH file: {detail}{line}") from None


def _skeleton(root) -> BvhSkeleton:
    layout = root.layout()  # depth first, parents before children
    index = {id(joint): i for i, (joint, _, _) in enumerate(layout)}
    parents = [-1] * len(layout)
    for joint, _, _ in layout:
        for child in joint.Children:
            parents[index[id(child)]] = index[id(joint)]
    end_sites = np.full((len(layout), 3), np.nan)
    for i, (joint, _, _) in enumerate(layout):
        if not joint.Children:
            end_sites[i] = list(joint.EndSite)
    return BvhSkeleton(
        names=tuple(joint.Name for joint, _, _ in layout),
        parents=tuple(parents),
        offsets=np.array([list(joint.Offset) for joint, _, _ in layout], dtype=np.float64),
        end_sites=end_sites,
    )


def _fps(path: Path, frame_time: float) -> float:
    if not frame_time > 0:
        raise BvhFormatError(f"{path}: Frame Time must be positive, got {frame_time}")
    fps = 1.0 / frame_time
    return float(round(fps)) if abs(fps - round(fps)) < _FPS_ROUNDING * fps else fps


def read_bvh_header(path: str | Path) -> BvhHeader:
    """Skeleton, frame count and frame rate of a BVH file, without parsing its frames (it checks
    that they are all there)."""
    path = Path(path)
    bvh = _parse(path, frames=False)
    return BvhHeader(path, _skeleton(bvh.Root), int(bvh.FrameCount), _fps(path, bvh.FrameTime))


def read_bvh(path: str | Path) -> BvhClip:
    """Parse a BVH file with bvhio into local translations and rotations per frame."""
    path = Path(path)
    bvh = _parse(path, frames=True)
    skeleton = _skeleton(bvh.Root)
    joints = [joint for joint, _, _ in bvh.Root.layout()]
    count = len(joints[0].Keyframes)
    if count < 1 or any(len(j.Keyframes) != count for j in joints):
        raise BvhFormatError(f"{path}: no frames, or joints with different frame counts")
    trans = np.array([[list(k.Position) for k in j.Keyframes] for j in joints], dtype=np.float64)
    # glm quaternions are (w, x, y, z); roma's are (x, y, z, w)
    quat = np.array([[[k.Rotation.x, k.Rotation.y, k.Rotation.z, k.Rotation.w] for k in j.Keyframes] for j in joints])
    rot = roma.unitquat_to_rotmat(roma.quat_normalize(torch.from_numpy(quat))).numpy()
    return BvhClip(
        path=path,
        skeleton=skeleton,
        translations=trans.transpose(1, 0, 2),
        rotations=rot.transpose(1, 0, 2, 3),
        fps=_fps(path, bvh.FrameTime),
    )


def forward_kinematics(clip: BvhClip) -> tuple[np.ndarray, np.ndarray]:
    """World rotation and position of every joint in every frame (file units and axes).

    Returns:
        rotations: (T, N, 3, 3) ``G_j = G_parent R_j``.
        positions: (T, N, 3) ``P_j = P_parent + G_parent t_j``.
    """
    return kinematics.forward_kinematics(clip.skeleton.parents, clip.rotations, clip.translations)


#: A leading frame counts as a calibration pose when some joint leaves it faster than this fraction
#: of the rest skeleton's size per frame (0.25 of 1.7 m is 0.43 m: 10 m/s at 24 fps).
CALIBRATION_JUMP = 0.25
#: Leading frames searched for a calibration pose.
CALIBRATION_SEARCH = 10


def leading_calibration_frames(clip: BvhClip, positions: np.ndarray | None = None) -> int:
    """How many leading frames are a calibration pose rather than motion (0 if none).

    CMU's BVH release, for one, starts with T-pose frames that the motion then jumps away from.
    The last jump of a joint by more than :data:`CALIBRATION_JUMP` times the rest skeleton's size
    in one frame, among the first :data:`CALIBRATION_SEARCH` frames, ends the calibration.

    Args:
        positions: (T, N, 3) world joint positions if already computed (:func:`forward_kinematics`).
    """
    if positions is None:
        positions = forward_kinematics(clip)[1]
    rest = clip.skeleton.rest_positions()
    size = float((rest.max(0) - rest.min(0)).max())
    head = positions[: CALIBRATION_SEARCH + 1]
    jumps = np.linalg.norm(np.diff(head, axis=0), axis=-1).max(-1)  # (K,) largest joint jump per frame
    big = np.nonzero(jumps > CALIBRATION_JUMP * size)[0]
    return int(big[-1] + 1) if len(big) and big[-1] + 1 < clip.num_frames else 0


def drop_frames(clip: BvhClip, count: int) -> BvhClip:
    """The clip without its first ``count`` frames."""
    return BvhClip(clip.path, clip.skeleton, clip.translations[count:], clip.rotations[count:], clip.fps)


def rest_pose(clip: BvhClip) -> BvhClip:
    """A one-frame clip of the file's rest pose (offsets, no rotation)."""
    n = len(clip.skeleton.names)
    return BvhClip(clip.path, clip.skeleton, clip.skeleton.offsets[None].copy(), np.tile(np.eye(3), (1, n, 1, 1)), clip.fps)


def rest_is_standing(skeleton: BvhSkeleton, hips: tuple[int, int], up: int, feet: tuple[int, int]) -> bool:
    """Whether the rest pose stands: both feet below the hip centre, opposite the hip-to-``up``
    direction (cosine < -0.8). Bandai's files, for one, have every bone along one axis at rest
    (the standing pose comes from their joint orientations, i.e. the frames' rotations)."""
    rest = skeleton.rest_positions()
    centre = rest[list(hips)].mean(0)
    upward = rest[up] - centre
    upward = upward / max(float(np.linalg.norm(upward)), 1e-12)
    for foot in feet:
        down = rest[foot] - centre
        if float(down @ upward) > -0.8 * float(np.linalg.norm(down)):
            return False
    return True


def rebase_rest(clip: BvhClip, frame: int = 0) -> BvhClip:
    """The same motion with frame ``frame``'s pose as the rest pose.

    New offsets are the joints' world offsets from their parents in that frame; new local rotations
    make each joint's world rotation ``G_j(t) G_j(frame)^T``, so world joint positions are unchanged
    in every frame (translation channels are carried over, turned into the new parent frames).
    """
    g, p = forward_kinematics(clip)
    parents = clip.skeleton.parents
    g_ref = g[frame]
    offsets = np.array([p[frame, j] if q < 0 else p[frame, j] - p[frame, q] for j, q in enumerate(parents)])
    new_world = g @ g_ref.transpose(0, 2, 1)[None]  # (T, N, 3, 3)
    rot = np.empty_like(clip.rotations)
    trans = np.empty_like(clip.translations)
    for j, q in enumerate(parents):
        if q < 0:
            rot[:, j] = new_world[:, j]
            trans[:, j] = clip.translations[:, j]
        else:
            rot[:, j] = new_world[:, q].transpose(0, 2, 1) @ new_world[:, j]
            trans[:, j] = clip.translations[:, j] @ g_ref[q].T
    end_sites = np.array([g_ref[j] @ e if np.all(np.isfinite(e)) else e for j, e in enumerate(clip.skeleton.end_sites)])
    skeleton = BvhSkeleton(clip.skeleton.names, parents, offsets, end_sites)
    return BvhClip(clip.path, skeleton, trans, rot, clip.fps)
