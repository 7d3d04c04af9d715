"""Retargeting a BVH skeleton's motion onto the articulated Anny bones.

Source and target differ in rest pose (a T-pose against Anny's A-pose), bone lengths, axes (Y-up
or Z-up, any units) and chain granularity (several spine or neck joints). The transfer:

0. **Rest pose.** A rest skeleton that does not stand (feet not below the hips, as in Bandai's
   files, whose bones all lie along one axis at rest) is replaced by the first frame's pose
   (:func:`~selfmocap.synth.mocap.bvh.rebase_rest`; the motion's world joint positions are unchanged).
1. **Axes.** The source rest skeleton gives its up (hip centre to neck) and left (right hip to left
   hip) directions; rounded to the nearest signed permutation of the file's axes (mocap files are
   axis-aligned), they give the rotation ``C`` from the file's axes to the pose axes (Anny:
   x = subject's left, y = back, z = up). Units do not matter: lengths only enter as ratios.
2. **Root.** A rest alignment ``A_root`` takes Anny's rest pelvis frame (hip line, hip centre to
   neck) onto the source's; the root's world rotation is ``G_s(root) A_root``, with ``G_s`` a source
   joint's world rotation in pose axes.
3. **Trunk.** The chest's rotation relative to the root (the highest mapped spine joint's) is
   spread over Anny's three spine bones in :data:`SPINE_SHARES`: the chest ends up exactly as in
   the source whatever the number and placement of its spine joints (MB-Lab's rest spine zig-zags
   and its data compensates with a constant 44 deg bend, which per-bone copies would clamp).
   Neck and head take the source's rotations on the root's alignment (``G_s A_root``).
4. **Limbs** (clavicles, arms, legs, hands, feet) follow *segment directions*. A segment runs from
   the bone's joint to the joint of the next mapped bone along its chain (:data:`SEGMENT_CHILD`;
   hands and feet: to the map's tip joint, the middle finger or the toes). Unmapped source joints
   inside a segment are folded into it. A rest alignment ``A_b``, once per bone, is the smallest
   rotation taking the target's rest segment direction onto the source's; per frame,
   ``R0 = G_s A_b`` carries the source's twist and the smallest swing takes ``R0``'s segment onto
   the source segment's actual direction (the identity unless the segment spans several source
   bones): ``G_b = swing R0``.
5. **Hinges.** Elbows and knees are hinges in Anny's limits (a few degrees off-axis at most). When
   the limb bends (more than :data:`HINGE_BEND_DEG`), the upper bone's twist about its own segment
   is chosen so the lower segment is reached by a flexion alone, on the side the limits allow; the
   lower bone is then that flexion (plus the swing left when nearly straight). A twisted source
   (its upper arm's rest roll differs from Anny's) would otherwise need off-axis elbow rotations
   that the limits clamp, moving the hands.
6. ``pose_b = G_parent^T G_b`` (Anny's ``local-ref``: relative to the parent in world-aligned rest
   axes); unmapped Anny bones stay at rest. The joint limits are applied after resampling
   (:mod:`selfmocap.synth.mocap.source`).
7. **Root path.** The source's hip centre, scaled by the ratio of leg lengths (target over
   source), horizontally in the file's world axes and vertically as the sinking below the rest
   pose's standing height above the floor (the lowest foot point of the whole file); the root
   rides on it with Anny's rest offset from its hip centre.

Before the limits each limb segment therefore points exactly along its source segment, and joint
positions differ only by the two skeletons' proportions (``benchmarks/bench_retarget.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
import roma
import torch

from selfmocap.body.limits import ANNY_JOINT_LIMITS, JointLimits
from selfmocap.body.names import ANNY_ARTICULATED_BONES, ANNY_TO_BODY, JOINT_PARENTS
from selfmocap.geometry.rotations import swing
from selfmocap.synth.mocap.bone_map import TARGET_BONES, ResolvedMap
from selfmocap.synth.mocap.bvh import BvhClip, forward_kinematics, rebase_rest, rest_is_standing

#: For each articulated bone, the next articulated bone along its own segment (None: an end bone).
SEGMENT_CHILD: Final[dict[str, str | None]] = {
    "spine05": "spine03",
    "spine03": "spine01",
    "spine01": "neck01",
    "neck01": "head",
    "head": None,
    **{f"{b}.{s}": c and f"{c}.{s}" for s in "LR" for b, c in (
        ("clavicle", "upperarm01"), ("upperarm01", "lowerarm01"), ("lowerarm01", "wrist"), ("wrist", None),
        ("upperleg01", "lowerleg01"), ("lowerleg01", "foot"), ("foot", None),
    )},
}
#: Anny's spine bones and their shares of the trunk's rotation (the procedural generator's split).
SPINE_SHARES: Final[dict[str, float]] = {"spine05": 0.4, "spine03": 0.3, "spine01": 0.3}
#: Bones that take the source's rotation from its rest pose, on the root's rest alignment, instead
#: of matching segment directions: rest spines and necks are upright in every rig, but their joints
#: are placed differently (MB-Lab's lumbar bone points 38 deg forward, Anny's 8 deg back).
AXIAL_BONES: Final[tuple[str, ...]] = ("spine05", "spine03", "spine01", "neck01", "head")
#: The hinges (elbows, knees): +1 where flexion turns positively about the X axis of the bone's
#: limit frame (:mod:`selfmocap.body.limits`), -1 where negatively.
HINGE_FLEXION_SIGN: Final[dict[str, float]] = {
    "lowerarm01.L": -1.0, "lowerarm01.R": -1.0, "lowerleg01.L": 1.0, "lowerleg01.R": 1.0,
}
#: A hinge bent less than the first angle (deg) leaves its parent's twist to the source; bent more
#: than the second, its plane decides that twist (smoothly in between).
HINGE_BEND_DEG: Final[tuple[float, float]] = (10.0, 25.0)
#: Anny bones whose rest heads (averaged) mark where an end bone's segment ends.
ANNY_TIP_BONES: Final[dict[str, tuple[str, ...]]] = {
    **{f"wrist.{s}": (f"finger3-1.{s}",) for s in "LR"},
    **{f"foot.{s}": tuple(f"toe{k}-1.{s}" for k in range(1, 6)) for s in "LR"},
}
#: Rotation from Anny's axes (x left, y back, z up) to the body frame (x left, y down, z back).
_PARENT: Final[dict[str, str]] = {TARGET_BONES[i]: TARGET_BONES[p] for i, p in enumerate(JOINT_PARENTS) if p >= 0}


@dataclass(frozen=True)
class TargetSkeleton:
    """Rest skeleton of the target body model in its pose axes (Anny: x left, y back, z up), metres.

    Attributes:
        heads: (20, 3) the root, then the head (rotation centre) of each articulated bone
            (``JOINT_NAMES`` order).
        tips: end bone -> (3,) where its segment ends (middle knuckle, toes).
        to_body: (3, 3) rotation from the pose axes to the body frame of ``docs/conventions.md``.
    """

    heads: np.ndarray
    tips: dict[str, np.ndarray]
    to_body: np.ndarray

    def __post_init__(self) -> None:
        if self.heads.shape != (len(TARGET_BONES), 3) or self.to_body.shape != (3, 3):
            raise ValueError(f"TargetSkeleton needs heads ({len(TARGET_BONES)}, 3) and to_body (3, 3)")

    def head(self, bone: str) -> np.ndarray:
        return self.heads[TARGET_BONES.index(bone)]


def anny_target_skeleton(body, shape: torch.Tensor | None = None) -> TargetSkeleton:
    """The rest skeleton of an :class:`~selfmocap.body.anny_body.AnnyBody` (neutral shape by default)."""
    shape = body.default_shape[None] if shape is None else shape.reshape(1, -1)
    with torch.no_grad():
        heads = body.rest_bone_heads(shape.to(body.default_shape.dtype))[0].double().numpy()
    heads = heads @ ANNY_TO_BODY  # body frame -> Anny axes (row vectors: x R^-T = x R)
    labels = list(body.bone_labels)
    return TargetSkeleton(
        heads=heads[[labels.index(b) for b in TARGET_BONES]],
        tips={b: heads[[labels.index(t) for t in ts]].mean(0) for b, ts in ANNY_TIP_BONES.items()},
        to_body=ANNY_TO_BODY.copy(),
    )


@dataclass(frozen=True)
class RetargetedMotion:
    """A whole source file on the target skeleton, at the file's frame rate, before the limits.

    Attributes:
        pose: (T, 19, 3) axis-angle per :data:`ANNY_ARTICULATED_BONES` (local-ref), not clamped.
        root_rotation: (T, 3, 3) the body's orientation in the body frame, in the file's world
            heading (:mod:`~selfmocap.synth.mocap.source` turns each window to start facing -z).
        root_position: (T, 3) metres in body-frame axes for the neutral target: x and z the file's
            horizontal root path, y the sinking below the rest pose's standing height (+ down).
        fps: the file's frame rate.
        axes: (3, 3) rotation from the file's axes to the pose axes (``C``).
        leg_scale: target leg length over source leg length (metres per file unit).
        profile: the bone-map profile used.
        first_frame: the file's frame that is frame 0 here (leading calibration frames dropped).
    """

    pose: np.ndarray
    root_rotation: np.ndarray
    root_position: np.ndarray
    fps: float
    axes: np.ndarray
    leg_scale: float
    profile: str
    first_frame: int = 0

    @property
    def num_frames(self) -> int:
        return self.pose.shape[0]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _frame(left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(3, 3) orthonormal frame with columns (left, back, up): up kept, left made perpendicular."""
    up = _unit(up)
    left = _unit(left - (left @ up) * up)
    return np.stack([left, np.cross(up, left), up], axis=1)


def _up_bone(joints: dict[str, int]) -> str:
    return "neck01" if "neck01" in joints else "head"


def source_axes(rest: np.ndarray, resolved: ResolvedMap) -> np.ndarray:
    """(3, 3) rotation ``C`` from the file's axes to the pose axes, from the rest skeleton.

    The rest pose's (left, back, up) frame (right to left hip, hip centre to neck) is rounded to the nearest signed axis permutation when
    every axis is within 30 deg of one of the file's axes (the usual Y-up or Z-up files), so that
    the file's vertical is exactly the vertical; otherwise it is used as is.
    """
    j = resolved.joints
    hips = rest[[j["upperleg01.L"], j["upperleg01.R"]]]
    frame = _frame(hips[0] - hips[1], rest[j[_up_bone(j)]] - hips.mean(0))
    axes = frame.T
    snapped = np.zeros((3, 3))
    cols = np.abs(axes).argmax(1)
    snapped[np.arange(3), cols] = np.sign(axes[np.arange(3), cols])
    if len(set(cols)) == 3 and np.all(np.abs(axes[np.arange(3), cols]) > np.cos(np.radians(30))):
        return snapped
    return axes


def _leg_length(points: dict[str, np.ndarray]) -> float:
    return sum(
        float(np.linalg.norm(points[f"lowerleg01.{s}"] - points[f"upperleg01.{s}"]))
        + float(np.linalg.norm(points[f"foot.{s}"] - points[f"lowerleg01.{s}"]))
        for s in "LR"
    )


def segment_ends(resolved: ResolvedMap, target: TargetSkeleton, bone: str) -> tuple[np.ndarray, int] | None:
    """Where the segment of a mapped ``bone`` ends: (target rest point, source joint), or None.

    The end is the next mapped bone along the chain, else (end bones) the map's tip joint and the
    target's tip point; None when neither exists.
    """
    child = SEGMENT_CHILD[bone]
    while child is not None and child not in resolved.joints:
        child = SEGMENT_CHILD[child]
    if child is not None:
        return target.head(child), resolved.joints[child]
    if bone in resolved.tips and bone in target.tips:
        return target.tips[bone], resolved.tips[bone]
    return None


def _rotation_about(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations by ``angle`` (T,) about unit ``axis`` ((T, 3) or (3,))."""
    rotvec = np.broadcast_to(axis, angle.shape + (3,)) * angle[:, None]
    return roma.rotvec_to_rotmat(torch.from_numpy(np.ascontiguousarray(rotvec))).numpy()


def _signed_angle(a: np.ndarray, b: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """(T,) angle of the rotation about unit ``axis`` taking the projection of ``a`` onto that of
    ``b`` (projections onto the plane normal to ``axis``; all (T, 3) or (3,))."""
    a = a - (a * axis).sum(-1, keepdims=True) * axis
    b = b - (b * axis).sum(-1, keepdims=True) * axis
    return np.arctan2((np.cross(a, b) * axis).sum(-1), (a * b).sum(-1))


def _hinge_weight(bend: np.ndarray) -> np.ndarray:
    """How far a hinge's bend (rad) decides its parent's twist: 0 up to the first of
    :data:`HINGE_BEND_DEG`, 1 from the second, smooth in between."""
    lo, hi = HINGE_BEND_DEG
    s = np.clip((np.degrees(bend) - lo) / (hi - lo), 0.0, 1.0)
    return s * s * (3 - 2 * s)


def _hinge_twist(
    world: np.ndarray, upper: np.ndarray, lower: np.ndarray, axis: np.ndarray, rest_lower: np.ndarray, sign: float
) -> np.ndarray:
    """Turn a limb's upper bone about its own direction so that its hinge child can reach the
    source's lower segment by a flexion alone.

    A flexion about the hinge axis ``h`` sweeps the lower segment over the cone of directions at
    angle ``acos(rest_lower . h)`` from ``h``; the twist puts the source's lower segment on that
    cone, on the side where reaching it is a flexion (``sign``) rather than a hyperextension.

    Args:
        world: (T, 3, 3) the upper bone's world rotation (its segment already along ``upper``).
        upper, lower: (T, 3) unit directions of the upper and lower segments in the source.
        axis: (3,) the hinge axis in rest axes; rest_lower: (3,) the lower segment's rest direction.
        sign: +1 if flexion turns positively about the axis (knees), -1 if negatively (elbows).
    Returns:
        (T, 3, 3) the twisted rotation: fully when the limb bends more than ``HINGE_BEND_DEG[1]``,
        not at all when it is nearly straight (where the plane of the bend is undefined).
    """
    hinge = np.einsum("tik,k->ti", world, axis)  # where the hinge axis points now
    along = (hinge * upper).sum(-1, keepdims=True)  # its (rest-constant) component along the segment
    hinge_perp = hinge - along * upper
    lower_perp = lower - (lower * upper).sum(-1, keepdims=True) * upper
    e1 = _unit(lower_perp)
    e2 = sign * np.cross(upper, e1)  # the flexion side
    # on the cone: hinge . lower = rest_lower . axis
    cos = (float(rest_lower @ axis) - along[:, 0] * (lower * upper).sum(-1)) / np.maximum(
        np.linalg.norm(hinge_perp, axis=-1) * np.linalg.norm(lower_perp, axis=-1), 1e-12
    )
    psi = np.arccos(np.clip(cos, -1.0, 1.0))[:, None]
    wanted = np.cos(psi) * e1 + np.sin(psi) * e2
    twist = _signed_angle(hinge_perp, wanted, upper)
    bend = np.arccos(np.clip((upper * lower).sum(-1), -1.0, 1.0))
    return _rotation_about(upper, _hinge_weight(bend) * twist) @ world


def _hinge_local(parent: np.ndarray, rest_dir: np.ndarray, direction: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """(T, 3, 3) local rotation of a hinge bone: a flexion about ``axis``, then the smallest swing
    onto the segment's direction (zero when the parent's twist put it in the hinge plane).

    Args:
        parent: (T, 3, 3) world rotation of the parent; rest_dir: (3,) the bone's rest segment
        direction; direction: (T, 3) its direction in the source; axis: (3,) the hinge axis.
    """
    local = np.einsum("tki,tk->ti", parent, direction)  # the segment in the parent's rest axes
    flexion = _rotation_about(axis, _signed_angle(rest_dir, local, axis))
    return swing(np.einsum("tik,k->ti", flexion, rest_dir), local) @ flexion


class _Segment(NamedTuple):
    """A limb bone's segment: its rest direction on the target (3,), its directions in the source
    (T, 3), and the rest alignment (3, 3) taking the first onto the source's rest direction."""

    rest: np.ndarray
    source: np.ndarray
    align: np.ndarray


def retarget(
    clip: BvhClip, resolved: ResolvedMap, target: TargetSkeleton, limits: JointLimits = ANNY_JOINT_LIMITS
) -> RetargetedMotion:
    """Retarget every frame of ``clip`` onto ``target`` (the module docstring has the method).

    ``limits`` only gives the elbows' and knees' hinge axes (the X axes of their limit frames); the
    limits themselves are applied later, after resampling.
    """
    joints = resolved.joints
    feet = (joints["foot.L"], joints["foot.R"])
    if not rest_is_standing(clip.skeleton, (joints["upperleg01.L"], joints["upperleg01.R"]), joints[_up_bone(joints)], feet):
        # a rest pose that does not stand (Bandai: every bone along one axis): the first frame's
        # pose is the rest pose instead (the world joint positions do not change)
        clip = rebase_rest(clip, 0)
    rest_file = clip.skeleton.rest_positions()
    axes = source_axes(rest_file, resolved)
    g_file, p_file = forward_kinematics(clip)
    rot = axes @ g_file @ axes.T  # (T, N, 3, 3) source world rotations, pose axes
    pos = p_file @ axes.T  # (T, N, 3)
    rest = rest_file @ axes.T
    n = clip.num_frames

    segments: dict[str, _Segment] = {}
    for bone in joints:
        ends = segment_ends(resolved, target, bone) if bone != "root" and bone not in AXIAL_BONES else None
        if ends is not None:
            rest_dir = _unit(ends[0] - target.head(bone))
            segments[bone] = _Segment(
                rest_dir, _unit(pos[:, ends[1]] - pos[:, joints[bone]]), swing(rest_dir, rest[ends[1]] - rest[joints[bone]])
            )

    # The root aligns a frame: hip line, and hip centre to neck (or head). Root joints are placed
    # differently from one skeleton to the next (MB-Lab's pelvis is 11 cm above its hips), the
    # hip joints much less.
    up = _up_bone(joints)
    hips = [joints["upperleg01.L"], joints["upperleg01.R"]]
    target_hips = 0.5 * (target.head("upperleg01.L") + target.head("upperleg01.R"))
    f_target = _frame(target.head("upperleg01.L") - target.head("upperleg01.R"), target.head(up) - target_hips)
    f_source = _frame(rest[hips[0]] - rest[hips[1]], rest[joints[up]] - rest[hips].mean(0))
    align: dict[str, np.ndarray] = {"root": f_source @ f_target.T}
    world: dict[str, np.ndarray] = {"root": rot[:, joints["root"]] @ align["root"]}
    # The trunk: the chest's (highest mapped spine joint's) rotation relative to the root.
    chest = next((joints[b] for b in ("spine01", "spine03", "spine05") if b in joints), joints["root"])
    trunk = align["root"].T @ rot[:, joints["root"]].transpose(0, 2, 1) @ rot[:, chest] @ align["root"]
    trunk_rotvec = roma.rotmat_to_rotvec(torch.from_numpy(trunk)).numpy()
    trunk_angle = np.linalg.norm(trunk_rotvec, axis=-1)
    trunk_axis = trunk_rotvec / np.maximum(trunk_angle, 1e-12)[:, None]

    pose = np.zeros((n, len(ANNY_ARTICULATED_BONES), 3, 3))
    for k, bone in enumerate(ANNY_ARTICULATED_BONES):  # parents come first
        parent = _PARENT[bone]
        align[bone] = segments[bone].align if bone in segments else align[parent]
        if bone in SPINE_SHARES:  # a share of the trunk's rotation, whatever joints the source has
            world[bone] = world[parent] @ _rotation_about(trunk_axis, SPINE_SHARES[bone] * trunk_angle)
        elif bone not in joints:  # stays at rest: follows its parent
            world[bone] = world[parent]
        elif bone not in segments:  # neck, head, an end bone without a tip: source rotation, parent's alignment
            world[bone] = rot[:, joints[bone]] @ align[bone]
        elif bone in HINGE_FLEXION_SIGN and parent in segments:  # elbow, knee: a flexion
            rest_dir, source_dir = segments[bone].rest, segments[bone].source
            world[bone] = world[parent] @ _hinge_local(world[parent], rest_dir, source_dir, limits.frames[k][:, 0])
        else:
            rest_dir, source_dir = segments[bone].rest, segments[bone].source
            r0 = rot[:, joints[bone]] @ align[bone]  # carries the source's twist
            # einsum legend: t frames, i/k xyz
            world[bone] = swing(np.einsum("tik,k->ti", r0, rest_dir), source_dir) @ r0
            child = SEGMENT_CHILD[bone]
            if child in HINGE_FLEXION_SIGN and child in segments:  # upper arm, thigh: twist for the hinge
                axis = limits.frames[ANNY_ARTICULATED_BONES.index(child)][:, 0]
                lower = segments[child]
                world[bone] = _hinge_twist(world[bone], source_dir, lower.source, axis, lower.rest, HINGE_FLEXION_SIGN[child])
        pose[:, k] = world[parent].transpose(0, 2, 1) @ world[bone]

    # Root path: the hip centre's, scaled by the leg lengths, vertically relative to the rest
    # pose's standing height above the floor; the root rides on it with the target's rest offset.
    rest_points = {b: rest[j] for b, j in joints.items()}
    target_points = {b: target.head(b) for b in TARGET_BONES}
    leg_scale = _leg_length(target_points) / max(_leg_length(rest_points), 1e-12)
    feet = [joints[f"foot.{s}"] for s in "LR"] + [resolved.tips[b] for b in ("foot.L", "foot.R") if b in resolved.tips]
    floor = pos[:, feet, 2].min()
    standing = rest[hips, 2].mean() - rest[feet, 2].min()  # rest hip-centre height above its lowest foot point
    centre = pos[:, hips].mean(1) - np.array([0.0, 0.0, floor + standing])
    offset = target.head("root") - target_hips
    root = leg_scale * centre + np.einsum("tik,k->ti", world["root"] - np.eye(3), offset)
    to_body = target.to_body
    return RetargetedMotion(
        pose=roma.rotmat_to_rotvec(torch.from_numpy(pose)).numpy(),
        root_rotation=to_body @ world["root"] @ to_body.T,
        root_position=root @ to_body.T,
        fps=clip.fps,
        axes=axes,
        leg_scale=leg_scale,
        profile=resolved.profile,
    )
