"""SMPL through the whole pipeline, with the commands' own entry points: synth -> pretrain ->
predict -> adapt -> optimize -> evaluate with ``--body-model smpl --body-model-path``, and the
errors that guard it (missing files, mixed body models)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from selfmocap.body.smpl_body import SMPL_PATH_ENV
from selfmocap.cli import main
from selfmocap.data import list_clips
from selfmocap.data.predictions import read_prediction, write_prediction
from selfmocap.eval.evaluate import METRIC_KEYS
from selfmocap.models.pretrained import load_pretrained
from pipeline_helpers import capture_with_user_cues, check_exported_skeleton


@pytest.fixture(scope="module")
def smpl_run(tmp_path_factory, tiny_smpl_path):
    root = tmp_path_factory.mktemp("smpl-pipeline")
    smpl = ["--body-model-path", str(tiny_smpl_path)]
    data, run = root / "data", root / "run"
    assert main(["synth", "--out", str(data), "--split", "test", "--clips", "1", "--frames", "4", "--size", "64",
                 "--seed", "2", "--body-model", "smpl", *smpl]) == 0
    assert main(["pretrain", "--data", str(data), "--out", str(run), "--steps", "2", "--batch", "2", "--width", "4",
                 "--fc-factor", "4", "--workers", "0", "--threads", "1", "--val", f"val={data}", *smpl]) == 0
    ckpt = str(run / "pretrained.pt")
    common = ["--data", str(data), "--checkpoint", ckpt, *smpl]
    assert main(["predict", "--out", str(root / "pred"), *common]) == 0
    assert main(["adapt", "--out", str(root / "adapted"), *common, "--iters", "2", "--batch", "1", "--lr", "1e-3"]) == 0
    assert main(["optimize", "--data", str(data), "--out", str(root / "optimized"), "--iters", "2", "--batch", "1", *smpl]) == 0
    return root, smpl


def test_synthetic_smpl_clips(smpl_run, smpl_body):
    root, _ = smpl_run
    clip = list_clips(root / "data")[0]
    lab = clip.labels
    assert clip.meta.body_model == "smpl" and lab.pose.shape == (4, 23, 3) and lab.shape.shape == (10,)
    assert lab.joints3d.shape == (4, 24, 3) and lab.keypoints2d.shape == (4, 23, 3)
    out = smpl_body(torch.from_numpy(lab.pose), torch.from_numpy(lab.shape)[None])
    assert np.allclose(out.keypoints.numpy(), lab.keypoints3d, atol=1e-5)
    assert clip.mask(0).sum() > 50 and (lab.keypoints2d[..., 2] > 0).sum() > 40  # a visible person


def test_checkpoint_and_predictions_are_smpl(smpl_run):
    root, _ = smpl_run
    card = load_pretrained(root / "run" / "pretrained.pt").card
    assert card.body == {"body_model": "smpl", "pose_joints": 23, "shape_dim": 10, "shape_range": None}
    for method in ("pred", "adapted", "optimized"):
        pred = read_prediction(root / method / "test_000000.npz")
        assert pred.body_model == "smpl" and pred.pose.shape == (4, 23, 3) and pred.shape.shape == (4, 10)
        assert pred.joints3d.shape == (4, 24, 3)


@pytest.mark.parametrize("method", ["pred", "adapted", "optimized"])
def test_evaluate_smpl_predictions(smpl_run, method, tmp_path, capsys):
    root, smpl = smpl_run
    out = tmp_path / "metrics.json"
    assert main(["evaluate", "--pred", str(root / method), "--data", str(root / "data"), "--json", str(out), *smpl]) == 0
    result = json.loads(out.read_text())
    assert result["overall"]["frames"] == 4
    assert all(math.isfinite(result["overall"][k]) and result["overall"][k] > 0 for k in METRIC_KEYS[:4])


def test_mismatched_body_models_and_missing_files_are_one_line_errors(smpl_run, tmp_path, capsys, monkeypatch):
    root, smpl = smpl_run
    pred = read_prediction(root / "pred" / "test_000000.npz")
    write_prediction(tmp_path / "anny", "test_000000", dataclasses.replace(pred, body_model="anny"))
    assert main(["evaluate", "--pred", str(tmp_path / "anny"), "--data", str(root / "data"), *smpl]) == 2
    err = capsys.readouterr().err
    assert "anny body model" in err and "smpl" in err and err.count("\n") == 1
    ckpt = str(root / "run" / "pretrained.pt")
    assert main(["predict", "--data", str(root / "data"), "--out", str(tmp_path / "p"), "--checkpoint", ckpt, "--body-model", "anny"]) == 2
    assert "does not match" in capsys.readouterr().err
    monkeypatch.delenv(SMPL_PATH_ENV, raising=False)
    assert main(["predict", "--data", str(root / "data"), "--out", str(tmp_path / "p"), "--checkpoint", ckpt]) == 2
    err = capsys.readouterr().err
    assert "https://smpl.is.tue.mpg.de" in err and err.count("\n") == 1
    monkeypatch.setenv(SMPL_PATH_ENV, smpl[1])  # the environment variable stands in for the flag
    assert main(["evaluate", "--pred", str(root / "pred"), "--data", str(root / "data")]) == 0
    capsys.readouterr()
    # an SMPL dataset folder is not resumed with Anny clips
    assert main(["synth", "--out", str(root / "data"), "--split", "test", "--clips", "2", "--frames", "4", "--size", "64", "--seed", "2"]) == 2
    assert "body_model=smpl" in capsys.readouterr().err


def test_capture_and_exports_with_smpl(smpl_run, smpl_body, tmp_path):
    """capture with the SMPL checkpoint, on a video of the SMPL clip, with the user's own keypoints
    (a COCO JSON) and masks (PNGs) instead of mediapipe; the exports carry SMPL's 24-joint skeleton
    and its forward kinematics reproduce the captured joints."""
    root, smpl = smpl_run
    out = capture_with_user_cues(list_clips(root / "data")[0], root / "run" / "pretrained.pt", smpl, tmp_path)
    assert len(smpl_body.joint_names) == 24
    check_exported_skeleton(out, smpl_body, frames=4)
