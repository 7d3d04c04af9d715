"""Poses between skeletons by joint name: the procedural motions and joint limits, written for
Anny's 19 articulated bones, on any body model whose joints are named like them (SMPL's are).

Both skeletons use local rotations in world-aligned rest axes (Anny ``local-ref``, SMPL), so a
rotation carries over between joints of the same name once two things are accounted for:

* **axes**: each model expresses rotations in its own axes; in the body frame a rotation ``R`` is
  ``A R A^T`` with the model's ``axes_to_body`` ``A``;
* **rest pose**: the rests differ (Anny stands in an A-pose with bent elbows, SMPL in a T-pose).
  Each target joint ``j`` gets a rest correction ``Q_j`` (body frame) such that the posed target
  bone points where the posed source bone points: ``G'_j = G_j Q_j`` for the global rotations
  ``G``, so the local rotations map as ``R'_j = Q_p^T R_j Q_j`` (``p`` the parent). Along each
  chain ``Q_j = S_j Q_p``, with ``S_j`` the smallest rotation taking the parent-corrected target
  rest bone ``Q_p d'_j`` onto the source rest bone ``d_j`` (bone = joint -> its one child that
  both skeletons share), or the rotation best aligning all of them when there are several
  (Kabsch; spine3 -> neck and collars); joints with no shared child inherit ``Q_p``. On the arm this turns
  SMPL's horizontal upper arm down by Anny's 48 degrees about the back axis, then bends the
  forearm about the elbow's hinge by Anny's 42 degrees of rest flexion.

Target joints without a source counterpart (SMPL's feet and hands) stay at rest. The inverse map
(:meth:`Retargeting.to_source`) lets the Anny joint limits judge a target pose
(:func:`pose_limit_violation`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Final

import numpy as np
import roma
import torch

from selfmocap.body.limits import limit_violation
from selfmocap.body.model import BodyModel
from selfmocap.body.names import ANNY_TO_BODY, JOINT_NAMES, JOINT_PARENTS
from selfmocap.geometry.rotations import swing

#: Anny's rest joints (neutral phenotypes, zero pose) in the body frame, metres, in
#: :data:`JOINT_NAMES` order; ``tests/body/test_retarget.py`` checks them against the model.
ANNY_REST_JOINTS: Final[np.ndarray] = np.array([
    [0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0],
    [0.0, -0.136, 0.019],
    [0.0, -0.345, 0.035],
    [0.0, -0.513, 0.006],
    [0.0, -0.609, -0.030],
    [0.022, -0.447, -0.016],
    [0.165, -0.427, -0.013],
    [0.334, -0.239, -0.019],
    [0.450, -0.121, -0.174],
    [-0.022, -0.447, -0.016],
    [-0.165, -0.427, -0.013],
    [-0.334, -0.239, -0.019],
    [-0.450, -0.121, -0.174],
    [0.102, 0.007, 0.004],
    [0.133, 0.396, -0.028],
    [0.170, 0.796, 0.000],
    [-0.102, 0.007, 0.004],
    [-0.133, 0.396, -0.028],
    [-0.170, 0.796, 0.000],
])


@dataclass(frozen=True)
class Skeleton:
    """A body model's joints at rest.

    Attributes:
        names: (J,) joint names, root first.
        parents: (J,) parent index, -1 for the root; parents come before their children.
        rest: (J, 3) rest joints in the body frame (metres).
        axes_to_body: (3, 3) rotation from the axes ``pose`` is expressed in to the body frame.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    rest: np.ndarray
    axes_to_body: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.names)
        if len(self.parents) != n or self.rest.shape != (n, 3) or self.axes_to_body.shape != (3, 3):
            raise ValueError(f"Skeleton needs {n} parents, rest ({n}, 3), axes_to_body (3, 3)")
        if self.parents[0] != -1 or any(not 0 <= p < j for j, p in enumerate(self.parents) if j):
            raise ValueError("Skeleton: the root must come first and every parent before its children")


#: The skeleton the procedural motions (``synth/motion.py``) and joint limits are written for.
ANNY_SKELETON: Final[Skeleton] = Skeleton(JOINT_NAMES, JOINT_PARENTS, ANNY_REST_JOINTS, ANNY_TO_BODY)


def _rest_swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(3, 3) :func:`~selfmocap.geometry.rotations.swing` taking rest direction ``a`` onto ``b``:
    exactly the identity when they agree, an error when they are opposite."""
    ua, ub = a / np.linalg.norm(a), b / np.linalg.norm(b)
    if np.linalg.norm(np.cross(ua, ub)) < 1e-9:
        if ua @ ub > 0:
            return np.eye(3)
        raise ValueError("retargeting: a rest bone points opposite to its counterpart")
    return swing(a, b)


@dataclass(frozen=True)
class Retargeting:
    """Pose map from a source to a target skeleton (see the module docstring).

    Target pose joint ``i`` (target joint ``i + 1``) takes source pose joint ``source[i]``
    (-1: stays at rest) as ``R'_i = left[i] R_source[i] right[i]``, all in the models' own axes.

    Attributes:
        source: (Jt - 1,) int64 source pose-joint index per target pose joint, or -1.
        left: (Jt - 1, 3, 3) float64.
        right: (Jt - 1, 3, 3) float64.
        num_source: Js - 1, the source's pose joints.
    """

    source: np.ndarray
    left: np.ndarray
    right: np.ndarray
    num_source: int

    @staticmethod
    def between(source: Skeleton, target: Skeleton) -> "Retargeting":
        src = {n: i for i, n in enumerate(source.names)}
        corr = [np.eye(3)] * len(target.names)  # Q_j, body frame
        for j in range(1, len(target.names)):
            p = target.parents[j]
            name = target.names[j]
            children = [
                c for c in range(len(target.names))
                if target.parents[c] == j and target.names[c] in src and name in src
                and source.parents[src[target.names[c]]] == src[name]
            ]
            corr[j] = corr[p]
            d_target = np.stack([corr[p] @ (target.rest[c] - target.rest[j]) for c in children] or [np.zeros(3)])
            d_source = np.stack([source.rest[src[target.names[c]]] - source.rest[src[name]] for c in children] or [np.zeros(3)])
            if len(children) == 1:
                corr[j] = _rest_swing(d_target[0], d_source[0]) @ corr[p]
            elif len(children) > 1:  # e.g. spine3 -> neck and collars: the best rotation for all
                corr[j] = roma.rigid_vectors_registration(torch.from_numpy(d_target), torch.from_numpy(d_source)).numpy() @ corr[p]
        a_s, a_t = source.axes_to_body, target.axes_to_body
        index, left, right = [], [], []
        for j in range(1, len(target.names)):
            name, p = target.names[j], target.parents[j]
            # a joint carries over when the source has it under a parent of the same name
            mapped = name in src and src[name] > 0 and source.names[source.parents[src[name]]] == target.names[p]
            index.append(src[name] - 1 if mapped else -1)
            left.append(a_t.T @ corr[p].T @ a_s)
            right.append(a_s.T @ corr[j] @ a_t)
        return Retargeting(np.array(index, np.int64), np.stack(left), np.stack(right), len(source.names) - 1)

    def to_target(self, pose: torch.Tensor) -> torch.Tensor:
        """(..., Js - 1, 3, 3) source rotations -> (..., Jt - 1, 3, 3) target rotations."""
        if pose.shape[-3:] != (self.num_source, 3, 3):
            raise ValueError(f"pose must be (..., {self.num_source}, 3, 3), got {tuple(pose.shape)}")
        eye = torch.eye(3, dtype=pose.dtype, device=pose.device).expand(*pose.shape[:-3], 1, 3, 3)
        padded = torch.cat([pose, eye], dim=-3)  # index -1 picks the identity
        picked = padded[..., torch.from_numpy(self.source).to(pose.device), :, :]
        left = torch.as_tensor(self.left, dtype=pose.dtype, device=pose.device)
        right = torch.as_tensor(self.right, dtype=pose.dtype, device=pose.device)
        out = left @ picked @ right
        unmapped = torch.from_numpy(self.source < 0).to(pose.device)
        return torch.where(unmapped[:, None, None], eye.expand_as(out), out)

    def to_source(self, pose: torch.Tensor) -> torch.Tensor:
        """(..., Jt - 1, 3, 3) target rotations -> (..., Js - 1, 3, 3) source rotations (the
        inverse on mapped joints; source joints no target joint maps to come back at rest)."""
        if pose.shape[-3] != len(self.source):
            raise ValueError(f"pose must be (..., {len(self.source)}, 3, 3), got {tuple(pose.shape)}")
        mapped = np.flatnonzero(self.source >= 0)
        left = torch.as_tensor(self.left[mapped], dtype=pose.dtype, device=pose.device)
        right = torch.as_tensor(self.right[mapped], dtype=pose.dtype, device=pose.device)
        back = left.transpose(-1, -2) @ pose[..., torch.from_numpy(mapped).to(pose.device), :, :] @ right.transpose(-1, -2)
        out = torch.eye(3, dtype=pose.dtype, device=pose.device).repeat(*pose.shape[:-3], self.num_source, 1, 1)
        out[..., torch.from_numpy(self.source[mapped]).to(pose.device), :, :] = back
        return out


_RETARGETINGS: "weakref.WeakKeyDictionary[torch.nn.Module, Retargeting]" = weakref.WeakKeyDictionary()


def body_skeleton(body: BodyModel) -> Skeleton:
    """``body``'s skeleton: its joints at rest (zero pose, default shape) in the body frame."""
    with torch.no_grad():
        rest = body(torch.zeros(1, body.num_pose_joints, 3), body.default_shape[None]).joints[0]
    return Skeleton(tuple(body.joint_names), tuple(body.joint_parents), rest.double().cpu().numpy(),
                    body.axes_to_body.double().cpu().numpy())


def anny_retargeting(body: BodyModel) -> Retargeting | None:
    """The map from Anny's skeleton to ``body``'s (cached per body), None for Anny itself."""
    if body.name == "anny":
        return None
    if body not in _RETARGETINGS:
        _RETARGETINGS[body] = Retargeting.between(ANNY_SKELETON, body_skeleton(body))
    return _RETARGETINGS[body]


def motion_pose_for_body(pose: np.ndarray, body: BodyModel) -> np.ndarray:
    """(T, 19, 3) axis-angle motion pose on Anny's bones (``synth.motion.Motion.pose``) ->
    (T, J, 3) float32 axis-angle for ``body`` (unchanged for Anny)."""
    retarget = anny_retargeting(body)
    if retarget is None:
        return pose
    rot = retarget.to_target(roma.rotvec_to_rotmat(torch.from_numpy(pose).double()))
    return roma.rotmat_to_rotvec(rot).float().numpy()


def pose_limit_violation(body: BodyModel, pose: torch.Tensor) -> torch.Tensor:
    """Joint-limit penalty (``body.limits.limit_violation``) of (..., J, 3, 3) rotations of
    ``body``, through the inverse map to Anny's bones for other models (their joints without an
    Anny counterpart, SMPL's feet and hands, are not limited). Returns (...)."""
    retarget = anny_retargeting(body)
    rot = pose if retarget is None else retarget.to_source(pose)
    return limit_violation(roma.rotmat_to_rotvec(rot))
