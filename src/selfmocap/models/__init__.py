"""The paper's network and its pretrained weights."""

from selfmocap.models.network import BodyOutputSpec, MocapNet, Prediction, fixed_depth_camera
from selfmocap.models.config import NetworkConfig
from selfmocap.models.pretrained import ModelCard, Pretrained, export_pretrained, load_pretrained

__all__ = [
    "BodyOutputSpec",
    "MocapNet",
    "ModelCard",
    "NetworkConfig",
    "Pretrained",
    "Prediction",
    "export_pretrained",
    "fixed_depth_camera",
    "load_pretrained",
]
