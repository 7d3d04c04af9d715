"""The body-model interface: a stateless layer ``forward(pose, shape) -> BodyOutput``.

Conventions shared by every body model (documented in ``docs/conventions.md``):

* Units are metres.
* Outputs live in the *body frame*: origin at the root (pelvis) joint, x towards the subject's
  left, y down, z towards the subject's back (the subject faces -z). With an identity camera
  rotation the subject therefore stands upright facing an OpenCV camera (x right, y down,
  z forward). The global orientation is the camera rotation of Eq. 3, not part of ``pose``.
* ``pose`` is one rotation per articulated bone, relative to the parent, expressed in the body
  model's rest axes: either axis-angle ``(B, J, 3)`` or rotation matrices ``(B, J, 3, 3)``.
* ``shape`` is the body model's shape vector ``(B, S)`` (Anny phenotypes, SMPL betas).
* ``joint_names[0]`` is the root and ``joint_names[1:]`` are the pose joints, one-to-one
  (``num_pose_joints = len(joint_names) - 1``); ``joint_parents`` index into ``joint_names``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import roma
import torch


@dataclass(frozen=True)
class BodyOutput:
    """Posed body in the body frame (metres).

    Attributes:
        vertices: (B, V, 3) mesh vertices.
        joints: (B, J, 3) skeleton joints, see ``joint_names``.
        keypoints: (B, K, 3) keypoints regressed linearly from the vertices (Eq. 2, ``X_kpt = A X``).
    """

    vertices: torch.Tensor
    joints: torch.Tensor
    keypoints: torch.Tensor


class BodyModel(Protocol):
    """What the rest of selfmocap needs from a body model."""

    name: str
    faces: torch.Tensor  #: (F, 3) int64 triangle indices
    joint_names: tuple[str, ...]
    joint_parents: tuple[int, ...]
    keypoint_names: tuple[str, ...]
    num_pose_joints: int  #: J in the pose layout (J, 3)
    shape_dim: int  #: S
    shape_names: tuple[str, ...]
    default_shape: torch.Tensor  #: (S,) neutral shape
    shape_range: tuple[float, float] | None  #: bounds of every shape parameter, None if unbounded
    axes_to_body: torch.Tensor  #: (3, 3) rotation from the model's own axes (those of ``pose``) to the body frame

    def forward(self, pose: torch.Tensor, shape: torch.Tensor) -> BodyOutput: ...

    def __call__(self, pose: torch.Tensor, shape: torch.Tensor) -> BodyOutput: ...

    def skinning_weights(self) -> torch.Tensor:
        """(V, J) linear-blend-skinning weights over ``joint_names`` (rows sum to 1), for the
        mesh ``forward(zero_pose, shape).vertices`` bound to the joints with identity rotations:
        used by exporters to rig the mesh (``docs/exports.md`` says how exact this is)."""
        ...


def pose_to_rotmat(pose: torch.Tensor, num_joints: int) -> torch.Tensor:
    """Accept ``(B, J, 3)`` axis-angle or ``(B, J, 3, 3)`` matrices; return ``(B, J, 3, 3)``."""
    if pose.ndim == 3 and pose.shape[1:] == (num_joints, 3):
        return roma.rotvec_to_rotmat(pose)
    if pose.ndim == 4 and pose.shape[1:] == (num_joints, 3, 3):
        return pose
    raise ValueError(
        f"pose must have shape (B, {num_joints}, 3) (axis-angle) or (B, {num_joints}, 3, 3) "
        f"(rotation matrices), got {tuple(pose.shape)}"
    )


def check_shape_vector(shape: torch.Tensor, shape_dim: int, batch: int) -> torch.Tensor:
    """Validate a ``(B, S)`` shape vector, broadcasting a ``(1, S)`` one to ``batch``."""
    if shape.ndim != 2 or shape.shape[1] != shape_dim:
        raise ValueError(f"shape must have shape (B, {shape_dim}), got {tuple(shape.shape)}")
    if shape.shape[0] not in (1, batch):
        raise ValueError(f"shape batch {shape.shape[0]} does not match pose batch {batch}")
    return shape.expand(batch, -1)
