"""`selfmocap evaluate` on hand-made predictions: ground truth gives zero, a known rotation gives
the known number."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from selfmocap.data import list_clips
from selfmocap.data.predictions import ClipPrediction, write_prediction
from selfmocap.eval.evaluate import evaluate
from selfmocap.body.metrics import METRIC_KEYPOINTS
from selfmocap.geometry.camera import euler_to_rotmat, rotmat_to_euler
from selfmocap.synth.config import SynthConfig
from selfmocap.synth.run import generate


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    out = tmp_path_factory.mktemp("ev") / "test"
    generate(SynthConfig(out=out, split="test", clips=1, frames=4, seed=5, size=64))
    return out


def _gt_prediction(clip) -> ClipPrediction:
    lab = clip.labels
    t = len(clip)
    return ClipPrediction(
        pose=lab.pose, shape=np.repeat(lab.shape[None], t, 0), camera=lab.camera, joints3d=lab.joints3d,
        keypoints3d=lab.keypoints3d, keypoints2d=lab.keypoints2d[..., :2], valid=np.ones(t, bool),
    )


def test_ground_truth_scores_zero(clips, tmp_path, body):
    clip = list_clips(clips)[0]
    write_prediction(tmp_path, clip.meta.clip_id, _gt_prediction(clip))
    result = evaluate(tmp_path, clips, body)
    for key in ("surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm"):
        assert getattr(result.overall, key) == pytest.approx(0.0, abs=1e-3)
    assert result.overall.frames == 4


def test_known_rotation_error(clips, tmp_path, body):
    """Rotating the predicted camera by 10 degrees about the view axis moves every keypoint by
    2 sin(5 deg) |R X| (its distance from the view axis); PA-MPJPE removes it entirely."""
    clip = list_clips(clips)[0]
    pred = _gt_prediction(clip)
    turn = euler_to_rotmat(torch.tensor([0.0, 0.0, math.radians(10)], dtype=torch.float64))
    true_rot = euler_to_rotmat(torch.from_numpy(pred.camera[:, 1:4]).double())
    camera = pred.camera.copy()
    camera[:, 1:4] = rotmat_to_euler(turn @ true_rot).numpy()
    write_prediction(tmp_path, clip.meta.clip_id, ClipPrediction(**{**pred.__dict__, "camera": camera}))
    result = evaluate(tmp_path, clips, body)
    kp = torch.from_numpy(clip.labels.keypoints3d[:, list(METRIC_KEYPOINTS)]).double() @ true_rot.transpose(1, 2)
    expected = (2 * math.sin(math.radians(5)) * kp[..., :2].norm(dim=-1)).mean().item() * 1000
    assert result.overall.per_joint_mm == pytest.approx(expected, rel=1e-3)
    assert result.overall.pa_mpjpe_mm == pytest.approx(0.0, abs=1e-2)


def test_invalid_frames_are_left_out(clips, tmp_path, body):
    clip = list_clips(clips)[0]
    pred = _gt_prediction(clip)
    valid = np.array([True, False, True, True])
    write_prediction(tmp_path, clip.meta.clip_id, ClipPrediction(**{**pred.__dict__, "valid": valid}))
    assert evaluate(tmp_path, clips, body).overall.frames == 3


def test_no_matching_predictions(clips, tmp_path, body):
    with pytest.raises(FileNotFoundError, match="no predictions"):
        evaluate(tmp_path, clips, body)
