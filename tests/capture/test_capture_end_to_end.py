"""``selfmocap capture`` end to end on a short synthetic video (mediapipe cues, DIS flow, the shipped
checkpoint, two adaptation steps), its outputs, and the bad inputs of the capture command.

Everything goes through ``selfmocap.cli.main``, the entry point of the ``selfmocap`` command.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from selfmocap.video import write_video
from selfmocap.cli import main
from selfmocap.data.clip import Clip
from selfmocap.synth.config import SynthConfig
from selfmocap.synth.run import generate

FRAMES = 6
FAST = ["--iters", "2", "--batch", "2"]
#: Every test here renders a clip with Anny, and most run a whole capture on it.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Clip:
    root = tmp_path_factory.mktemp("capture")
    # seed 3 of the test split: a person mediapipe finds in every frame at this size
    return Clip(generate(SynthConfig(out=root / "clip", split="test", clips=1, frames=FRAMES, seed=3, size=256))[0])


@pytest.fixture(scope="module")
def video(clip, tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / f"{clip.meta.clip_id}.mp4"
    return write_video((clip.rgb(t) for t in range(len(clip))), path, clip.meta.fps)


@pytest.fixture(scope="module")
def captured(video, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "result"
    assert main(["capture", str(video), "--out", str(out), *FAST]) == 0
    return out


def test_outputs_exist_and_agree(captured, clip):
    for name in ("motion.npz", "motion.glb", "motion.bvh", "overlay.mp4", "report.html", "run.json", "adapt_log.csv"):
        assert (captured / name).is_file(), name
    assert not (captured / "cache").exists()
    assert not list(captured.parent.glob(".result.partial-*"))
    from selfmocap.export import read_motion_npz

    motion = read_motion_npz(captured / "motion.npz")
    assert motion.num_frames == FRAMES and motion.fps == pytest.approx(clip.meta.fps)
    assert motion.detected.all()
    with np.load(captured / "motion.npz") as z:  # mediapipe's 3D landmarks kept for evaluate
        world = z["world_keypoints_input"]
    assert world.shape == (FRAMES, 23, 4) and (world[..., 3] > 0).any(axis=1).all()
    run = json.loads((captured / "run.json").read_text())
    assert run["summary"]["frames"] == FRAMES and run["summary"]["adaptation_steps"] == 2
    assert run["config"]["capture"]["iters"] == 2
    video = cv2.VideoCapture(str(captured / "overlay.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    assert int(video.get(cv2.CAP_PROP_FRAME_WIDTH)) == 2 * 256


def test_glb_and_bvh_have_every_frame(captured):
    import trimesh
    from pygltflib import GLTF2

    scene = trimesh.load(captured / "motion.glb")
    assert len(scene.geometry) >= 1
    gltf = GLTF2().load(str(captured / "motion.glb"))
    times = gltf.accessors[gltf.animations[0].samplers[0].input]
    assert times.count == FRAMES
    text = (captured / "motion.bvh").read_text()
    assert f"Frames: {FRAMES}" in text


def test_predictions_score_against_ground_truth(captured, clip):
    """The prediction files capture writes are what ``selfmocap evaluate`` reads."""
    from selfmocap.eval.evaluate import evaluate

    result = evaluate(captured / "predictions" / "adapted", clip.path.parent)
    assert result.overall.frames == FRAMES
    assert 0 < result.overall.per_joint_mm < 400  # a plausible body, not garbage


def test_refuses_an_existing_result_then_overwrites(captured, video, capsys):
    before = (captured / "run.json").stat().st_mtime_ns
    assert "--overwrite" in _one_line_error(["capture", str(video), "--out", str(captured), *FAST], capsys)
    assert (captured / "run.json").stat().st_mtime_ns == before


def test_interrupted_run_leaves_nothing(video, tmp_path, monkeypatch):
    import selfmocap.export as export

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "write_bvh", interrupted)
    out = tmp_path / "result"
    assert main(["capture", str(video), "--out", str(out), *FAST, "--no-overlay"]) == 130
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_one_frame_video_works_without_the_motion_loss(clip, tmp_path, capsys):
    path = write_video([clip.rgb(0)], tmp_path / "one.mp4", clip.meta.fps)
    out = tmp_path / "one"
    assert main(["capture", str(path), "--out", str(out), *FAST, "--no-overlay"]) == 0
    assert "adaptation is skipped" in capsys.readouterr().out  # says what is done: no adaptation at all
    run = json.loads((out / "run.json").read_text())
    assert run["summary"]["frames"] == 1
    assert run["summary"]["adaptation_steps"] == 0


def _one_line_error(argv, capsys) -> str:
    """Exit code 2 and exactly one error line (progress bars of the stages that ran aside), no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


def test_bad_inputs_give_one_line_errors(tmp_path, capsys, clip):
    out = str(tmp_path / "out")
    assert "missing.mp4" in _one_line_error(["capture", str(tmp_path / "missing.mp4"), "--out", out], capsys)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    _one_line_error(["capture", str(text), "--out", out], capsys)
    blank = write_video([np.full((128, 128, 3), 90, np.uint8)] * 3, tmp_path / "blank.mp4", 30.0)
    msg = _one_line_error(["capture", str(blank), "--out", out, *FAST], capsys)
    assert "no person" in msg
    assert not (tmp_path / "out").exists()


def test_user_keypoints_with_the_wrong_number_of_points(video, tmp_path, capsys):
    folder = tmp_path / "openpose"
    folder.mkdir()
    for t in range(FRAMES):
        people = [{"pose_keypoints_2d": [10.0, 10.0, 1.0] * 12}]
        (folder / f"f_{t:03d}_keypoints.json").write_text(json.dumps({"people": people}))
    msg = _one_line_error(["capture", str(video), "--out", str(tmp_path / "o"), "--keypoints", str(folder), *FAST], capsys)
    assert "12" in msg
