"""A final per-frame fit after adaptation (not in the paper; ``docs/adaptation.md``).

The adapted network's prediction is the starting point, as SPIN and EFT refine a regressor's
output: per frame, the pose, the camera rotation, translation and focal length are optimised
against the video's own 2D measurements, with the body shape fixed for the whole video:

* keypoint re-projection (Eq. 4) and, every ``seg_every`` steps, the segmentation Chamfer term
  (Eq. 5; vertex visibility is ray cast once per window, on the starting meshes: the fit moves
  them little);
* mediapipe's 3D world landmarks aligned up to a similarity (``losses/world3d.py``), when given;
* temporal smoothness: squared acceleration of the camera-space keypoints, in units of 2 m;
* the joint-limit pose prior and an anchor to the starting pose (squared Frobenius distance of
  the bone rotations), which keeps what the network knows where the 2D evidence says nothing.

Frames are fitted in consecutive windows; each window sees the two refined frames before it as
fixed context of its smoothness term, so the windows join without a seam. A frame whose
keypoint re-projection error ends worse than where it started takes its starting parameters
back, so the fit never leaves a frame worse in 2D than the adapted prediction (with the shape
fixed). Frames without a detection are not fitted (their parameters are interpolated later).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable

import numpy as np
import roma
import torch
from tqdm import tqdm

from selfmocap.body.model import BodyModel
from selfmocap.body.retarget import pose_limit_violation
from selfmocap.data.predictions import ClipPrediction
from selfmocap.geometry.camera import Camera, project, reprojection_error, to_camera_space
from selfmocap.losses import keypoint_reprojection_loss, segmentation_chamfer_loss
from selfmocap.losses.world3d import REFERENCE_LENGTH
from selfmocap.adapt.config import RefineConfig
from selfmocap.adapt.network import to_clip_prediction
from selfmocap.adapt.objective import visibility, world3d_term
from selfmocap.adapt.optimize import FrameParameters


@dataclass(frozen=True)
class RefineTargets:
    """The 2D (and mediapipe 3D) measurements of T frames the fit compares with.

    Attributes:
        keypoints: (T, K, 3) input keypoints, frame pixels and (binary) confidence.
        side: (T,) person box side, frame pixels (normalises the 2D terms).
        detected: (T,) bool.
        masks: t0, t1 -> (t1 - t0, H, W) bool input silhouettes of frames [t0, t1).
        world: (T, K, 4) mediapipe's world landmarks (metres, own frame) and confidence, or None.
    """

    keypoints: torch.Tensor
    side: torch.Tensor
    detected: torch.Tensor
    masks: Callable[[int, int], torch.Tensor]
    world: torch.Tensor | None = None


def inputs_targets(inputs) -> RefineTargets:
    """The :class:`RefineTargets` of a clip's :class:`~selfmocap.adapt.inputs.ClipInputs`."""
    return RefineTargets(keypoints=inputs.keypoints_frame, side=inputs.box_side, detected=inputs.detected,
                         masks=lambda a, b: inputs.masks[a:b], world=inputs.world)


def video_shape(pred: ClipPrediction, detected: np.ndarray) -> np.ndarray:
    """(S,) one body shape for a video: the median over the frames with a person (all if none)."""
    return np.median(pred.shape[detected], axis=0) if detected.any() else np.median(pred.shape, axis=0)


def keypoint_errors(pred: ClipPrediction, keypoints: torch.Tensor) -> torch.Tensor:
    """(T,) :func:`~selfmocap.geometry.camera.reprojection_error` of a prediction's 2D keypoints."""
    return reprojection_error(torch.from_numpy(pred.keypoints2d).double(), keypoints.double())


def _window_loss(body: BodyModel, params: FrameParameters, idx: torch.Tensor, targets: RefineTargets,
                 config: RefineConfig, init_pose: torch.Tensor, context: torch.Tensor | None,
                 masks: torch.Tensor | None, visible: torch.Tensor | None) -> torch.Tensor:
    pose, shape, camera = params(torch.arange(len(idx)))
    out = body(pose, shape)
    det = targets.detected[idx].to(out.keypoints.dtype)
    kp = targets.keypoints[idx]
    side = targets.side[idx]
    total = config.keypoint * keypoint_reprojection_loss(out.keypoints, camera, kp[..., :2], kp[..., 2] * det[:, None],
                                                         scale=side)
    if masks is not None and visible is not None and config.segmentation > 0:
        points = project(out.vertices, camera)
        total = total + config.segmentation * segmentation_chamfer_loss(points, masks, visible, downsample=2, scale=side)
    if config.world3d > 0 and targets.world is not None:
        world = targets.world[idx]
        total = total + config.world3d * world3d_term(out.keypoints, camera, world, det, config.world3d_alignment)
    if config.smooth > 0:
        cam_kp = to_camera_space(out.keypoints, camera)
        track = cam_kp if context is None else torch.cat([context, cam_kp])
        if len(track) >= 3:
            accel = track[2:] - 2 * track[1:-1] + track[:-2]
            total = total + config.smooth * (accel**2).sum(-1).mean() / REFERENCE_LENGTH**2
    if config.anchor > 0:
        total = total + config.anchor * ((pose - init_pose) ** 2).sum((-1, -2)).mean()
    if config.prior > 0:
        total = total + config.prior * pose_limit_violation(body, pose).mean()
    return total


def refine_motion(body: BodyModel, start: ClipPrediction, shape: np.ndarray, targets: RefineTargets,
                  config: RefineConfig, progress: str | None = "refine", vertices: bool = False) -> ClipPrediction:
    """Fit every detected frame of ``start`` (T frames) to ``targets`` with the body ``shape`` (S,)
    fixed; return the refined prediction (shape set to ``shape`` in every frame; with
    ``vertices``, the meshes too)."""
    t_count = len(start.pose)
    cam0 = Camera.from_array(torch.from_numpy(start.camera).float())
    pose0 = roma.rotvec_to_rotmat(torch.from_numpy(start.pose).float())
    shape_t = torch.from_numpy(np.asarray(shape, np.float32))[None].expand(t_count, -1)
    valid = torch.from_numpy(start.valid.astype(bool))
    with torch.no_grad():
        initial = to_clip_prediction(body, pose0, shape_t, cam0, valid, vertices)
    if config.steps == 0 or not bool(targets.detected.any()):
        return initial
    pose = pose0.clone()
    rotation, trans, focal = cam0.rotation.clone(), cam0.trans.clone(), cam0.focal.clone()
    faces = body.faces.numpy()
    context = None
    starts = list(range(0, t_count, config.window))
    bar = tqdm(total=len(starts) * config.steps, desc=progress, disable=progress is None, unit="step")
    for a in starts:
        idx = torch.arange(a, min(a + config.window, t_count))
        if not bool(targets.detected[idx].any()):
            context = None
            bar.update(config.steps)
            continue
        depth = float(cam0.depth[idx].mean())
        params = FrameParameters(pose[idx], shape_t[idx], rotation[idx], trans[idx], focal[idx], cam0.principal[idx],
                                 depth, {"pose", "rotation", "translation"}, body.shape_range)
        optimizer = torch.optim.Adam([p for p in params.parameters() if p.requires_grad], lr=config.lr)
        masks = targets.masks(int(idx[0]), int(idx[-1]) + 1) if config.segmentation > 0 else None
        visible = None
        for step in range(config.steps):
            use_seg = masks is not None and step % config.seg_every == 0
            if use_seg and visible is None:
                with torch.no_grad():
                    p, s, c = params(torch.arange(len(idx)))
                    visible = visibility(body(p, s).vertices, c, faces) & targets.detected[idx][:, None]
            loss = _window_loss(body, params, idx, targets, config, pose0[idx], context,
                                masks if use_seg else None, visible if use_seg else None)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            bar.update(1)
        with torch.no_grad():
            p, s, c = params(torch.arange(len(idx)))
            pose[idx], rotation[idx], trans[idx], focal[idx] = p, c.rotation, c.trans, c.focal
            context = to_camera_space(body(p[-2:], s[-2:]).keypoints, c.index(slice(len(idx) - 2, len(idx))))
    bar.close()
    camera = cam0.replace(rotation=rotation, trans=trans, focal=focal)
    with torch.no_grad():
        refined = to_clip_prediction(body, pose, shape_t, camera, valid, vertices)
    # never worse in 2D than where a frame started; undetected frames keep their start
    worse = ~(keypoint_errors(refined, targets.keypoints) <= keypoint_errors(initial, targets.keypoints) + 1e-6)
    worse |= ~targets.detected
    if bool(worse.any()):
        keep = worse.numpy()
        merged = {}
        for f in fields(refined):
            value = getattr(refined, f.name)
            if isinstance(value, np.ndarray) and f.name != "valid":
                merged[f.name] = np.where(keep.reshape(-1, *[1] * (value.ndim - 1)), getattr(initial, f.name), value)
        refined = replace(refined, **merged)
    return refined
