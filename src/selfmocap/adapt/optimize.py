"""``selfmocap optimize``: the paper's direct-optimization baseline. Pose, shape, rotation,
translation and focal length of every frame are optimised directly with the same
self-supervised objective as adaptation (no network), by gradient descent (Adam).

Initialisations (Table 1; the ground-truth ones are named for what they are in every output):

* ``random``: rest pose plus small noise, average shape, upright body turned to a random heading,
  focal and translation from the 2D keypoints' box;
* ``gt-rotation``: as ``random`` with the ground-truth global rotation R;
* ``gt-rotation-translation``: as ``gt-rotation`` with the ground-truth root translation and focal
  (rescaled to the fixed depth);
* ``gt-pose``: ground-truth pose, rotation and translation; only shape and focal are optimised.

The camera keeps the network's fixed root depth D0, so the methods are compared on equal terms.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import roma
import torch
from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap.adapt.config import Init, OptimizeConfig
from selfmocap.adapt.log import AdaptLog
from selfmocap.adapt.inputs import ClipInputs, prepare_inputs, read_clips
from selfmocap.adapt.network import to_clip_prediction
from selfmocap.adapt.objective import pair_batch, self_supervised_objective
from selfmocap.body.model import BodyModel
from selfmocap.data.clip import Clip, clips_body_model
from selfmocap.data.predictions import check_predictions_out, write_prediction, write_run_info
from selfmocap.geometry.camera import Camera, back_project, euler_to_rotmat
from selfmocap.models.network import fixed_depth_camera

METHOD_NAMES = {
    "random": "optimization",
    "gt-rotation": "optimization+gt-R",
    "gt-rotation-translation": "optimization+gt-R+gt-T",
    "gt-pose": "optimization+gt-pose",
}


class FrameParameters(torch.nn.Module):
    """Per-frame body and camera parameters of one clip (T frames). A bounded shape (Anny's, in
    ``shape_range``) is optimised through a logit, an unbounded one (SMPL betas) directly."""

    def __init__(self, pose: torch.Tensor, shape: torch.Tensor, rotation: torch.Tensor, trans: torch.Tensor,
                 focal: torch.Tensor, principal: torch.Tensor, depth: float, trainable: set[str],
                 shape_range: tuple[float, float] | None = (0.0, 1.0)):
        super().__init__()
        six = lambda r: r[..., :, :2].clone()  # noqa: E731  6D rotation: first two columns
        self.pose6d = torch.nn.Parameter(six(pose), requires_grad="pose" in trainable)
        self.shape_range = shape_range
        if shape_range is not None:
            lo, hi = shape_range
            shape = torch.logit(((shape - lo) / (hi - lo)).clamp(0.02, 0.98))
        self.shape_logit = torch.nn.Parameter(shape.clone(), requires_grad="shape" in trainable)
        self.rot6d = torch.nn.Parameter(six(rotation), requires_grad="rotation" in trainable)
        self.trans = torch.nn.Parameter(trans.clone(), requires_grad="translation" in trainable)
        self.log_focal = torch.nn.Parameter(focal.log(), requires_grad=True)
        self.register_buffer("principal", principal)
        self.depth = depth

    def forward(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Camera]:
        pose = roma.special_gramschmidt(self.pose6d[idx])
        camera = Camera(
            focal=self.log_focal[idx].exp(),
            rotation=roma.special_gramschmidt(self.rot6d[idx]),
            trans=self.trans[idx],
            depth=torch.full((len(idx),), self.depth),
            principal=self.principal[idx],
        )
        shape = self.shape_logit[idx]
        if self.shape_range is not None:
            lo, hi = self.shape_range
            shape = lo + (hi - lo) * torch.sigmoid(shape)
        return pose, shape, camera


def initial_parameters(clip: Clip, inputs: ClipInputs, init: Init, depth: float, rng: np.random.Generator,
                       body: BodyModel) -> FrameParameters:
    """The initialisation of Table 1's optimisation rows; ground truth only where ``init`` names it."""
    t = inputs.num_frames
    principal = inputs.principal_frame.expand(t, 2).clone()
    pose = roma.rotvec_to_rotmat(torch.from_numpy(rng.normal(0, 0.05, size=(t, body.num_pose_joints, 3))).float())
    shape = body.default_shape.float().expand(t, body.shape_dim).clone()
    heading = float(rng.uniform(-math.pi, math.pi))
    rotation = euler_to_rotmat(torch.tensor([0.0, heading, 0.0])).expand(t, 3, 3).clone()
    # focal and translation from the 2D keypoints: a 1.7 m person spans the keypoints' box height
    kp = inputs.keypoints_frame
    focal, trans = torch.empty(t), torch.empty(t, 2)
    for i in range(t):
        vis = kp[i, :, 2] > 0
        pts = kp[i, vis, :2] if vis.sum() >= 2 else inputs.box.crop_to_frame(torch.full((1, 2, 2), 64.0))[0]
        height = float((pts[:, 1].max() - pts[:, 1].min()).clamp_min(8.0))
        focal[i] = height * depth / 1.6
        trans[i] = back_project(pts.mean(0), depth, focal[i], principal[i])
    trainable = {"pose", "shape", "rotation", "translation"}
    if init != "random":
        true = fixed_depth_camera(Camera.from_array(torch.from_numpy(clip.labels.camera).float()), depth)
        rotation = true.rotation.clone()
    if init in ("gt-rotation-translation", "gt-pose"):
        trans, focal = true.trans.clone(), true.focal.clone()
    if init == "gt-pose":
        pose = roma.rotvec_to_rotmat(torch.from_numpy(clip.labels.pose).float())
        trainable = {"shape"}  # and the focal length, always
    return FrameParameters(pose, shape, rotation, trans, focal, principal, depth, trainable, body.shape_range)


def optimize_clip(clip: Clip, inputs: ClipInputs, body, config: OptimizeConfig, log: AdaptLog | None = None,
                  progress: bool = True):
    """Optimise one clip's per-frame parameters; return its :class:`ClipPrediction`."""
    rng = np.random.default_rng([config.seed, int(clip.meta.seed), len(clip)])
    params = initial_parameters(clip, inputs, config.init, config.depth, rng, body)
    optimizer = torch.optim.Adam([p for p in params.parameters() if p.requires_grad], lr=config.lr)
    faces = body.faces.numpy()
    n_pairs = max(inputs.num_frames - inputs.gap, 0)
    bar = tqdm(range(config.iters if n_pairs else 0), desc=f"optimize {inputs.clip_id}", disable=not progress, unit="step")
    for step in bar:
        t = torch.from_numpy(rng.choice(n_pairs, size=min(config.batch, n_pairs), replace=False))
        batch = pair_batch(inputs, t)
        pose, shape, camera = params(batch.frames)
        total, terms = self_supervised_objective(body, pose, shape, camera, batch, config.objective, faces)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        if log is not None:
            log.add(step, inputs.clip_id, float(total.detach()), terms)
    with torch.no_grad():
        pose, shape, camera = params(torch.arange(inputs.num_frames))
    return to_clip_prediction(body, pose, shape, camera, inputs.detected, config.vertices)


def run_optimize(config: OptimizeConfig) -> Path:
    """``selfmocap optimize``; bad inputs (clips, ``--out``) are one-line ``UserError``s before any work."""
    started = time.perf_counter()
    clips = read_clips(config.data, body=config.body)
    check_predictions_out(config.out)
    body = config.body.load(clips_body_model(clips, config.data), f"the clips of {config.data}")
    log = AdaptLog()
    for clip in clips:
        inputs = prepare_inputs(clip, config.input, world="world3d" in config.objective.losses)
        write_prediction(config.out, clip.meta.clip_id, optimize_clip(clip, inputs, body, config, log))
    log.write(config.out)
    write_run_info(config.out, METHOD_NAMES[config.init], init=config.init, config=cfg.to_dict(config),
                   ground_truth_used=[] if config.init == "random" else [config.init], seconds=time.perf_counter() - started)
    return config.out
