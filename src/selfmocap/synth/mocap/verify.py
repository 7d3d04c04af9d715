"""Does a retargeted clip look like its source? Joint residuals against the BVH's own kinematics.

Both skeletons are posed for every frame of the file: the source by its forward kinematics, the
target by the body model (``body(pose, shape).joints`` turned by the retargeted root rotation).
They are compared without any fitting (no Procrustes): the roots are put on top of each other
(the hip centres: the skeletons' root joints need not be at the same place, MB-Lab's ``pelvis``
sits 11.6 cm above its hips while Anny's root is between them) and the source is scaled by one
global factor, the ratio of the summed rest lengths of the mapped segments (target skeleton of
``shape`` over source skeleton). What remains is the difference of proportions and joint placement
between the two skeletons, plus what the joint limits change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from selfmocap.body.limits import ANNY_JOINT_LIMITS, clamp_pose
from selfmocap.body.names import JOINT_NAMES, JOINT_PARENTS
from selfmocap.synth.mocap.bone_map import TARGET_BONES, ResolvedMap
from selfmocap.synth.mocap.bvh import BvhClip, forward_kinematics
from selfmocap.synth.mocap.retarget import SEGMENT_CHILD, RetargetedMotion, TargetSkeleton

#: The hip joints (``left_hip``, ``right_hip``): their midpoint is where the skeletons are aligned.
_HIPS = [JOINT_NAMES.index("left_hip"), JOINT_NAMES.index("right_hip")]


@dataclass(frozen=True)
class JointResidual:
    """Per-joint distance (mm) between the retargeted body's joints and the scaled source's.

    Attributes:
        joint_names: (20,) ``JOINT_NAMES``.
        mean_mm: (20,) mean over frames with the joint limits applied (what the clips use); NaN
            where the joint is not mapped.
        max_mm: (20,) maximum over frames, limits applied.
        mean_mm_unclamped: (20,) mean over frames without the limits.
        chain_angle_deg: (20,) largest angle over frames between the target's and the source's
            segment ending at this joint, without the limits, for joints that continue their
            parent's chain (NaN elsewhere): 0 up to rounding for the limbs by construction, not
            for the trunk, whose rotation is shared out over Anny's spine bones.
        scale: metres of target per source unit (the global scale).
        num_frames: frames compared.
    """

    joint_names: tuple[str, ...]
    mean_mm: np.ndarray
    max_mm: np.ndarray
    mean_mm_unclamped: np.ndarray
    chain_angle_deg: np.ndarray
    scale: float
    num_frames: int


def _mapped_parent(i: int, resolved: ResolvedMap) -> int:
    parent = JOINT_PARENTS[i]
    while parent > 0 and TARGET_BONES[parent] not in resolved.joints:
        parent = JOINT_PARENTS[parent]
    return parent


def source_joints(clip: BvhClip, resolved: ResolvedMap, axes: np.ndarray, to_body: np.ndarray) -> np.ndarray:
    """(T, 20, 3) the source joints mapped to ``JOINT_NAMES`` (NaN where unmapped), relative to the
    hip centre, in body-frame axes and file units."""
    _, pos = forward_kinematics(clip)
    out = np.full((clip.num_frames, len(TARGET_BONES), 3), np.nan)
    for i, bone in enumerate(TARGET_BONES):
        if bone in resolved.joints:
            out[:, i] = pos[:, resolved.joints[bone]]
    out = out - out[:, _HIPS].mean(1, keepdims=True)
    return out @ (to_body @ axes).T


def skeleton_scale(clip: BvhClip, resolved: ResolvedMap, target: TargetSkeleton) -> float:
    """Summed target over summed source rest lengths of the mapped segments (joint to mapped parent)."""
    rest = clip.skeleton.rest_positions()
    src = tgt = 0.0
    for i, bone in enumerate(TARGET_BONES[1:], start=1):
        if bone in resolved.joints:
            parent = TARGET_BONES[_mapped_parent(i, resolved)]
            src += float(np.linalg.norm(rest[resolved.joints[bone]] - rest[resolved.joints[parent]]))
            tgt += float(np.linalg.norm(target.heads[i] - target.head(parent)))
    return tgt / src


def target_joints(body, pose: np.ndarray, root_rotation: np.ndarray, shape: torch.Tensor, chunk: int = 128) -> np.ndarray:
    """(T, 20, 3) body joints for a (T, 19, 3) pose, relative to the hip centre, turned by (T, 3, 3)
    root rotations (metres)."""
    out = []
    with torch.no_grad():
        for start in range(0, len(pose), chunk):
            p = torch.from_numpy(np.ascontiguousarray(pose[start : start + chunk])).to(body.default_shape.dtype)
            out.append(body(p, shape.reshape(1, -1).to(p.dtype)).joints.double().numpy())
    joints = np.concatenate(out)
    joints = joints - joints[:, _HIPS].mean(1, keepdims=True)
    # einsum legend: t frames, n joints, i/k xyz
    return np.einsum("tik,tnk->tni", root_rotation, joints)


def joint_residual(
    clip: BvhClip, resolved: ResolvedMap, ret: RetargetedMotion, target: TargetSkeleton, body, shape: torch.Tensor,
    frames: np.ndarray | None = None,
) -> JointResidual:
    """Residuals of the retargeted file ``ret`` against the BVH's forward kinematics.

    Args:
        clip: the BVH clip ``ret`` was retargeted from (same frames).
        target: the rest skeleton of ``body`` at ``shape`` (it sets the scale).
        frames: frame indices to compare (all by default).
    """
    frames = np.arange(clip.num_frames) if frames is None else np.asarray(frames)
    scale = skeleton_scale(clip, resolved, target)
    source = scale * source_joints(clip, resolved, ret.axes, target.to_body)[frames]
    pose, root = ret.pose[frames], ret.root_rotation[frames]
    clamped = target_joints(body, clamp_pose(pose, ANNY_JOINT_LIMITS), root, shape)
    free = target_joints(body, pose, root, shape)
    dist = 1000 * np.linalg.norm(clamped - source, axis=-1)
    dist_free = 1000 * np.linalg.norm(free - source, axis=-1)
    angle = np.full(len(TARGET_BONES), np.nan)
    for i, bone in enumerate(TARGET_BONES[1:], start=1):
        parent = _mapped_parent(i, resolved)
        if bone not in resolved.joints or parent == 0:
            continue
        child = SEGMENT_CHILD[TARGET_BONES[parent]]
        while child is not None and child not in resolved.joints:
            child = SEGMENT_CHILD[child]
        if child == bone:  # this joint ends its parent's segment
            a = free[:, i] - free[:, parent]
            b = source[:, i] - source[:, parent]
            cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
            angle[i] = np.degrees(np.arccos(np.clip(cos, -1, 1))).max()
    return JointResidual(
        joint_names=JOINT_NAMES,
        mean_mm=dist.mean(axis=0),
        max_mm=dist.max(axis=0),
        mean_mm_unclamped=dist_free.mean(axis=0),
        chain_angle_deg=angle,
        scale=scale,
        num_frames=len(frames),
    )


def comparison_sheet(
    source: np.ndarray, target: np.ndarray, frames: np.ndarray, fps: float, title: str, out_path
) -> None:
    """Stick figures of the scaled source (black) and the retargeted body (red), front and side.

    Args:
        source, target: (T, 20, 3) joints relative to the hip centre in body-frame axes (metres),
            as :func:`joint_residual` compares them. frames: indices to draw; fps: for the labels.
        out_path: PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = [(i, p) for i, p in enumerate(JOINT_PARENTS) if p >= 0]
    fig, axes = plt.subplots(2, len(frames), figsize=(2.2 * len(frames), 5.0), squeeze=False)
    for col, t in enumerate(frames):
        for row, (h, label) in enumerate(((0, "front (x)"), (2, "side (z)"))):
            ax = axes[row, col]
            for pts, color, width in ((source[t], "black", 2.0), (target[t], "tab:red", 1.2)):
                for i, p in edges:
                    if np.isfinite(pts[[i, p]]).all():
                        ax.plot(pts[[i, p], h], pts[[i, p], 1], color=color, lw=width)
            ax.set_xlim(-1.0, 1.0)
            ax.set_ylim(1.1, -1.0)  # y is down
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{t / fps:.1f} s", fontsize=8)
            if col == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(f"{title}\nblack: BVH forward kinematics (scaled), red: retargeted body joints", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_path, dpi=90)
    plt.close(fig)
