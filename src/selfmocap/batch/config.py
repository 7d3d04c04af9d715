"""The options of ``selfmocap batch``: its own (inputs, output, workers, retries, Ray) and, nested
unchanged, capture's (``SourceOptions``, ``CaptureOptions``, body model, objective), so a batch
exposes exactly the flags of ``selfmocap capture`` and passes them on to every input."""

from __future__ import annotations

import os
from dataclasses import dataclass, field as dc_field
from pathlib import Path

from selfmocap import config as cfg
from selfmocap.adapt.objective import ObjectiveConfig
from selfmocap.body import BodyModelConfig
from selfmocap.capture.pipeline import CaptureOptions, SourceOptions

#: Memory a Ray task declares by default, GiB: capture peaks at about 1.7 GiB whatever the video's
#: length (docs/capture.md, "Speed and memory"), plus headroom.
RAY_MEMORY_GIB = 3.0


@dataclass(frozen=True)
class BatchConfig:
    inputs: Path = cfg.field(help="a folder (searched for videos and image folders) or a CSV/JSON manifest", flag="")
    out: Path = cfg.field(help="output folder: one capture subfolder per input, summary.csv and summary.json")
    jobs: int = cfg.field(1, help="worker processes on this machine (1: captures run in the batch process itself)")
    threads: int = cfg.field(0, help="torch/OpenCV/OpenMP threads per worker (0: the machine's cores // --jobs; "
                                     "with --ray: 1); --jobs x --threads may not exceed the cores")
    retries: int = cfg.field(1, help="attempts of a failed input beyond the first, in this run (capture's input "
                                     "errors are not retried: they would fail the same way)")
    ray: str | None = cfg.field(None, help="run each input as a task on the Ray cluster at this address ('auto': the "
                                           "one this machine belongs to); needs selfmocap[ray] and a shared filesystem")
    ray_memory: float = cfg.field(RAY_MEMORY_GIB, help="memory each Ray task declares, GiB")
    checkpoint: Path | None = cfg.field(None, help="pretrained network (default: the shipped checkpoint)")
    body: BodyModelConfig = dc_field(default_factory=BodyModelConfig)
    source: SourceOptions = dc_field(default_factory=SourceOptions)
    capture: CaptureOptions = dc_field(default_factory=CaptureOptions)
    objective: ObjectiveConfig = dc_field(default_factory=ObjectiveConfig)


def machine_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
