from dataclasses import fields, replace

import numpy as np
import pytest

from selfmocap.body.names import JOINT_NAMES, KEYPOINT_NAMES
from selfmocap.export.motion import (
    MOTION_VERSION,
    CapturedMotion,
    format_frame_ranges,
    frame_ranges,
    read_motion_npz,
    write_motion_npz,
)
from selfmocap.export.world import WorldFrame
from export_helpers import FPS, IMAGE_SIZE, NUM_FRAMES

#: The world-frame keys version 2 added.
WORLD_KEYS = ("world_rotation", "world_translation", "world_from_camera", "world_focal", "contacts", "foot_offset")


def test_captured_motion_matches_the_body_model(motion, body):
    assert motion.body_model == "anny" and motion.fps == FPS and motion.image_size == IMAGE_SIZE
    assert motion.pose.shape == (NUM_FRAMES, 19, 3) and motion.pose.dtype == np.float32
    assert motion.joints3d.shape == (NUM_FRAMES, 20, 3)
    assert motion.keypoints2d.shape == (NUM_FRAMES, 23, 2)
    assert np.allclose(motion.joints3d[:, 0], 0.0, atol=1e-6)  # body frame: root at the origin
    # the 2D keypoints are the Eq. 3 projections of the 3D ones (hand-computed here)
    cams = motion.cameras()
    x = np.einsum("tij,tkj->tki", cams.rotation.numpy(), motion.keypoints3d) + cams.translation().numpy()[:, None]
    uv = motion.camera[:, None, 0:1] * x[..., :2] / x[..., 2:] + motion.camera[:, None, 7:9]
    assert np.allclose(uv, motion.keypoints2d, atol=1e-3)


def test_npz_round_trip(motion, tmp_path):
    extra = {"keypoints2d_input": np.arange(12.0).reshape(4, 3)}
    path = write_motion_npz(tmp_path / "motion.npz", motion, extra=extra)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.npz"]  # no temporary left behind
    back = read_motion_npz(path)
    for f in fields(CapturedMotion):
        if f.name != "world":
            a, b = getattr(motion, f.name), getattr(back, f.name)
            assert np.array_equal(a, b), f.name
    for f in fields(WorldFrame):  # float32 on file except the camera's transform and focal
        a, b = getattr(motion.world, f.name), getattr(back.world, f.name)
        assert np.allclose(a, b, atol=1e-6) and np.shape(a) == np.shape(b), f.name
    assert back.world.contacts.dtype == bool and back.world.contacts.shape == (NUM_FRAMES, 2)
    assert back.detected.dtype == bool and back.image_size == IMAGE_SIZE
    with np.load(path, allow_pickle=False) as z:
        assert int(z["version"]) == MOTION_VERSION and str(z["body_model"]) == "anny"
        assert tuple(z["joint_names"]) == JOINT_NAMES and tuple(z["pose_joint_names"]) == JOINT_NAMES[1:]
        assert tuple(z["keypoint_names"]) == KEYPOINT_NAMES and len(z["shape_names"]) == 6
        assert tuple(z["camera_layout"])[:2] == ("f", "alpha")
        assert np.array_equal(z["keypoints2d_input"], extra["keypoints2d_input"])
        assert z["world_rotation"].shape == (NUM_FRAMES, 3, 3) and z["world_from_camera"].shape == (4, 4)


def test_version_1_files_still_read_without_a_world_frame(motion, tmp_path):
    path = write_motion_npz(tmp_path / "motion.npz", motion)
    with np.load(path, allow_pickle=False) as z:
        new = {k: z[k] for k in z.files}
    old = {k: v for k, v in new.items() if k not in WORLD_KEYS}
    old["version"] = np.array(1)
    np.savez(tmp_path / "v1.npz", **old)
    back = read_motion_npz(tmp_path / "v1.npz")
    assert back.world is None and np.array_equal(back.pose, motion.pose)
    with pytest.raises(ValueError, match="no world frame"):
        write_motion_npz(tmp_path / "again.npz", back)
    del new["contacts"]
    np.savez(tmp_path / "v2.npz", **new)
    with pytest.raises(ValueError, match="lacks motion fields"):
        read_motion_npz(tmp_path / "v2.npz")


def test_npz_errors(motion, tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        write_motion_npz(tmp_path / "m.npz", motion, extra={"pose": np.zeros(3)})
    with pytest.raises(ValueError, match="unknown body model"):
        write_motion_npz(tmp_path / "m.npz", replace(motion, body_model="nobody"))
    np.savez(tmp_path / "other.npz", version=np.array(99))
    with pytest.raises(ValueError, match="motion format 99"):
        read_motion_npz(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz is not a readable"):
        read_motion_npz(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="missing.npz"):
        read_motion_npz(tmp_path / "missing.npz")


def test_record_checks_shapes(motion):
    with pytest.raises(ValueError, match=r"camera must be \(4, 9\)"):
        replace(motion, camera=motion.camera[:3])
    with pytest.raises(ValueError, match="detected must be bool"):
        replace(motion, detected=motion.detected.astype(int))
    with pytest.raises(ValueError, match="fps must be positive"):
        replace(motion, fps=0.0)
    with pytest.raises(ValueError, match="camera must be finite"):
        replace(motion, camera=np.where(np.arange(4)[:, None] == 2, np.nan, motion.camera))
    with pytest.raises(ValueError, match="one-to-one"):
        replace(motion, joints3d=motion.joints3d[:, :19])


@pytest.mark.parametrize(
    "mask, ranges, text",
    [
        ([], [], "none"),
        ([0, 0, 0], [], "none"),
        ([1, 1, 0, 1], [(0, 1), (3, 3)], "0-1, 3"),
        ([0, 1, 1, 1, 0, 0, 1, 1], [(1, 3), (6, 7)], "1-3, 6-7"),
    ],
)
def test_frame_ranges(mask, ranges, text):
    assert frame_ranges(np.array(mask, bool)) == ranges
    assert format_frame_ranges(ranges) == text
