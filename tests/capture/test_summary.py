"""capture.summary: the run.json layout of the summary record and the lines capture prints."""

from __future__ import annotations

import json

import pytest

from selfmocap.capture.summary import CaptureSummary, CaptureTimings, ReprojectionSummary, SmoothingSummary


def _summary(**kw) -> CaptureSummary:
    base = dict(
        clip_id="clip", frames=36, fps=29.97, size=(640, 360), frames_without_person="3-5", frames_without_person_count=3,
        reprojection_px=ReprojectionSummary(pretrained=9.5, adapted=6.25, exported=6.5),
        jitter_adapted_mm=4.0, jitter_exported_mm=1.5,
        smoothing=SmoothingSummary(level="medium", tolerance_px=2.0, frames_pulled_back=1),
        adaptation_steps=12, segments=1,
    )
    return CaptureSummary(**(base | kw))


def test_to_dict_is_the_run_json_summary():
    timings = CaptureTimings(decode=1.234, mediapipe=2.0, flow=0.5, crops=0.25, network=3.0, adapt=10.0, smoothing=0.1,
                             exports=4.0, total=21.111)
    summary = _summary(overlay="overlay.mp4", timings=timings)
    expected = {
        "clip_id": "clip", "frames": 36, "fps": 29.97, "size": [640, 360], "frames_without_person": "3-5",
        "frames_without_person_count": 3,
        "reprojection_px": {"pretrained": 9.5, "adapted": 6.25, "exported": 6.5},
        "jitter": {"adapted_mm": 4.0, "exported_mm": 1.5},
        "smoothing": {"level": "medium", "tolerance_px": 2.0, "frames_pulled_back": 1},
        "adaptation_steps": 12, "segments": 1, "overlay": "overlay.mp4",
        "timings_s": {"decode": 1.23, "mediapipe": 2.0, "flow": 0.5, "crops": 0.25, "network": 3.0, "adapt": 10.0,
                      "smoothing": 0.1, "exports": 4.0, "total": 21.11},
    }
    out = summary.to_dict()
    assert json.dumps(out) == json.dumps(expected)  # same keys in the same order
    assert "timings_s" not in _summary().to_dict() and "overlay" not in _summary().to_dict()


def test_optional_stages_appear_in_run_order():
    timings = CaptureTimings(refine=0.5, total=1.0)
    assert list(timings.as_dict()) == ["decode", "mediapipe", "flow", "crops", "network", "adapt", "refine",
                                       "smoothing", "exports", "total"]
    rp = ReprojectionSummary(pretrained=1.0, adapted=2.0, exported=3.0, refined=2.5)
    assert list(rp.as_dict()) == ["pretrained", "adapted", "refined", "exported"]
    assert list(_summary(world={"up": "y"}, overlay="o.mp4").to_dict())[-2:] == ["world", "overlay"]


def test_format_prints_what_capture_prints():
    summary = _summary(timings=CaptureTimings(decode=1.0, adapt=2.0, total=3.6))
    assert summary.format("out/x").splitlines() == [
        "captured 36 frames at 29.97 fps into out/x",
        "  frames without a person: 3-5 (3)",
        "  2D keypoint error (px): pretrained 9.50, adapted 6.25, exported 6.50",
        "  3D jitter (mm/frame^2): adapted 4.00, exported (medium smoothing) 1.50",
        "  time (s): decode 1.0, mediapipe 0.0, flow 0.0, crops 0.0, network 0.0, adapt 2.0, smoothing 0.0, "
        "exports 0.0, total 3.6 -> 10.00 frames/s",
    ]


@pytest.mark.parametrize("value", [float("nan")])
def test_nan_jitter_formats_without_error(value):
    assert "nan" in _summary(jitter_adapted_mm=value).format("o")
