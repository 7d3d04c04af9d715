"""``report.html``: what a capture run did and how well, as one page with PNG plots beside it.

Sections: headline numbers; the adaptation loss curves (``report_losses.png``); the 2D keypoint
re-projection error per frame before and after adaptation (``report_reprojection.png``); the
frames without a detected person; the acceleration (jitter) before and after smoothing; any
preview images; the run's config and versions. The page references only files in its folder.
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import platform
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from selfmocap.adapt.log import AdaptLogRow, plot_loss_curves
from selfmocap.io import atomic_path, write_text
from selfmocap.export.motion import format_frame_ranges, frame_ranges

LOSSES_PNG = "report_losses.png"
REPROJECTION_PNG = "report_reprojection.png"

#: Distributions whose versions :func:`collect_versions` reports.
VERSIONED_PACKAGES = ("torch", "numpy", "anny", "roma", "embreex", "opencv-python-headless", "trimesh", "pygltflib", "bvhio", "matplotlib")


def collect_versions() -> dict[str, str]:
    """Versions of Python, selfmocap and its main dependencies (``"absent"`` when not installed)."""
    from selfmocap import __version__

    versions = {"python": platform.python_version(), "selfmocap": __version__}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_reprojection(before: np.ndarray, after: np.ndarray, detected: np.ndarray, path: Path) -> None:
    """Per-frame re-projection error (pixels) before and after adaptation; frames without a
    person shaded red (their errors are not plotted)."""
    plt = _pyplot()
    frames = np.arange(len(before))
    fig, ax = plt.subplots(figsize=(9.0, 3.2))
    for (a, b) in frame_ranges(~detected):
        ax.axvspan(a - 0.5, b + 0.5, color="tab:red", alpha=0.15, lw=0)
    for values, label, style in ((before, "before adaptation", "tab:gray"), (after, "after adaptation", "tab:blue")):
        shown = np.where(detected, values, np.nan)
        ax.plot(frames, shown, color=style, lw=1.0, label=f"{label} (mean {np.nanmean(shown):.2f} px)")
    if (~detected).any():
        ax.plot([], [], color="tab:red", alpha=0.3, lw=6, label="no person detected")
    ax.set_xlabel("frame")
    ax.set_ylabel("keypoint re-projection error (px)")
    ax.set_xlim(-0.5, max(len(before) - 0.5, 0.5))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _table(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _number(value: float, unit: str) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.2f} {unit}"


def write_report(
    out_dir: str | Path,
    *,
    rows: Sequence[AdaptLogRow],
    reprojection_before: np.ndarray,
    reprojection_after: np.ndarray,
    detected: np.ndarray,
    acceleration_before: float,
    acceleration_after: float,
    config: Mapping[str, Any],
    versions: Mapping[str, str] | None = None,
    summary: Mapping[str, Any] | None = None,
    images: Sequence[str | Path] = (),
    title: str = "selfmocap capture report",
) -> Path:
    """Write ``out_dir/report.html`` and its PNGs (atomically, each); return the page's path.

    Args:
        rows: adaptation log rows (``AdaptLog.rows``; one curve per ``clip``). May be empty.
        reprojection_before, reprojection_after: (T,) mean 2D keypoint re-projection error per
            frame in pixels, before and after adaptation (NaN where unknown).
        detected: (T,) bool, frames where the detector found the person.
        acceleration_before, acceleration_after: joint acceleration (jitter) before and after
            temporal smoothing, mm / frame^2 (NaN when unknown).
        config: the run's resolved config (JSON-serialisable).
        versions: package versions; :func:`collect_versions` when None.
        summary: further facts to list (JSON-serialisable), e.g. timings.
        images: PNGs to show (e.g. an overlay frame); copied next to the page if elsewhere.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    before = np.asarray(reprojection_before, np.float64)
    after = np.asarray(reprojection_after, np.float64)
    detected = np.asarray(detected, bool)
    if not (before.ndim == 1 and before.shape == after.shape == detected.shape):
        raise ValueError(
            f"reprojection_before, reprojection_after and detected must all be (T,), got "
            f"{before.shape}, {after.shape}, {detected.shape}"
        )
    versions = dict(collect_versions() if versions is None else versions)
    num_frames = len(detected)
    missing = frame_ranges(~detected)

    sections = []
    sections.append(
        "<h2>Overview</h2>"
        + _table(
            [
                ("frames", str(num_frames)),
                ("frames without a person", f"{int((~detected).sum())} ({format_frame_ranges(missing)})"),
                ("mean re-projection error before adaptation", _number(np.nanmean(np.where(detected, before, np.nan)) if detected.any() else np.nan, "px")),
                ("mean re-projection error after adaptation", _number(np.nanmean(np.where(detected, after, np.nan)) if detected.any() else np.nan, "px")),
                ("acceleration before smoothing", _number(acceleration_before, "mm/frame²")),
                ("acceleration after smoothing", _number(acceleration_after, "mm/frame²")),
                ("adaptation steps", str(len(rows))),
            ]
        )
    )
    if rows:
        plot_loss_curves(rows, out_dir / LOSSES_PNG)
        sections.append(f'<h2>Adaptation losses</h2><img src="{LOSSES_PNG}" alt="adaptation loss curves">')
    else:
        sections.append("<h2>Adaptation losses</h2><p>No adaptation step was run.</p>")
    if num_frames:
        plot_reprojection(before, after, detected, out_dir / REPROJECTION_PNG)
        sections.append(
            "<h2>2D keypoint re-projection error</h2>"
            "<p>Mean distance in pixels between the detected 2D keypoints and the projected body keypoints, per frame.</p>"
            f'<img src="{REPROJECTION_PNG}" alt="re-projection error per frame">'
        )
    sections.append(
        "<h2>Frames without a person</h2>"
        + (
            "<p>The detector found the person in every frame.</p>"
            if not missing
            else f"<p>{int((~detected).sum())} of {num_frames} frames, ranges (first-last, 0-based): "
            f"{html.escape(format_frame_ranges(missing))}. The exported files still hold a keyframe for each of them; "
            "<code>motion.npz</code>'s <code>detected</code> marks them.</p>"
        )
    )
    sections.append(
        "<h2>Smoothing</h2><p>Joint acceleration (mean norm of the joints' second temporal difference, mm/frame²) "
        "before and after temporal smoothing.</p>"
        + _table([("before smoothing", _number(acceleration_before, "mm/frame²")), ("after smoothing", _number(acceleration_after, "mm/frame²"))])
    )
    shown = []
    for image in images:
        image = Path(image)
        if image.resolve().parent != out_dir.resolve():
            shutil.copyfile(image, out_dir / image.name)
        shown.append(f'<img src="{html.escape(image.name)}" alt="{html.escape(image.stem)}">')
    if shown:
        sections.append("<h2>Previews</h2>" + "".join(shown))
    if summary:
        sections.append(f"<h2>Summary</h2><pre>{html.escape(json.dumps(summary, indent=1, default=str))}</pre>")
    sections.append(f"<h2>Config</h2><pre>{html.escape(json.dumps(config, indent=1, default=str))}</pre>")
    sections.append("<h2>Versions</h2>" + _table([(k, str(v)) for k, v in versions.items()]))

    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: 2px 12px 2px 0; }}
th {{ font-weight: normal; color: #555; }} img {{ max-width: 100%; }}
pre {{ background: #f5f5f5; padding: 8px; overflow-x: auto; font-size: 12px; }}
</style></head>
<body><h1>{html.escape(title)}</h1>
{''.join(sections)}
</body></html>
"""
    path = out_dir / "report.html"
    write_text(path, page)
    return path
