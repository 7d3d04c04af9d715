"""Runners on this machine: the batch process itself (``--jobs 1``) or a pool of spawned worker
processes (``--jobs N``).

A runner takes :class:`~selfmocap.batch.worker.CaptureTask` s with ``submit`` (at most
``capacity`` in flight), hands back finished :class:`~selfmocap.batch.worker.Attempt` s with
``wait``, and ends with ``close`` (or ``stop`` when interrupted); the batch keeps the queue, the retries and the summary
(:mod:`selfmocap.batch.run`). The Ray runner (:mod:`selfmocap.batch.ray_runner`) has the same
methods.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from selfmocap.batch.worker import Attempt, CaptureTask, capture_one, init_worker, thread_count


class Runner(Protocol):
    capacity: int

    def submit(self, task: CaptureTask) -> None: ...

    def wait(self) -> list[Attempt]: ...

    def stop(self) -> None:
        """Interrupted: stop what is in flight now."""

    def close(self) -> None:
        """Done: release the workers."""


class InProcessRunner:
    """``--jobs 1``: each capture runs in the batch process, one at a time (no worker start-up:
    the pretrained network and body model load once, the results are those of ``capture``)."""

    capacity = 1

    def __init__(self, threads: int):
        self.threads = threads
        self.pending: list[CaptureTask] = []

    def submit(self, task: CaptureTask) -> None:
        self.pending.append(task)

    def wait(self) -> list[Attempt]:
        task = self.pending.pop(0)
        with thread_count(self.threads):
            return [capture_one(task)]

    def stop(self) -> None:
        self.pending.clear()

    def close(self) -> None:
        pass


class ProcessRunner:
    """``--jobs N``: N worker processes of the ``spawn`` start method (a fresh interpreter: no
    fork of the batch process's torch and OpenMP state), each with ``threads`` threads for torch,
    OpenCV and OpenMP/MKL (:func:`~selfmocap.batch.worker.init_worker`). Exactly N tasks are in
    flight, so each one is running: if a worker dies (a crash, the out-of-memory killer), the
    tasks in flight are reported failed (and retried by the batch) and a new pool is started."""

    def __init__(self, jobs: int, threads: int):
        self.capacity = jobs
        self.threads = threads
        self.executor: ProcessPoolExecutor | None = None
        self.futures: dict[Future, CaptureTask] = {}

    def _pool(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(max_workers=self.capacity, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=init_worker, initargs=(self.threads,))
        return self.executor

    def submit(self, task: CaptureTask) -> None:
        try:
            future = self._pool().submit(capture_one, task)
        except BrokenProcessPool:
            self._restart()
            future = self._pool().submit(capture_one, task)
        self.futures[future] = task

    def wait(self) -> list[Attempt]:
        done, _ = wait(list(self.futures), return_when=FIRST_COMPLETED)
        attempts, broken = [], False
        for future in done:
            task = self.futures.pop(future)
            try:
                attempts.append(future.result())
            except BrokenProcessPool:
                broken = True
                attempts.append(Attempt(task.name, False, "a worker process died while this input was in flight "
                                        "(killed, out of memory, or a crash in a native library)"))
            except Exception as err:  # e.g. the task could not be sent to the worker
                attempts.append(Attempt(task.name, False, f"{type(err).__name__}: {' '.join(str(err).split())}"))
        if broken:
            self._restart()
        return attempts

    def _restart(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None

    def stop(self) -> None:
        """Stop every worker now (Ctrl-C, SIGTERM): each gets SIGTERM, which capture handles like
        Ctrl-C (its partial folder is removed)."""
        if self.executor is None:
            return
        processes = list(getattr(self.executor, "_processes", {}).values())  # CPython's pool keeps them here
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=30)
        self.executor = None
        self.futures.clear()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None
