"""Shared by the SMPL and SMPL-X pipeline tests: ``capture`` on a video of a synthetic clip with the
user's own cues (a COCO keypoint JSON and mask PNGs written from the clip's 2D labels, since
mediapipe does not find the tiny test bodies), and the check of its exported skeleton."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from selfmocap.capture.demo import write_video
from selfmocap.cli import main
from selfmocap.data.clip import Clip


def capture_with_user_cues(clip: Clip, checkpoint: Path, model_args: list[str], folder: Path) -> Path:
    """Run ``selfmocap capture`` (2 adaptation steps) on ``clip`` as a video; return its output folder."""
    video = write_video((clip.rgb(t) for t in range(len(clip))), folder / "clip.mp4", clip.meta.fps)
    kp = clip.labels.keypoints2d[:, :17]
    coco = {
        "images": [{"id": t, "file_name": f"{t:03d}.png"} for t in range(len(clip))],
        "annotations": [{"image_id": t, "keypoints": np.concatenate([kp[t, :, :2] - 0.5, 2 * kp[t, :, 2:]], 1).ravel().tolist()}
                        for t in range(len(clip))],
    }
    (folder / "coco.json").write_text(json.dumps(coco))
    (folder / "masks").mkdir()
    for t in range(len(clip)):
        cv2.imwrite(str(folder / "masks" / f"{t:03d}.png"), clip.mask(t).astype(np.uint8) * 255)
    out = folder / "capture"
    assert main(["capture", str(video), "--out", str(out), "--checkpoint", str(checkpoint), *model_args,
                 "--keypoints", str(folder / "coco.json"), "--masks", str(folder / "masks"), "--iters", "2", "--batch", "1"]) == 0
    return out


def check_exported_skeleton(out: Path, body, frames: int) -> None:
    """The capture's motion is ``body``'s, its BVH has ``body``'s joints, and forward kinematics of
    the exported skeleton reproduces the captured joints (< 0.1 mm)."""
    from selfmocap.export import read_motion_npz
    from selfmocap.export.skeleton import forward_kinematics, rest_pose, world_motion

    motion = read_motion_npz(out / "motion.npz")
    joints = len(body.joint_names)
    assert motion.body_model == body.name
    assert motion.pose.shape == (frames, joints - 1, 3) and motion.joints3d.shape == (frames, joints, 3)
    assert (out / "motion.glb").is_file() and (out / "overlay.mp4").is_file()
    assert (out / "motion.bvh").read_text().count("JOINT ") == joints - 1  # the root, then the others
    positions, _ = forward_kinematics(rest_pose(body, motion.shape), world_motion(motion, body))
    assert np.abs(positions - motion.world.points(motion.joints3d.astype(np.float64))).max() < 1e-4
