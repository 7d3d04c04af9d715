from dataclasses import replace

import numpy as np
import pytest

from selfmocap.body.names import JOINT_NAMES
from selfmocap.export.skeleton import (
    RIG_TO_BODY,
    RestPose,
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


def _placed(motion, rotation: np.ndarray, translation) -> object:
    t = motion.num_frames
    world = replace(motion.world, rotation=np.tile(rotation, (t, 1, 1)), translation=np.tile(translation, (t, 1)))
    return replace(motion, world=world)


def test_world_frame_of_an_upright_body(body, motion):
    # body frame (x left, y down, z back) -> world (y up) by diag(1, -1, -1): the subject stands
    # upright facing world +z, head up (+y), left hand at +x; the root where the world frame puts it.
    still = _placed(motion, np.diag([1.0, -1.0, -1.0]), [0.5, 0.9, -4.0])
    world = world_motion(still, body)
    assert np.allclose(world.root_position, [0.5, 0.9, -4.0])
    assert np.allclose(world.rotations[:, 0], np.eye(3))
    rest = rest_pose(body, motion.shape)
    j = {n: rest.joints[i] for i, n in enumerate(JOINT_NAMES)}
    assert j["head"][1] > 0.5 > -0.5 > j["left_ankle"][1]  # y up, metres
    assert j["left_shoulder"][0] > 0 > j["right_shoulder"][0]  # x = subject's left
    kp = still.world.points(still.keypoints3d)
    assert kp[0, 0, 2] > kp[0, 3:5].mean(0)[2]  # the nose is in front of the ears: faces +z


def test_world_frame_of_a_turned_body(body, motion):
    # the body turned 90 degrees about the vertical: its left (body x) points to world -z
    turn = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]) @ np.diag([1.0, -1.0, -1.0])
    world = world_motion(_placed(motion, turn, [0.0, 0.9, -3.0]), body)
    assert np.allclose(world.rotations[:, 0] @ [1.0, 0.0, 0.0], [0.0, 0.0, -1.0], atol=1e-6)
    assert np.allclose(world.rotations[:, 0] @ [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], atol=1e-6)  # still upright
    assert np.allclose(world.rotations[:, 0], turn @ RIG_TO_BODY)
    assert np.allclose(np.linalg.det(world.rotations[:, 0]), 1.0)


def test_world_motion_needs_a_placed_motion(body, motion):
    with pytest.raises(ValueError, match="no world frame"):
        world_motion(replace(motion, world=None), body)


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
