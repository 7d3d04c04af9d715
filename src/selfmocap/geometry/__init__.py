"""Pure, batched geometry: the camera, crops, rotation helpers roma lacks, forward kinematics."""

from selfmocap.geometry.camera import Camera, euler_to_rotmat, project, rotmat_to_euler, to_camera_space
from selfmocap.geometry.crop import CropBox

__all__ = ["Camera", "CropBox", "euler_to_rotmat", "project", "rotmat_to_euler", "to_camera_space"]
