"""SMPL-X (body pose only) through the whole pipeline with the commands' own entry points:
synth -> pretrain -> predict -> adapt -> evaluate -> capture and its exports, with
``--body-model smplx --body-model-path`` on the tiny SMPL-X model (one module-scoped run)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from selfmocap.cli import main
from selfmocap.data import list_clips
from selfmocap.data.predictions import read_prediction
from selfmocap.eval.evaluate import METRIC_KEYS
from selfmocap.models.pretrained import load_pretrained


@pytest.fixture(scope="module")
def smplx_run(tmp_path_factory, tiny_smplx_path):
    root = tmp_path_factory.mktemp("smplx-pipeline")
    path = ["--body-model-path", str(tiny_smplx_path)]
    data, run = root / "data", root / "run"
    assert main(["synth", "--out", str(data), "--split", "test", "--clips", "1", "--frames", "4", "--size", "64",
                 "--seed", "2", "--body-model", "smplx", *path]) == 0
    assert main(["pretrain", "--data", str(data), "--out", str(run), "--steps", "2", "--batch", "2", "--width", "4",
                 "--fc-factor", "4", "--workers", "0", "--threads", "1", "--val", f"val={data}", *path]) == 0
    common = ["--data", str(data), "--checkpoint", str(run / "pretrained.pt"), *path]
    assert main(["predict", "--out", str(root / "pred"), *common]) == 0
    assert main(["adapt", "--out", str(root / "adapted"), *common, "--iters", "2", "--batch", "1", "--lr", "1e-3"]) == 0
    return root, path


def test_clips_checkpoint_and_predictions_are_smplx(smplx_run, smplx_body):
    root, _ = smplx_run
    clip = list_clips(root / "data")[0]
    lab = clip.labels
    assert clip.meta.body_model == "smplx" and lab.pose.shape == (4, 21, 3) and lab.shape.shape == (10,)
    assert lab.joints3d.shape == (4, 22, 3) and lab.keypoints2d.shape == (4, 23, 3)
    out = smplx_body(torch.from_numpy(lab.pose), torch.from_numpy(lab.shape)[None])
    assert np.allclose(out.keypoints.numpy(), lab.keypoints3d, atol=1e-5)
    assert np.abs(lab.pose).max() > 0.1  # the procedural motion was retargeted onto SMPL-X's joints
    assert clip.mask(0).sum() > 50 and (lab.keypoints2d[..., 2] > 0).sum() > 40  # a visible person
    card = load_pretrained(root / "run" / "pretrained.pt").card
    assert card.body == {"body_model": "smplx", "pose_joints": 21, "shape_dim": 10, "shape_range": None}
    for method in ("pred", "adapted"):
        pred = read_prediction(root / method / "test_000000.npz")
        assert pred.body_model == "smplx" and pred.pose.shape == (4, 21, 3) and pred.shape.shape == (4, 10)
        assert pred.joints3d.shape == (4, 22, 3)


@pytest.mark.parametrize("method", ["pred", "adapted"])
def test_evaluate_smplx_predictions(smplx_run, method, tmp_path):
    root, path = smplx_run
    out = tmp_path / "metrics.json"
    assert main(["evaluate", "--pred", str(root / method), "--data", str(root / "data"), "--json", str(out), *path]) == 0
    overall = json.loads(out.read_text())["overall"]
    assert overall["frames"] == 4 and all(math.isfinite(overall[k]) and overall[k] > 0 for k in METRIC_KEYS[:4])


def test_capture_and_exports_with_smplx(smplx_run, tmp_path, capsys):
    """capture with the SMPL-X checkpoint on a video of the clip, with the user's own keypoints and
    masks; the BVH carries SMPL-X's 22 body joints and the exported skeleton's forward kinematics
    reproduces the captured joints."""
    import cv2

    from selfmocap.body import load_body_model
    from selfmocap.capture.demo import write_video
    from selfmocap.export import read_motion_npz
    from selfmocap.export.skeleton import body_to_world, forward_kinematics, rest_pose, world_motion

    root, path = smplx_run
    clip = list_clips(root / "data")[0]
    video = write_video((clip.rgb(t) for t in range(len(clip))), tmp_path / "smplx.mp4", clip.meta.fps)
    kp = clip.labels.keypoints2d[:, :17]
    coco = {
        "images": [{"id": t, "file_name": f"{t:03d}.png"} for t in range(len(clip))],
        "annotations": [{"image_id": t, "keypoints": np.concatenate([kp[t, :, :2] - 0.5, 2 * kp[t, :, 2:]], 1).ravel().tolist()}
                        for t in range(len(clip))],
    }
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    (tmp_path / "masks").mkdir()
    for t in range(len(clip)):
        cv2.imwrite(str(tmp_path / "masks" / f"{t:03d}.png"), clip.mask(t).astype(np.uint8) * 255)
    out = tmp_path / "capture"
    ckpt = str(root / "run" / "pretrained.pt")
    assert main(["capture", str(video), "--out", str(out), "--checkpoint", ckpt, *path, "--keypoints", str(tmp_path / "coco.json"),
                 "--masks", str(tmp_path / "masks"), "--iters", "2", "--batch", "1"]) == 0
    motion = read_motion_npz(out / "motion.npz")
    assert motion.body_model == "smplx" and motion.pose.shape == (4, 21, 3) and motion.joints3d.shape == (4, 22, 3)
    assert (out / "motion.glb").is_file() and (out / "overlay.mp4").is_file()
    assert (out / "motion.bvh").read_text().count("JOINT ") == 21  # 22 joints: the root and 21 more
    body = load_body_model("smplx", path[1])
    positions, _ = forward_kinematics(rest_pose(body, motion.shape), world_motion(motion, body))
    assert np.abs(positions - body_to_world(motion.joints3d.astype(np.float64), motion.camera)).max() < 1e-4
    # an SMPL-X checkpoint with --body-model smpl is refused in one line
    capsys.readouterr()
    assert main(["predict", "--data", str(root / "data"), "--out", str(tmp_path / "p"), "--checkpoint", ckpt,
                 "--body-model", "smpl", *path]) == 2
    err = capsys.readouterr().err
    assert "does not match" in err and err.count("\n") == 1
