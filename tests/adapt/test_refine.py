"""The final per-frame fit (adapt/refine.py): it moves a perturbed start towards the 2D evidence
and never leaves a frame worse in 2D than it started."""

from __future__ import annotations

import numpy as np
import roma
import torch

from selfmocap.adapt.config import RefineConfig
from selfmocap.adapt.network import to_clip_prediction
from selfmocap.adapt.refine import RefineTargets, keypoint_errors, refine_motion
from selfmocap.geometry.camera import Camera, project


def _scene(body, t: int = 6):
    g = torch.Generator().manual_seed(0)
    pose = roma.rotvec_to_rotmat(torch.randn(t, body.num_pose_joints, 3, generator=g) * 0.15)
    shape = body.default_shape[None].expand(t, -1).float()
    camera = Camera(focal=torch.full((t,), 500.0), rotation=torch.eye(3).expand(t, 3, 3).clone(),
                    trans=torch.zeros(t, 2), depth=torch.full((t,), 4.0), principal=torch.full((t, 2), 128.0))
    with torch.no_grad():
        kp2d = project(body(pose, shape).keypoints, camera)
    keypoints = torch.cat([kp2d, torch.ones(t, kp2d.shape[1], 1)], dim=-1)
    detected = torch.ones(t, dtype=torch.bool)
    targets = RefineTargets(keypoints=keypoints, side=torch.full((t,), 256.0), detected=detected,
                            masks=lambda a, b: torch.zeros(b - a, 256, 256, dtype=torch.bool))
    noisy = pose @ roma.rotvec_to_rotmat(torch.randn(t, body.num_pose_joints, 3, generator=g) * 0.1)
    start = to_clip_prediction(body, noisy, shape, camera.replace(trans=camera.trans + 0.02), detected)
    return start, shape[0].numpy(), targets


def test_refine_reduces_the_2d_error_and_never_worsens_a_frame(body):
    start, shape, targets = _scene(body)
    config = RefineConfig(steps=25, window=4, segmentation=0.0, world3d=0.0)
    refined = refine_motion(body, start, shape, targets, config, progress=None)
    before, after = keypoint_errors(start, targets.keypoints), keypoint_errors(refined, targets.keypoints)
    assert torch.all(after <= before + 1e-3)  # a reverted frame is re-evaluated in float32
    assert after.mean() < 0.7 * before.mean()
    np.testing.assert_allclose(refined.shape, np.broadcast_to(shape, refined.shape.shape), atol=1e-6)


def test_zero_steps_only_fixes_the_shape(body):
    start, shape, targets = _scene(body, t=3)
    out = refine_motion(body, start, shape, targets, RefineConfig(steps=0), progress=None)
    np.testing.assert_allclose(out.pose, start.pose, atol=1e-6)
    np.testing.assert_allclose(out.camera, start.camera, atol=1e-6)
