"""What one ``capture`` run did, as records: :class:`CaptureTimings` (seconds per stage) and
:class:`CaptureSummary` (frames, errors, jitter, smoothing, adaptation, timings).

``CaptureSummary.to_dict()`` is the ``summary`` object of ``run.json`` (and of the HTML report);
``CaptureSummary.format()`` is what ``selfmocap capture`` and ``selfmocap demo`` print. Both the
CLI and the demo import this module, and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class CaptureTimings:
    """Wall-clock seconds per stage of one capture run, in the order the stages run. A stage left
    at None did not run in this version of the pipeline and is not reported."""

    decode: float = 0.0
    mediapipe: float = 0.0
    flow: float = 0.0
    crops: float = 0.0
    network: float = 0.0
    adapt: float = 0.0
    refine: float | None = None
    smoothing: float = 0.0
    exports: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """Stage name -> seconds, in run order, the stages that ran."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class ReprojectionSummary:
    """Mean 2D keypoint error (pixels) of each stage's motion against the input keypoints."""

    pretrained: float
    adapted: float
    exported: float
    refined: float | None = None  #: after the final per-frame fit, where it ran

    def as_dict(self) -> dict[str, float]:
        out = {"pretrained": self.pretrained, "adapted": self.adapted}
        if self.refined is not None:
            out["refined"] = self.refined
        out["exported"] = self.exported
        return out


@dataclass(frozen=True)
class SmoothingSummary:
    """The smoothing the exports got: its level, the 2D tolerance, and how many frames were
    pulled back towards the unsmoothed motion to stay within it."""

    level: str
    tolerance_px: float
    frames_pulled_back: int


@dataclass
class CaptureSummary:
    """What one capture run did (``run.json``'s ``summary``).

    Attributes:
        clip_id: the video's name.
        frames: frames analysed.
        fps: their frame rate.
        size: (W, H) of the analysed frames.
        frames_without_person: the frame ranges without a person, as text (``"3-5, 9"``).
        frames_without_person_count: how many frames those are.
        reprojection_px: mean 2D keypoint error per stage.
        jitter_adapted_mm, jitter_exported_mm: mean 3D keypoint acceleration, mm/frame^2, of the
            adapted and of the exported (smoothed) motion.
        smoothing: what the smoothing did.
        adaptation_steps: optimisation steps of test-time adaptation, all segments.
        segments: how many segments the video was cut into.
        world: the exports' world frame (:func:`selfmocap.export.world_summary`), once placed.
        overlay: the overlay video's file name, when one was written.
        timings: seconds per stage, once the run is complete.
    """

    clip_id: str
    frames: int
    fps: float
    size: tuple[int, int]
    frames_without_person: str
    frames_without_person_count: int
    reprojection_px: ReprojectionSummary
    jitter_adapted_mm: float
    jitter_exported_mm: float
    smoothing: SmoothingSummary
    adaptation_steps: int
    segments: int
    world: dict[str, Any] | None = None
    overlay: str | None = None
    timings: CaptureTimings | None = field(default=None)

    def rounded_timings(self) -> dict[str, float]:
        """The timings as ``run.json`` stores them (seconds, two decimals); empty before the end."""
        return {} if self.timings is None else {k: round(v, 2) for k, v in self.timings.as_dict().items()}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``run.json``'s ``summary`` (keys in this order; absent parts left out)."""
        out: dict[str, Any] = {
            "clip_id": self.clip_id,
            "frames": self.frames,
            "fps": self.fps,
            "size": list(self.size),
            "frames_without_person": self.frames_without_person,
            "frames_without_person_count": self.frames_without_person_count,
            "reprojection_px": self.reprojection_px.as_dict(),
            "jitter": {"adapted_mm": self.jitter_adapted_mm, "exported_mm": self.jitter_exported_mm},
            "smoothing": {"level": self.smoothing.level, "tolerance_px": self.smoothing.tolerance_px,
                          "frames_pulled_back": self.smoothing.frames_pulled_back},
            "adaptation_steps": self.adaptation_steps,
            "segments": self.segments,
        }
        if self.world is not None:
            out["world"] = self.world
        if self.overlay is not None:
            out["overlay"] = self.overlay
        if self.timings is not None:
            out["timings_s"] = self.rounded_timings()
        return out

    def format(self, out: Path | str) -> str:
        """The lines ``selfmocap capture`` prints when done (``out``: the result folder)."""
        rp = self.reprojection_px
        lines = [
            f"captured {self.frames} frames at {self.fps:.2f} fps into {out}",
            f"  frames without a person: {self.frames_without_person} ({self.frames_without_person_count})",
            f"  2D keypoint error (px): pretrained {rp.pretrained:.2f}, adapted {rp.adapted:.2f}, "
            f"exported {rp.exported:.2f}",
            f"  3D jitter (mm/frame^2): adapted {self.jitter_adapted_mm:.2f}, exported ({self.smoothing.level} smoothing) "
            f"{self.jitter_exported_mm:.2f}",
        ]
        if self.timings is not None:
            t = self.rounded_timings()
            fps = self.frames / max(t["total"], 1e-9)
            lines.append("  time (s): " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()) + f" -> {fps:.2f} frames/s")
        return "\n".join(lines)
