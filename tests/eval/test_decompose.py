"""The error decomposition of `selfmocap evaluate --decompose` on hand-made cases: the truth gives
zero, a known camera tilt and a known body scale give the known numbers in the right parts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from selfmocap.data import list_clips
from selfmocap.data.predictions import ClipPrediction, write_prediction
from selfmocap.eval.decompose import error_parts
from selfmocap.eval.evaluate import evaluate
from selfmocap.geometry.camera import euler_to_rotmat, rotmat_to_euler
from selfmocap.synth.config import SynthConfig
from selfmocap.synth.run import generate


def _points(b=3, k=17, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, k, 3, generator=g, dtype=torch.float64) * 0.4


def _rotations(b=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return euler_to_rotmat(torch.rand(b, 3, generator=g, dtype=torch.float64) - 0.5)


def test_truth_has_no_error():
    x, r = _points(), _rotations()
    parts = error_parts(x, r, x, r, x)
    for name in ("per_joint_mm", "true_rotation_mm", "true_rotation_size_mm", "true_pose_mm", "rotation_deg", "tilt_deg", "size_pct"):
        assert torch.allclose(getattr(parts, name), torch.zeros(3, dtype=torch.float64), atol=1e-6), name


def test_known_tilt_is_orientation_only():
    """A camera tilted by 12 degrees more about its x axis: all of it is global orientation."""
    x, r = _points(), _rotations()
    tilt = euler_to_rotmat(torch.tensor([math.radians(12), 0.0, 0.0], dtype=torch.float64))
    parts = error_parts(x, tilt @ r, x, r, x)
    assert torch.allclose(parts.rotation_deg, torch.full((3,), 12.0, dtype=torch.float64))
    assert torch.allclose(parts.tilt_deg, torch.full((3,), 12.0, dtype=torch.float64))
    assert torch.all(parts.per_joint_mm > 1.0)
    assert torch.allclose(parts.true_rotation_mm, torch.zeros(3, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(parts.true_pose_mm, parts.per_joint_mm)  # the pose is already true


def test_known_size_is_size_only():
    """A body 10 % too large: per-joint error 10 % of the mean keypoint distance from the root,
    size_pct = 100 log 1.1, and nothing left once size is removed."""
    x, r = _points(), _rotations()
    parts = error_parts(1.1 * x, r, x, r, 1.1 * x)
    expected = 0.1 * x.norm(dim=-1).mean(-1) * 1000
    assert torch.allclose(parts.per_joint_mm, expected)
    assert torch.allclose(parts.true_rotation_mm, expected)
    assert torch.allclose(parts.size_pct, torch.full((3,), 100 * math.log(1.1), dtype=torch.float64))
    assert torch.allclose(parts.true_rotation_size_mm, torch.zeros(3, dtype=torch.float64), atol=1e-6)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    out = tmp_path_factory.mktemp("dec") / "test"
    generate(SynthConfig(out=out, split="test", clips=1, frames=3, seed=6, size=64))
    return out


def test_evaluate_decompose(clips, tmp_path, body):
    """On a clip: the truth decomposes to zeros; a tilted camera shows up as tilt, not as pose."""
    clip = list_clips(clips)[0]
    lab = clip.labels
    t = len(clip)
    truth = ClipPrediction(pose=lab.pose, shape=np.repeat(lab.shape[None], t, 0), camera=lab.camera, joints3d=lab.joints3d,
                           keypoints3d=lab.keypoints3d, keypoints2d=lab.keypoints2d[..., :2], valid=np.ones(t, bool))
    write_prediction(tmp_path / "truth", clip.meta.clip_id, truth)
    parts = evaluate(tmp_path / "truth", clips, body, decompose=True).decomposition.overall
    assert parts.frames == t
    for key in ("per_joint_mm", "true_rotation_mm", "true_pose_mm", "rotation_deg", "keypoints2d_px"):
        assert getattr(parts, key) == pytest.approx(0.0, abs=1e-2), key

    camera = lab.camera.copy()
    tilt = euler_to_rotmat(torch.tensor([math.radians(8), 0.0, 0.0], dtype=torch.float64))
    camera[:, 1:4] = rotmat_to_euler(tilt @ euler_to_rotmat(torch.from_numpy(lab.camera[:, 1:4]).double())).numpy()
    write_prediction(tmp_path / "tilted", clip.meta.clip_id, ClipPrediction(**{**truth.__dict__, "camera": camera}))
    result = evaluate(tmp_path / "tilted", clips, body, decompose=True)
    parts = result.decomposition.overall
    assert parts.tilt_deg == pytest.approx(8.0, abs=1e-3)
    assert parts.per_joint_mm == pytest.approx(result.overall.per_joint_mm, rel=1e-4)
    assert parts.true_rotation_mm == pytest.approx(0.0, abs=1e-2)
