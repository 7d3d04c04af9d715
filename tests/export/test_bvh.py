import numpy as np
import pytest

from selfmocap.body.names import JOINT_NAMES
from selfmocap.export.bvh import BVH_UNITS_PER_METRE, bvh_euler_to_rotations, rotations_to_bvh_euler, write_bvh
from export_helpers import FPS, NUM_FRAMES

bvhio = pytest.importorskip("bvhio")


@pytest.fixture(scope="module")
def bvh_path(body, motion, tmp_path_factory):
    return write_bvh(tmp_path_factory.mktemp("bvh") / "motion.bvh", motion, body)


def test_bvh_parses_with_the_expected_layout(bvh_path):
    parsed = bvhio.readAsBvh(str(bvh_path))
    assert parsed.FrameCount == NUM_FRAMES
    assert parsed.FrameTime == pytest.approx(1.0 / FPS)
    layout = [j for j, _, _ in parsed.Root.layout()]
    assert [j.Name for j in layout] == list(JOINT_NAMES)
    assert parsed.Root.Channels == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]
    assert all(j.Channels == ["Zrotation", "Xrotation", "Yrotation"] for j in layout[1:])
    leaves = [j for j in layout if not j.Children]
    assert {j.Name for j in leaves} == {"head", "left_wrist", "right_wrist", "left_ankle", "right_ankle"}
    assert all(5.0 < np.linalg.norm(list(j.EndSite)) < 40.0 for j in leaves)  # centimetres


def test_bvhio_forward_kinematics_reproduces_the_predicted_joints(bvh_path, world_reference):
    joints_world, _ = world_reference
    root = bvhio.readAsHierarchy(str(bvh_path))
    names = [j.Name for j, _, _ in root.layout()]
    for t in range(NUM_FRAMES):
        root.loadPose(t)
        got = np.array([list(j.PositionWorld) for j, _, _ in root.layout()]) / BVH_UNITS_PER_METRE
        want = joints_world[t, [JOINT_NAMES.index(n) for n in names]]
        assert np.abs(got - want).max() < 1e-3, f"frame {t}"  # < 1 mm


def test_euler_round_trip_and_unwrapping():
    rng = np.random.default_rng(1)
    angles = rng.uniform(-80, 80, size=(6, 2, 3))
    rotations = bvh_euler_to_rotations(angles)
    assert np.allclose(rotations_to_bvh_euler(rotations), angles, atol=1e-7)
    # a steady turn past 180 degrees stays continuous
    turn = np.zeros((40, 1, 3))
    turn[:, 0, 0] = np.linspace(0, 400, 40)  # Z
    assert np.allclose(rotations_to_bvh_euler(bvh_euler_to_rotations(turn)), turn, atol=1e-7)
