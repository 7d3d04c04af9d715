"""The notices ``selfmocap capture`` prints right after the 2D cues, checked on ``pipeline._capture``
with the cues stubbed out and the run stopped just after the notices (no network, no video)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from selfmocap.adapt.config import CropConfig
from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.capture import pipeline
from selfmocap.capture.summary import CaptureTimings


class Stop(Exception):
    pass


def notices(monkeypatch, tmp_path, detected, adapt: bool = True) -> str:
    detected = np.asarray(detected, bool)
    t_count = len(detected)
    cues = pipeline.Cues(np.zeros((t_count, len(KEYPOINT_NAMES), 3), np.float32), np.zeros((t_count, len(KEYPOINT_NAMES))),
                         detected, tmp_path, 0.0, 0.0)
    monkeypatch.setattr(pipeline, "gather_cues", lambda reader, source, work: cues)

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(pipeline, "crop_squares", stop)  # the first step after the notices
    config = SimpleNamespace(source=SimpleNamespace(), video=str(tmp_path / "clip.mp4"),
                             capture=SimpleNamespace(adapt=adapt, crop=CropConfig(box_smoothing=0)))
    reader = SimpleNamespace(info=SimpleNamespace(num_frames=t_count, size=(64, 48)))
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    with pytest.raises(Stop):
        pipeline._capture(config, reader, None, None, tmp_path, CaptureTimings(), 0.0)
    return "\n".join(printed)


def test_a_person_in_few_frames_is_warned_about(monkeypatch, tmp_path):
    detected = np.zeros(36, bool)
    detected[[5, 20]] = True
    text = notices(monkeypatch, tmp_path, detected)
    assert len(text.splitlines()) == 1
    for words in ("warning", "34 of the 36 frames", "interpolated", "--keypoints", "closer"):
        assert words in text, text


def test_no_warning_when_most_frames_have_a_person(monkeypatch, tmp_path):
    detected = np.ones(36, bool)
    detected[:18] = False  # exactly half: not more than half
    assert notices(monkeypatch, tmp_path, detected) == ""


def test_one_frame_notice_says_adaptation_is_skipped(monkeypatch, tmp_path):
    text = notices(monkeypatch, tmp_path, [True])
    assert "adaptation is skipped" in text and "pretrained" in text
    assert notices(monkeypatch, tmp_path, [True], adapt=False) == ""  # --no-adapt: nothing to tell
