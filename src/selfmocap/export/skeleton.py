"""The exported skeleton in the world frame: pure functions shared by every exporter.

Frames (``docs/exports.md`` has the derivation):

* **camera** (OpenCV, Eq. 3): x right, y down, z forward; ``X_cam = R X_body + T``.
* **world** (:mod:`selfmocap.export.world`): y up along gravity, metres, the ground plane y = 0;
  a motion's :class:`~selfmocap.export.world.WorldFrame` maps the body frame to it per frame,
  ``X_world = W_t X_body + p_t`` (``W_t`` its ``rotation``, ``p_t`` the root's world position).
* **rig** (the skeleton's rest axes, glTF's asset convention): x the subject's left, y up, z the
  subject's front (the subject faces +z). The body frame (x left, y down, z back) is
  ``X_body = F_body X_rig`` with ``F_body = diag(1, -1, -1)``.

Hence ``X_world = W_t F_body X_rig + p_t``: the root joint's world rotation is ``W_t F_body`` and
its world position ``p_t``.

A pose rotation ``D`` is expressed in the body model's native rest axes, which the body model
maps to the body frame with ``A = body.axes_to_body`` (Anny: ``ANNY_TO_BODY``); in rig axes
it is ``C D C^T`` with ``C = F_body A``. Because the pose is local-ref (each rotation relative to
the parent, in world-aligned rest axes), the rig needs identity rest rotations and each joint's
local rotation is exactly that conjugated pose rotation:

    G_0 = W_t F_body,   G_c = G_parent(c) C D_c C^T
    x_0 = p_t,          x_c = x_parent(c) + G_parent(c) (j_c - j_parent(c))

with ``j`` the rest joints ``body(zero_pose, shape).joints`` in rig axes. ``tests/export``
checks that this reproduces ``body(pose, shape).joints`` mapped to the world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import roma
import torch

from selfmocap.export.motion import CapturedMotion
from selfmocap.geometry import kinematics
#: Rig axes (x subject's left, y up, z subject's front) -> body frame (x left, y down, z back).
RIG_TO_BODY = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class RestPose:
    """The body at the captured shape and zero pose, in rig axes (metres, root at the origin).

    Attributes:
        joint_names: (J,) names; ``joint_names[0]`` is the root.
        joint_parents: (J,) parent index of each joint, -1 for the root.
        joints: (J, 3) rest joint positions.
        vertices: (V, 3) rest mesh.
        faces: (F, 3) int triangles (counter-clockwise seen from outside).
    """

    joint_names: tuple[str, ...]
    joint_parents: tuple[int, ...]
    joints: np.ndarray
    vertices: np.ndarray
    faces: np.ndarray

    @property
    def offsets(self) -> np.ndarray:
        """(J, 3) each joint's rest position relative to its parent (zero for the root)."""
        parents = np.array(self.joint_parents)
        offsets = self.joints - self.joints[np.maximum(parents, 0)]
        offsets[parents < 0] = 0.0
        return offsets

    def depth_first_order(self) -> list[int]:
        """Joint indices in depth-first order, children in index order (BVH's order)."""
        children: list[list[int]] = [[] for _ in self.joint_parents]
        for c, p in enumerate(self.joint_parents):
            if p >= 0:
                children[p].append(c)
        order, stack = [], [c for c, p in enumerate(self.joint_parents) if p < 0][::-1]
        while stack:
            j = stack.pop()
            order.append(j)
            stack.extend(children[j][::-1])
        return order


@dataclass(frozen=True)
class WorldMotion:
    """The motion of the rest skeleton in the world frame (T frames, J joints).

    Attributes:
        root_position: (T, 3) world position of the root joint, metres.
        rotations: (T, J, 3, 3) each joint's rotation relative to its parent in rig axes (the
            rig has identity rest rotations); joint 0's is its world rotation ``F R F_body``.
    """

    root_position: np.ndarray
    rotations: np.ndarray


def check_skeleton(body) -> None:
    """Raise a clear error unless ``body`` keeps the exporters' skeleton invariant."""
    parents = tuple(body.joint_parents)
    ok = (
        len(body.joint_names) == len(parents) == body.num_pose_joints + 1
        and parents[0] < 0
        and all(0 <= p < c for c, p in enumerate(parents) if c > 0)
    )
    if not ok:
        raise ValueError(
            f"body model {body.name!r}: exporters need joint_names[0] to be the root, joint_names[1:] to match "
            "the pose joints one-to-one and every parent to come before its child"
        )


def rest_pose(body, shape: np.ndarray) -> RestPose:
    """Run ``body`` at ``shape`` (S,) and zero pose; return it in rig axes (float64)."""
    check_skeleton(body)
    dtype = body.default_shape.dtype
    with torch.no_grad():
        out = body(
            torch.zeros(1, body.num_pose_joints, 3, dtype=dtype),
            torch.as_tensor(np.asarray(shape), dtype=dtype)[None],
        )
    # RIG_TO_BODY is its own inverse: X_rig = RIG_TO_BODY X_body.
    to_rig = RIG_TO_BODY
    return RestPose(
        joint_names=tuple(body.joint_names),
        joint_parents=tuple(int(p) for p in body.joint_parents),
        joints=out.joints[0].double().numpy() @ to_rig.T,
        vertices=out.vertices[0].double().numpy() @ to_rig.T,
        faces=body.faces.cpu().numpy().astype(np.int64),
    )


def pose_axes_to_rig(body) -> np.ndarray:
    """(3, 3) ``C = F_body A``: the body model's pose axes -> rig axes."""
    return RIG_TO_BODY.T @ np.asarray(body.axes_to_body.cpu(), np.float64)


def world_motion(motion: CapturedMotion, body) -> WorldMotion:
    """The rig's per-frame root position and local rotations in the motion's world frame
    (module docstring; ``motion.world`` must be set)."""
    check_skeleton(body)
    if motion.pose.shape[1] != body.num_pose_joints:
        raise ValueError(f"motion has {motion.pose.shape[1]} pose joints, body model {body.num_pose_joints}")
    c = pose_axes_to_rig(body)
    local = roma.rotvec_to_rotmat(torch.as_tensor(np.asarray(motion.pose), dtype=torch.float64)).numpy()
    # einsum legend: t frame, j joint, a/b/i/k xyz
    local = np.einsum("ai,tjik,bk->tjab", c, local, c)
    world = motion.placed()
    root = np.asarray(world.rotation, np.float64) @ RIG_TO_BODY
    position = np.asarray(world.translation, np.float64)
    return WorldMotion(root_position=position, rotations=np.concatenate([root[:, None], local], axis=1))


def forward_kinematics(rest: RestPose, motion: WorldMotion) -> tuple[np.ndarray, np.ndarray]:
    """World joint positions (T, J, 3) and world rotations (T, J, 3, 3) of the posed rig."""
    offsets = np.broadcast_to(rest.offsets, motion.rotations.shape[:2] + (3,)).copy()
    offsets[:, np.asarray(rest.joint_parents) < 0] = motion.root_position[:, None]
    rotations, positions = kinematics.forward_kinematics(rest.joint_parents, motion.rotations, offsets)
    return positions, rotations


def leaf_end_sites(rest: RestPose, weights: np.ndarray) -> dict[int, np.ndarray]:
    """Cosmetic tips for the leaf joints (BVH ``End Site``; they move nothing), so that an
    importer draws the last bone with a sensible length and direction: from the joint towards the
    centroid of the rest vertices it dominates (the hand, foot or head), as far as those vertices
    reach along that direction.

    Args:
        weights: (V, J) skinning weights (``body.skinning_weights()``).
    Returns:
        leaf joint index -> (3,) offset from the joint in rig axes, metres.
    """
    parents = set(rest.joint_parents)
    dominant = np.asarray(weights).argmax(axis=1)
    ends = {}
    for j in range(len(rest.joint_names)):
        if j in parents:
            continue
        own = rest.vertices[dominant == j]
        direction = own.mean(axis=0) - rest.joints[j] if len(own) else np.zeros(3)
        if np.linalg.norm(direction) > 1e-6:
            direction /= np.linalg.norm(direction)
            ends[j] = direction * ((own - rest.joints[j]) @ direction).max()
        else:  # no vertex of its own: continue the parent bone by half its length
            ends[j] = 0.5 * rest.offsets[j]
    return ends
