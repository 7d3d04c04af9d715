"""One input of a batch, captured in whatever process runs it: the batch process itself
(``--jobs 1``), a spawned worker process (``--jobs N``) or a Ray worker (``--ray``).

This module imports nothing heavy at its top: a spawned worker imports it to run
:func:`init_worker`, which must set the OpenMP/MKL thread variables before torch is imported.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from dataclasses import dataclass, field
from typing import Any

#: Environment variables that size the thread pools of OpenMP, MKL, OpenBLAS and numexpr: they are
#: read once, when each library is loaded, so they are set before anything imports torch or numpy.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class CaptureTask:
    """What a worker needs for one input: its output name and the full capture config."""

    name: str
    config: Any  #: selfmocap.capture.pipeline.CaptureConfig (typed loosely: this module stays light)
    threads: int


@dataclass(frozen=True)
class Attempt:
    """The outcome of one attempt at one input."""

    name: str
    ok: bool
    error: str = ""  #: one line
    user_error: bool = False  #: capture refused the input (deterministic: not retried)
    summary: dict = field(default_factory=dict)  #: capture's run.json ``summary`` (``CaptureSummary.to_dict()``) when ok
    seconds: float = 0.0  #: wall time of the attempt
    cpu_seconds: float = 0.0  #: CPU time (user + system, every thread) of the process that ran it, during the attempt
    notes: str = ""  #: capture's notices (warnings) printed during the attempt


def init_worker(threads: int) -> None:
    """Size every thread pool of this (fresh) process to ``threads``, and silence capture's own
    progress bars (the batch shows one bar over the inputs)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    os.environ["TQDM_DISABLE"] = "1"
    set_threads(threads)


def set_threads(threads: int) -> None:
    """torch intra-op threads and OpenCV's thread pool (both may change at any time)."""
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)


@contextlib.contextmanager
def thread_count(threads: int):
    """Run with ``threads`` torch/OpenCV threads, then restore the previous counts (the batch
    process itself, ``--jobs 1``)."""
    import cv2
    import torch

    before_torch, before_cv = torch.get_num_threads(), cv2.getNumThreads()
    set_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before_torch)
        cv2.setNumThreads(before_cv)


def one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if text else type(err).__name__


def capture_one(task: CaptureTask) -> Attempt:
    """Capture one input with ``run_capture`` and report how it went; never raises for a failed
    capture (Ctrl-C and SIGTERM still stop the process: capture removes its partial folder)."""
    from selfmocap.capture.cli import sigterm_as_interrupt
    from selfmocap.capture.pipeline import run_capture
    from selfmocap.errors import UserError

    started, cpu_started = time.perf_counter(), time.process_time()
    notices = io.StringIO()
    bars = io.StringIO()
    try:
        with contextlib.redirect_stdout(notices), contextlib.redirect_stderr(bars), sigterm_as_interrupt():
            result = run_capture(task.config)
    except UserError as err:
        return Attempt(task.name, False, one_line(err), user_error=True, seconds=time.perf_counter() - started,
                       cpu_seconds=time.process_time() - cpu_started, notes=notices.getvalue().strip())
    except Exception as err:  # a failure of capture itself: reported in the row, retried
        return Attempt(task.name, False, f"{type(err).__name__}: {one_line(err)}", seconds=time.perf_counter() - started,
                       cpu_seconds=time.process_time() - cpu_started, notes=notices.getvalue().strip())
    return Attempt(task.name, True, summary=result.summary.to_dict(), seconds=time.perf_counter() - started,
                   cpu_seconds=time.process_time() - cpu_started, notes=notices.getvalue().strip())


def capture_with_threads(task: CaptureTask) -> Attempt:
    """:func:`capture_one` with the task's thread count (a Ray worker: a reused process whose
    OpenMP variables Ray sets from the task's ``num_cpus``)."""
    set_threads(task.threads)
    return capture_one(task)
