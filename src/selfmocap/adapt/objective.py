"""The self-supervised objective on a batch of frame pairs, shared by test-time adaptation
(network weights) and the direct-optimization baseline (per-frame body parameters).

A batch holds B pairs (t, t + gap): tensors of 2B frames are laid out as the B frames t followed by
the B frames t + gap. Each term is normalised by the person's box side in frame pixels, so the
weights do not depend on resolution (``docs/losses.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from selfmocap.adapt.config import ObjectiveConfig
from selfmocap.adapt.inputs import ClipInputs
from selfmocap.body.retarget import pose_limit_violation
from selfmocap.body.model import BodyModel
from selfmocap.geometry.camera import Camera, project, to_camera_space
from selfmocap.losses import (
    LOSS_FIELDS,
    LOSS_NAMES,
    LossName,
    SelfSupervisedTerms,
    keypoint_reprojection_loss,
    motion_reprojection_loss,
    segmentation_chamfer_loss,
    segmentation_distance_map_loss,
    world_keypoint_loss,
)
from selfmocap.losses.world3d import WorldAlignment
from selfmocap.render.visibility import vertex_visibility


@dataclass(frozen=True)
class PairBatch:
    """Measurements of B frame pairs of one clip: frame indices ``t`` and ``t + gap``."""

    t: torch.Tensor  #: (B,) first frames
    frames: torch.Tensor  #: (2B,) all frames, t then t + gap
    keypoints: torch.Tensor  #: (2B, K, 3) frame pixels and confidence
    masks: torch.Tensor  #: (2B, H, W) bool
    flow: torch.Tensor  #: (B, H, W, 2) t -> t + gap
    flow_valid: torch.Tensor  #: (B, H, W)
    side: torch.Tensor  #: (2B,) person box side, frame pixels
    detected: torch.Tensor  #: (2B,) bool
    world: torch.Tensor | None = None  #: (2B, K, 4) 3D keypoint estimates (metres, own frame) and confidence


def pair_batch(inputs: ClipInputs, t: torch.Tensor) -> PairBatch:
    frames = torch.cat([t, t + inputs.gap])
    return PairBatch(
        t=t,
        frames=frames,
        keypoints=inputs.keypoints_frame[frames],
        masks=inputs.masks[frames],
        flow=inputs.flow[t],
        flow_valid=inputs.flow_valid[t],
        side=inputs.box_side[frames],
        detected=inputs.detected[frames],
        world=None if inputs.world is None else inputs.world[frames],
    )


def visibility(vertices: torch.Tensor, camera: Camera, faces: np.ndarray) -> torch.Tensor:
    """(N, V) bool vertex visibility by ray casting (section 3.1; no gradient)."""
    with torch.no_grad():
        cam = to_camera_space(vertices.detach(), camera.to(vertices.dtype)).float().numpy()
    return torch.from_numpy(np.stack([vertex_visibility(v, faces) for v in cam]))


def world3d_term(keypoints: torch.Tensor, camera: Camera, world: torch.Tensor, detected: torch.Tensor,
                 align: WorldAlignment) -> torch.Tensor:
    """The ``world3d`` loss of (N, K, 3) body-frame keypoints against (N, K, 4) mediapipe world
    landmarks with confidence; with ``scale`` alignment the keypoints are first turned into the
    camera's axes (mediapipe's world axes follow the camera), so the term also orients the body."""
    pred = to_camera_space(keypoints, camera) if align == "scale" else keypoints
    return world_keypoint_loss(pred, world[..., :3], world[..., 3] * detected[:, None], align)


def self_supervised_objective(
    body: BodyModel,
    pose: torch.Tensor,
    shape: torch.Tensor,
    camera: Camera,
    batch: PairBatch,
    config: ObjectiveConfig,
    faces: np.ndarray,
) -> tuple[torch.Tensor, SelfSupervisedTerms]:
    """Total loss and its terms for 2B frames: pose (2B, J, 3, 3), shape (2B, S), full-frame cameras."""
    enabled = config.losses
    out = body(pose, shape)
    zero = out.vertices.sum() * 0.0
    losses: dict[LossName, torch.Tensor] = dict.fromkeys(LOSS_NAMES, zero)
    det = batch.detected.to(out.vertices.dtype)
    conf = batch.keypoints[..., 2] * det[:, None]
    if "kpt" in enabled:
        losses["kpt"] = keypoint_reprojection_loss(out.keypoints, camera, batch.keypoints[..., :2], conf, scale=batch.side)
    if "seg" in enabled or "motion" in enabled:
        visible = visibility(out.vertices, camera, faces)
        visible &= batch.detected[:, None]
        points = project(out.vertices, camera)
        if "seg" in enabled:
            seg_loss = segmentation_chamfer_loss if config.segmentation_form == "chamfer" else segmentation_distance_map_loss
            losses["seg"] = seg_loss(points, batch.masks, visible, downsample=config.segmentation_downsample, scale=batch.side)
        if "motion" in enabled:
            b = len(batch.t)
            cam_t, cam_t1 = camera.index(slice(0, b)), camera.index(slice(b, 2 * b))
            losses["motion"] = motion_reprojection_loss(
                out.vertices[:b], out.vertices[b:], cam_t, cam_t1, batch.flow, visible[:b] & batch.detected[b:, None],
                batch.flow_valid, scale=batch.side[:b],
            )
    if "world3d" in enabled and batch.world is not None:
        losses["world3d"] = world3d_term(out.keypoints, camera, batch.world, det, config.world3d_alignment)
    terms = SelfSupervisedTerms(**{LOSS_FIELDS[name]: value for name, value in losses.items()})
    total = terms.total(config.weights)
    if config.prior > 0:
        total = total + config.prior * pose_limit_violation(body, pose).mean()
    return total, terms
