"""Supervised pretraining losses (Sec. 3, "Paired supervision from synthetic data").

Each term is a pure batched function; :func:`supervised_losses` gathers them into a
:class:`LossTerms` record and :class:`LossWeights` (config) weighs them. Lengths are in metres,
image errors in crop sides (pixels / S), so the terms are of comparable size at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from selfmocap.body.model import BodyOutput
from selfmocap.config import field
from selfmocap.geometry.camera import Camera, camera_oriented, pinhole_project
from selfmocap.losses import keypoint_reprojection_loss
from selfmocap.models.network import Prediction


@dataclass(frozen=True)
class LossWeights:
    """Weight of each supervised term in the total loss."""

    pose: float = field(1.0, help="bone rotations: squared Frobenius distance")
    shape: float = field(1.0, help="phenotypes: squared error")
    rotation: float = field(1.0, help="camera rotation: squared Frobenius distance")
    focal: float = field(1.0, help="focal length at depth D0: squared log ratio")
    root: float = field(1.0, help="root projection in the crop: squared error in crop sides")
    joints: float = field(1.0, help="3D joints in camera orientation, root-centred: mean distance (m)")
    vertices: float = field(1.0, help="mesh vertices in camera orientation, root-centred: mean distance (m)")
    reprojection: float = field(1.0, help="Eq. 4 keypoint reprojection: squared error in crop sides")


@dataclass(frozen=True)
class LossTerms:
    """Unweighted loss terms (scalars), named as in :class:`LossWeights`."""

    pose: torch.Tensor
    shape: torch.Tensor
    rotation: torch.Tensor
    focal: torch.Tensor
    root: torch.Tensor
    joints: torch.Tensor
    vertices: torch.Tensor
    reprojection: torch.Tensor

    def total(self, weights: LossWeights) -> torch.Tensor:
        return sum(getattr(weights, f.name) * getattr(self, f.name) for f in fields(self))

    def stacked(self) -> torch.Tensor:
        """(8,) the terms in field order (for logging and all-reduce)."""
        return torch.stack([getattr(self, f.name).detach() for f in fields(self)])

    @staticmethod
    def names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(LossTerms))


def rotation_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared Frobenius distance ``||R - R~||_F^2`` of (..., 3, 3) rotations."""
    return ((pred - target) ** 2).sum(dim=(-1, -2)).mean()


def point_distance_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance of (B, N, 3) points."""
    return (pred - target).norm(dim=-1).mean()


def root_projection(camera: Camera) -> torch.Tensor:
    """(B, 2) pixel where the root (body-frame origin) projects: ``f T / depth + c`` (Eq. 3)."""
    return pinhole_project(camera.translation(), camera.focal[:, None], camera.principal)


def supervised_losses(pred: Prediction, body: BodyOutput, target_pose: torch.Tensor, target_shape: torch.Tensor,
                      target_camera: Camera, target_body: BodyOutput, keypoints2d: torch.Tensor, size: int) -> LossTerms:
    """All terms for predicted vs true parameters and bodies.

    ``target_camera`` is the true camera moved to the network's fixed depth
    (:func:`~selfmocap.models.network.fixed_depth_camera`); ``keypoints2d`` (B, K, 2+) are the
    true crop keypoints.
    """
    rp, rt = pred.camera.rotation, target_camera.rotation
    return LossTerms(
        pose=rotation_loss(pred.pose, target_pose),
        shape=((pred.shape - target_shape) ** 2).mean(),
        rotation=rotation_loss(rp, rt),
        focal=((pred.camera.focal.log() - target_camera.focal.log()) ** 2).mean(),
        root=(((root_projection(pred.camera) - root_projection(target_camera)) / size) ** 2).sum(dim=-1).mean(),
        joints=point_distance_loss(camera_oriented(body.joints, rp), camera_oriented(target_body.joints, rt)),
        vertices=point_distance_loss(camera_oriented(body.vertices, rp), camera_oriented(target_body.vertices, rt)),
        # Eq. 4 on every keypoint (occluded ones too: synthetic targets are exact), in crop sides
        reprojection=keypoint_reprojection_loss(body.keypoints, pred.camera, keypoints2d[..., :2], scale=size),
    )
