"""Running the network on prepared clip inputs, and turning its output into predictions."""

from __future__ import annotations

import roma
import torch

from selfmocap.adapt.inputs import ClipInputs
from selfmocap.body.model import BodyModel, BodyOutput
from selfmocap.data.frames import network_input
from selfmocap.data.predictions import ClipPrediction
from selfmocap.geometry.camera import Camera, project
from selfmocap.geometry.crop import CropBox
from selfmocap.models.network import MocapNet, Prediction


def index_box(box: CropBox, idx) -> CropBox:
    return CropBox(offset=box.offset[idx], scale=box.scale[idx])


def run_network(net: MocapNet, inputs: ClipInputs, idx: torch.Tensor, sigma: float) -> tuple[Prediction, Camera]:
    """Network output for frames ``idx`` of a clip: the crop-frame prediction and its camera in
    full-frame pixels."""
    x = network_input(inputs.rgb_crops[idx], inputs.keypoints_crop[idx], sigma)
    pred = net(x, inputs.principal_crop[idx], None if inputs.world is None else inputs.world[idx])
    return pred, index_box(inputs.box, idx).camera_to_frame(pred.camera)


@torch.no_grad()
def predict_clip(
    net: MocapNet, body: BodyModel, inputs: ClipInputs, sigma: float, batch: int = 64, vertices: bool = False
) -> ClipPrediction:
    """Per-frame prediction of a whole clip (network in its current mode, no gradients)."""
    poses, shapes, cameras = [], [], []
    for start in range(0, inputs.num_frames, batch):
        idx = torch.arange(start, min(start + batch, inputs.num_frames))
        pred, camera = run_network(net, inputs, idx, sigma)
        poses.append(pred.pose)
        shapes.append(pred.shape)
        cameras.append(camera)
    pose, shape, camera = torch.cat(poses), torch.cat(shapes), Camera.cat(cameras)
    return to_clip_prediction(body, pose, shape, camera, inputs.detected, vertices)


@torch.no_grad()
def to_clip_prediction(
    body: BodyModel, pose: torch.Tensor, shape: torch.Tensor, camera: Camera, valid: torch.Tensor, vertices: bool = False
) -> ClipPrediction:
    """Pose (T, J, 3, 3), shape (T, S) and full-frame cameras -> the prediction file record."""
    out: BodyOutput = body(pose, shape)
    return ClipPrediction(
        pose=roma.rotmat_to_rotvec(pose).float().numpy(),
        shape=shape.float().numpy(),
        camera=camera.as_array().float().numpy(),
        joints3d=out.joints.float().numpy(),
        keypoints3d=out.keypoints.float().numpy(),
        keypoints2d=project(out.keypoints.to(camera.focal.dtype), camera).float().numpy(),
        valid=valid.numpy().astype(bool),
        vertices=out.vertices.float().numpy() if vertices else None,
        body_model=body.name,
    )
