import math
from dataclasses import replace

import numpy as np
import pytest

from selfmocap.body.names import JOINT_NAMES
from selfmocap.export.skeleton import (
    RestPose,
    body_to_world,
    forward_kinematics,
    pose_axes_to_rig,
    rest_pose,
    world_motion,
)


def test_fk_of_pose_rotations_on_rest_offsets_reproduces_the_body_model(body, motion, world_reference):
    # Anny's local-ref pose rotations, conjugated into rig axes, are the rig's local rotations:
    # forward kinematics on the zero-pose skeleton gives body(pose, shape).joints (in the world).
    rest = rest_pose(body, motion.shape)
    positions, rotations = forward_kinematics(rest, world_motion(motion, body))
    joints_world, _ = world_reference
    assert np.abs(positions - joints_world).max() < 1e-5  # metres; float32 body model
    assert np.allclose(rotations @ rotations.transpose(0, 1, 3, 2), np.eye(3), atol=1e-9)


def test_anny_pose_axes_in_rig_axes(body):
    # Anny: x left, y back, z up; rig: x left, y up, z front.
    c = pose_axes_to_rig(body)
    assert np.allclose(c @ [1, 0, 0], [1, 0, 0]) and np.allclose(c @ [0, 1, 0], [0, 0, -1]) and np.allclose(c @ [0, 0, 1], [0, 1, 0])


def test_world_frame_of_an_identity_camera(body, motion):
    # R = I, T = (0, 0, 4): the subject stands 4 m in front of the camera facing it, i.e. facing
    # world +z (towards the camera at the origin), head up (+y), left hand at +x (image right).
    cam = motion.camera.copy()
    cam[:, 1:6] = 0.0
    cam[:, 6] = 4.0
    still = replace(motion, camera=cam)
    world = world_motion(still, body)
    assert np.allclose(world.root_position, [0.0, 0.0, -4.0])
    assert np.allclose(world.rotations[:, 0], np.eye(3))
    rest = rest_pose(body, motion.shape)
    j = {n: rest.joints[i] for i, n in enumerate(JOINT_NAMES)}
    assert j["head"][1] > 0.5 > -0.5 > j["left_ankle"][1]  # y up, metres
    assert j["left_shoulder"][0] > 0 > j["right_shoulder"][0]  # x = subject's left
    nose = body_to_world(still.keypoints3d, cam)[0, 0]
    ears = body_to_world(still.keypoints3d, cam)[0, 3:5].mean(0)
    assert nose[2] > ears[2]  # faces +z


def test_world_frame_of_a_turned_camera(body, motion):
    # beta = 90 deg: R = Ry(90) sends body x (the subject's left) to camera -z (towards the
    # camera); in the world (F = diag(1, -1, -1)) that is +z.
    cam = motion.camera.copy()
    cam[:, 1:4] = (0.0, math.pi / 2, 0.0)
    world = world_motion(replace(motion, camera=cam), body)
    assert np.allclose(world.rotations[:, 0] @ [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], atol=1e-6)
    assert np.allclose(world.rotations[:, 0] @ [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], atol=1e-6)  # still upright
    assert np.allclose(np.linalg.det(world.rotations[:, 0]), 1.0)


def test_body_to_world_is_camera_space_with_y_and_z_flipped(motion):
    cams = motion.cameras()
    points = motion.joints3d.astype(np.float64)
    x_cam = np.einsum("tij,tnj->tni", cams.rotation.numpy(), points) + cams.translation().numpy()[:, None]
    assert np.allclose(body_to_world(points, motion.camera), x_cam * [1.0, -1.0, -1.0])
    with pytest.raises(ValueError, match="need points"):
        body_to_world(points[0], motion.camera)


def test_depth_first_order_and_offsets():
    # 0 -> (1 -> 3), 2
    rest = RestPose(
        joint_names=("a", "b", "c", "d"),
        joint_parents=(-1, 0, 0, 1),
        joints=np.array([[0.0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 2, 0]]),
        vertices=np.zeros((0, 3)),
        faces=np.zeros((0, 3), int),
    )
    assert rest.depth_first_order() == [0, 1, 3, 2]
    assert np.array_equal(rest.offsets, [[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0]])
