"""cues.mediapipe: the mediapipe -> keypoint mapping, the log filter, and mediapipe on a synthetic frame."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from selfmocap.body.names import KEYPOINT_FLIP, KEYPOINT_NAMES
from selfmocap.cues import mediapipe as cues_module
from selfmocap.cues.mediapipe import (
    INSTALL_HINT,
    KEYPOINT_CONFIDENCE_THRESHOLD,
    MEDIAPIPE_LANDMARK_NAMES,
    FrameCues,
    PoseDetector,
    import_mediapipe,
    is_log_noise,
    mediapipe_to_keypoints,
    pose_model_path,
)
from selfmocap.errors import UserError

K = len(KEYPOINT_NAMES)


def test_landmark_names_follow_mediapipe():
    mp_pose = pytest.importorskip("mediapipe").solutions.pose
    assert MEDIAPIPE_LANDMARK_NAMES == tuple(p.name.lower() for p in mp_pose.PoseLandmark)


def test_mediapipe_to_keypoints_by_hand():
    landmarks = np.zeros((33, 4))
    landmarks[0] = [0.5, 0.25, -0.3, 0.99]  # nose
    landmarks[15] = [0.25, 0.5, 0.1, 0.9]  # LEFT_WRIST
    landmarks[16] = [0.75, 0.5, 0.1, 0.4]  # RIGHT_WRIST
    landmarks[31] = [0.1, 0.95, 0.0, 1.3]  # LEFT_FOOT_INDEX, visibility above 1
    landmarks[30] = [0.6, 0.9, 0.0, np.nan]  # RIGHT_HEEL, no visibility
    landmarks[1] = [0.9, 0.9, 0.0, 1.0]  # LEFT_EYE_INNER: not one of ours
    out = mediapipe_to_keypoints(landmarks, width=200, height=100)
    assert out.shape == (K, 3) and out.dtype == np.float32

    def at(name):
        return out[KEYPOINT_NAMES.index(name)].tolist()

    assert at("nose") == pytest.approx([100.0, 25.0, 0.99])
    assert at("left_wrist") == pytest.approx([50.0, 50.0, 0.9])  # mediapipe's left is the subject's left
    assert at("right_wrist") == pytest.approx([150.0, 50.0, 0.4])
    assert at("left_big_toe") == pytest.approx([20.0, 95.0, 1.0])  # clipped
    assert at("right_heel") == pytest.approx([120.0, 90.0, 0.0])  # NaN visibility -> 0
    assert at("left_eye") == [0.0, 0.0, 0.0]  # LEFT_EYE (2) is zero here; EYE_INNER is not used
    assert at("left_small_toe") == at("right_small_toe") == [0.0, 0.0, 0.0]  # no counterpart
    with pytest.raises(ValueError):
        mediapipe_to_keypoints(np.zeros((17, 4)), 10, 10)


def test_every_mapped_keypoint_takes_its_own_landmark():
    landmarks = np.column_stack([np.arange(33) / 33, np.arange(33) / 66, np.zeros(33), np.full(33, 0.8)])
    out = mediapipe_to_keypoints(landmarks, 33, 66)
    for k, name in enumerate(KEYPOINT_NAMES):
        if name in ("left_small_toe", "right_small_toe"):
            continue
        mp_name = {"left_big_toe": "left_foot_index", "right_big_toe": "right_foot_index"}.get(name, name)
        assert out[k, 0] == pytest.approx(MEDIAPIPE_LANDMARK_NAMES.index(mp_name)), name


@pytest.mark.parametrize("count, confidence, detected", [(4, 0.5, True), (3, 1.0, False), (4, 0.49, False)])
def test_detected_threshold(count, confidence, detected):
    assert KEYPOINT_CONFIDENCE_THRESHOLD == 0.5
    keypoints = np.zeros((K, 3), np.float32)
    keypoints[:count, 2] = confidence
    keypoints[count:, 2] = 0.3
    assert FrameCues(keypoints, None).detected is detected


def test_log_noise_patterns():
    assert is_log_noise("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    assert is_log_noise("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    assert is_log_noise("W0000 00:00:1795520344.167578   26284 inference_feedback_manager.cc:114] Feedback manager\n")
    assert is_log_noise("I0000 00:00:1795520344.16   26284 gl_context.cc:357] GL version\n")
    assert not is_log_noise("E0000 00:00:1795520756.506595   29134 calculator_graph.cc:928] INTERNAL: failed\n")
    assert not is_log_noise("Traceback (most recent call last):\n")


def test_stderr_filter_drops_noise_keeps_the_rest(capfd):
    quiet = cues_module._StderrFilter()
    with quiet():
        os.write(2, b"W0000 00:00:1.5   1 landmark_projection_calculator.cc:186] Using NORM_RECT\n")
        os.write(2, b"a real problem\n")
        print("python text", file=sys.stderr)
    quiet.close()
    err = capfd.readouterr().err
    assert "a real problem" in err and "python text" in err and "NORM_RECT" not in err


def test_mediapipe_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # makes "import mediapipe" raise ImportError
    with pytest.raises(UserError) as err:
        import_mediapipe()
    assert INSTALL_HINT in str(err.value) and "\n" not in str(err.value)


def test_model_choice_errors():
    with pytest.raises(UserError, match="0 \\(lite\\), 1 \\(full\\) or 2 \\(heavy\\)"):
        PoseDetector(model_complexity=3)
    mediapipe = pytest.importorskip("mediapipe")
    assert pose_model_path(mediapipe, 1).is_file()  # the full model ships in the wheel
    if pose_model_path(mediapipe, 2).is_file():
        pytest.skip("the heavy model was installed by hand")
    with pytest.raises(UserError, match="not installed and will not be downloaded"):
        PoseDetector(model_complexity=2)


def test_no_person_in_a_blank_frame():
    pytest.importorskip("mediapipe")
    with PoseDetector() as detector:
        for _ in range(2):
            cues = detector(np.full((120, 160, 3), 127, np.uint8))
        assert not cues.detected and cues.mask is None and not cues.keypoints.any()
        with pytest.raises(ValueError, match="one detector per video"):
            detector(np.zeros((100, 160, 3), np.uint8))
        with pytest.raises(ValueError, match="uint8"):
            detector(np.zeros((120, 160, 3), np.float32))


@pytest.fixture(scope="module")
def synthetic_clip(tmp_path_factory):
    """A 3-frame synthetic clip, 192 x 192: a person on a photo background facing the camera."""
    from selfmocap.data.clip import Clip
    from selfmocap.synth.config import SynthConfig
    from selfmocap.synth.run import generate

    out = tmp_path_factory.mktemp("synth")
    return Clip(generate(SynthConfig(out=out, split="test", clips=1, frames=3, seed=3, size=192))[0])


@pytest.mark.anny
def test_mediapipe_finds_the_synthetic_person(synthetic_clip):
    pytest.importorskip("mediapipe")
    clip = synthetic_clip
    with PoseDetector() as detector:
        for t in range(len(clip)):  # video mode: the first frame only seeds the tracker
            cues = detector(clip.rgb(t))
    truth = clip.labels.keypoints2d[-1]
    assert cues.detected
    seen = (truth[:, 2] > 0.5) & (cues.keypoints[:, 2] > 0)
    assert seen.sum() >= 12
    error = np.linalg.norm(cues.keypoints[seen, :2] - truth[seen, :2], axis=1)
    swapped = np.linalg.norm(cues.keypoints[list(KEYPOINT_FLIP)][seen, :2] - truth[seen, :2], axis=1)
    height = np.ptp(truth[:, 1])
    assert np.median(error) < 0.05 * height  # about 2 px on a 120-px person
    assert np.median(swapped) > 2 * np.median(error)  # left and right the right way round
    mask = clip.mask(len(clip) - 1)
    assert cues.mask is not None and cues.mask.shape == mask.shape
    assert (cues.mask & mask).sum() / (cues.mask | mask).sum() > 0.8
