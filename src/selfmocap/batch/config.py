"""The options of ``selfmocap batch``: its own (inputs, output, workers, retries, Ray) and every
option of ``selfmocap capture`` but its input and output (``CaptureConfig``'s fields, taken from
it as they are: ``SourceOptions``, ``CaptureOptions``, body model, objective, and whatever capture
adds later), so a batch exposes exactly capture's flags and passes them on to every input."""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path

from selfmocap import config as cfg
from selfmocap.capture.config import CaptureConfig

#: Memory a Ray task declares by default, GiB: capture peaks at about 1.7 GiB whatever the video's
#: length (docs/capture.md, "Speed and memory"), plus headroom.
RAY_MEMORY_GIB = 3.0

#: CaptureConfig's fields that a batch sets per input; every other one is a batch option too.
PER_INPUT = ("video", "out")

_OWN = [
    ("inputs", Path, cfg.field(help="a folder (searched for videos and image folders) or a CSV/JSON manifest", flag="")),
    ("out", Path, cfg.field(help="output folder: one capture subfolder per input, summary.csv and summary.json")),
    ("jobs", int, cfg.field(1, help="worker processes on this machine (1: captures run in the batch process itself)")),
    ("threads", int, cfg.field(0, help="torch/OpenCV/OpenMP threads per worker (0: the machine's cores // --jobs; "
                                       "with --ray: 1); --jobs x --threads may not exceed the cores")),
    ("retries", int, cfg.field(1, help="attempts of a failed input beyond the first, in this run (capture's input "
                                       "errors are not retried: they would fail the same way)")),
    ("ray", typing.Optional[str], cfg.field(None, help="run each input as a task on the Ray cluster at this address "
                                                       "('auto': the one this machine belongs to); needs "
                                                       "selfmocap[ray] and a shared filesystem")),
    ("ray_memory", float, cfg.field(RAY_MEMORY_GIB, help="memory each Ray task declares, GiB")),
]


def _capture_fields() -> list[tuple[str, type, dataclasses.Field]]:
    hints = typing.get_type_hints(CaptureConfig)
    out = []
    for f in dataclasses.fields(CaptureConfig):
        if f.name in PER_INPUT:
            continue
        if f.default is not dataclasses.MISSING:
            copy = dataclasses.field(default=f.default, metadata=f.metadata)
        else:
            copy = dataclasses.field(default_factory=f.default_factory, metadata=f.metadata)
        out.append((f.name, hints[f.name], copy))
    return out


#: The batch's own options, then ``CaptureConfig``'s (all but ``PER_INPUT``), nested as in capture.
BatchConfig = dataclasses.make_dataclass("BatchConfig", [*_OWN, *_capture_fields()], frozen=True)
BatchConfig.__module__ = __name__
BatchConfig.__doc__ = "Options of selfmocap batch: its own, then every option of selfmocap capture (docs/batch.md)."

#: The capture options a batch passes on to every input.
CAPTURE_OPTIONS = tuple(name for name, _, _ in _capture_fields())


def machine_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
