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
from pipeline_helpers import capture_with_user_cues, check_exported_skeleton


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


def test_capture_and_exports_with_smplx(smplx_run, smplx_body, tmp_path, capsys):
    """capture with the SMPL-X checkpoint on a video of the clip, with the user's own keypoints and
    masks; the BVH carries SMPL-X's 22 body joints and the exported skeleton's forward kinematics
    reproduces the captured joints."""
    root, path = smplx_run
    ckpt = str(root / "run" / "pretrained.pt")
    out = capture_with_user_cues(list_clips(root / "data")[0], ckpt, path, tmp_path)
    assert len(smplx_body.joint_names) == 22
    check_exported_skeleton(out, smplx_body, frames=4)
    # an SMPL-X checkpoint with --body-model smpl is refused in one line
    capsys.readouterr()
    assert main(["predict", "--data", str(root / "data"), "--out", str(tmp_path / "p"), "--checkpoint", ckpt,
                 "--body-model", "smpl", *path]) == 2
    err = capsys.readouterr().err
    assert "does not match" in err and err.count("\n") == 1
