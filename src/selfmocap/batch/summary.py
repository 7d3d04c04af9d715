"""``DIR/summary.csv`` and ``DIR/summary.json``: one row per input, rewritten (atomically, through
:mod:`selfmocap.io`) each time a row changes, so a killed batch leaves a summary of what it did.

A row's numbers come from capture's own ``summary`` (what ``run_capture`` returns and what it
writes into ``run.json``): :func:`row_from_run` reads them back from a finished result folder,
the same for a result captured now and one kept from an earlier run.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

from selfmocap.io import write_csv, write_json

#: ``captured``: done in this run; ``complete``: a result of an earlier run, kept (resume);
#: ``failed``: every attempt failed (``error`` says why); ``pending``: not finished yet.
Status = Literal["captured", "complete", "failed", "pending"]
SUCCEEDED: frozenset[str] = frozenset({"captured", "complete"})


@dataclass(frozen=True)
class BatchRow:
    """One input's line of the summary."""

    name: str  #: its output subfolder
    input: str  #: the path of the video or image folder
    status: Status = "pending"
    error: str = ""  #: capture's one-line message (the last attempt's), or what stopped the worker
    attempts: int = 0  #: over every run of this batch
    frames: int | None = None
    frames_without_person: int | None = None
    fps: float | None = None
    reprojection_px: float | None = None  #: mean 2D keypoint error of the exported motion, pixels
    jitter_mm: float | None = None  #: jitter of the exported motion, mm/frame^2
    seconds: float | None = None  #: capture's own total time (the last attempt's wall time if it failed)
    #: CPU seconds (user + system, all threads) of the process that ran the last attempt, during it:
    #: what the capture cost in core-seconds whatever else ran on the machine (kept from the run
    #: that captured a ``complete`` row)
    cpu_seconds: float | None = None
    notes: str = ""  #: capture's warnings for this input (e.g. most frames without a person)
    stage_seconds: dict[str, float] = field(default_factory=dict)  #: capture's per-stage times (JSON only)

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCEEDED


#: The CSV columns: every field but the per-stage times (those are in the JSON).
CSV_COLUMNS = tuple(f.name for f in fields(BatchRow) if f.name != "stage_seconds")


def _finite(value) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def with_capture_summary(row: BatchRow, summary: dict) -> BatchRow:
    """``row`` with the numbers of capture's ``summary`` (``run.json["summary"]``)."""
    timings = summary.get("timings_s", {})
    return replace(
        row,
        frames=int(summary["frames"]),
        frames_without_person=int(summary["frames_without_person_count"]),
        fps=_finite(summary["fps"]),
        reprojection_px=_finite(summary["reprojection_px"]["exported"]),
        jitter_mm=_finite(summary["jitter"]["exported_mm"]),
        seconds=_finite(timings.get("total")),
        stage_seconds={k: float(v) for k, v in timings.items() if k != "total"},
        error="",
    )


def read_run(result: Path) -> dict | None:
    """``run.json`` of a finished capture folder, or None when there is none (or it is unreadable)."""
    try:
        run = json.loads((result / "run.json").read_text())
    except (OSError, ValueError):
        return None
    return run if isinstance(run, dict) and isinstance(run.get("summary"), dict) else None


def read_previous(out: Path) -> dict[str, BatchRow]:
    """The rows of an earlier run's ``summary.json`` by name (empty when there is none)."""
    try:
        payload = json.loads((out / "summary.json").read_text())
        names = {f.name for f in fields(BatchRow)}
        return {r["name"]: BatchRow(**{k: v for k, v in r.items() if k in names}) for r in payload["rows"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def counts(rows: list[BatchRow]) -> dict[str, int]:
    result = {status: 0 for status in ("captured", "complete", "failed", "pending")}
    for row in rows:
        result[row.status] += 1
    return result


def write_summary(out: Path, rows: list[BatchRow], config: dict) -> None:
    """Both summary files, atomically (a reader never sees a torn file)."""
    write_csv(out / "summary.csv", CSV_COLUMNS, [[_cell(getattr(r, c)) for c in CSV_COLUMNS] for r in rows])
    write_json(out / "summary.json", {"counts": counts(rows), "rows": [asdict(r) for r in rows], "config": config})


def _cell(value):
    return "" if value is None else value
