"""``selfmocap batch INPUTS --out DIR``: capture every input of a folder or manifest into
``DIR/NAME/`` exactly as ``selfmocap capture`` would, resumably, locally or on Ray
(``docs/batch.md``).

1. The inputs are listed (:mod:`selfmocap.batch.manifest`) and ``DIR`` is locked.
2. An input whose ``DIR/NAME`` already holds a finished capture (capture renames its partial
   folder to ``NAME`` only when everything is written, so ``NAME/run.json`` means complete) is
   kept; every other input is queued, including those that failed in an earlier run.
3. A runner (:mod:`selfmocap.batch.local`, :mod:`selfmocap.batch.ray_runner`) captures the
   queue; a failed attempt is queued again up to ``--retries`` times unless capture refused the
   input (its one-line error would be the same). ``DIR/summary.csv`` and ``DIR/summary.json``
   are rewritten as each row finishes.
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap.batch.config import CAPTURE_OPTIONS, BatchConfig, machine_cores
from selfmocap.batch.manifest import BatchInput, read_inputs
from selfmocap.batch.summary import BatchRow, counts, read_previous, read_run, with_capture_summary, write_summary
from selfmocap.batch.worker import CaptureTask
from selfmocap.capture.config import CaptureConfig
from selfmocap.capture.pipeline import RESULT_MARKERS, OutLock
from selfmocap.errors import UserError

#: Exit code of ``selfmocap batch`` when at least one row failed (2 stays "the batch itself was
#: refused", as for every selfmocap command; 130 an interrupted batch).
EXIT_ROWS_FAILED = 1


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: its rows (in input order) and where they are."""

    out: Path
    rows: list[BatchRow]

    @property
    def succeeded(self) -> bool:
        return all(row.succeeded for row in self.rows)


def worker_threads(config: BatchConfig) -> int:
    """Threads per worker: ``--threads``, else the cores shared among ``--jobs`` (1 per Ray task)."""
    if config.jobs < 1:
        raise UserError(f"--jobs {config.jobs}: give at least 1")
    if config.threads < 0:
        raise UserError(f"--threads {config.threads}: give 0 (automatic) or more")
    cores = machine_cores()
    if config.ray is not None:
        if config.jobs != 1:
            raise UserError("--jobs and --ray together: with --ray the cluster decides how many inputs run at once; "
                            "drop --jobs")
        return config.threads or 1
    if config.jobs > cores:
        raise UserError(f"--jobs {config.jobs} is more than this machine's {cores} cores: give at most {cores}")
    threads = config.threads or max(1, cores // config.jobs)
    if config.jobs * threads > cores:
        raise UserError(f"--jobs {config.jobs} x --threads {threads} is more than this machine's {cores} cores: "
                        f"give --threads {cores // config.jobs} or fewer")
    return threads


def check_config(config: BatchConfig) -> None:
    if config.retries < 0:
        raise UserError(f"--retries {config.retries}: give 0 or more")
    if not config.ray_memory > 0:
        raise UserError(f"--ray-memory {config.ray_memory}: give a positive number of GiB")
    for flag, value in (("--keypoints", config.source.keypoints), ("--masks", config.source.masks)):
        if value is not None:
            raise UserError(f"{flag} names the files of one video: in a batch give them per row, in a manifest's "
                            f"'{flag[2:]}' column")


def check_out(out: Path) -> None:
    """``DIR`` is new, empty, or a batch's folder (it holds ``summary.json``): a batch never fills a
    folder of other files with captures."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder: choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / "summary.json").is_file():
        raise UserError(f"--out {out} is a non-empty folder that holds no batch (no summary.json): "
                        "choose a new or empty folder")


def capture_config(config: BatchConfig, item: BatchInput, out: Path) -> CaptureConfig:
    """The capture of one input: the batch's options, the row's own window and cue files."""
    source = replace(config.source, **{k: getattr(item, k) for k in ("start", "end", "fps", "keypoints", "masks")
                                       if getattr(item, k) is not None})
    options = {name: getattr(config, name) for name in CAPTURE_OPTIONS}
    return CaptureConfig(video=item.path, out=out / item.name, **{**options, "source": source})


def _comparable(config: dict) -> dict:
    flat = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}{k}.", v)
        else:
            flat[prefix[:-1]] = value

    walk("", config)
    for key in ("video", "out", "capture.overwrite"):
        flat.pop(key, None)
    return flat


def kept_note(run: dict, wanted: CaptureConfig) -> str:
    """A note for a kept result made with other options than this run's (it is kept all the same)."""
    from selfmocap.io import json_safe

    old, new = _comparable(run.get("config", {})), _comparable(json_safe(cfg.to_dict(wanted)))
    differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    if not differ:
        return ""
    return f"kept from an earlier run with other options ({', '.join(differ[:4])}); --overwrite redoes it"


def initial_rows(config: BatchConfig, inputs: list[BatchInput], tasks: list[CaptureTask]) -> list[BatchRow]:
    previous = read_previous(config.out)
    rows = []
    for item, task in zip(inputs, tasks):
        before = previous.get(item.name)
        attempts = before.attempts if before is not None else 0
        row = BatchRow(name=item.name, input=str(item.path), attempts=attempts,
                       error=before.error if before is not None and before.status == "failed" else "")
        result = task.config.out
        run = read_run(result) if all((result / m).is_file() for m in RESULT_MARKERS) else None
        if run is not None and not config.capture.overwrite:
            row = replace(with_capture_summary(row, run["summary"]), status="complete", notes=kept_note(run, task.config),
                          cpu_seconds=before.cpu_seconds if before is not None and before.succeeded else None)
        rows.append(row)
    return rows


def make_runner(config: BatchConfig, threads: int):
    if config.ray is not None:
        from selfmocap.batch.ray_runner import RayRunner

        return RayRunner(config.ray, threads, config.ray_memory)
    from selfmocap.batch.local import InProcessRunner, ProcessRunner

    return InProcessRunner(threads) if config.jobs == 1 else ProcessRunner(config.jobs, threads)


def run_batch(config: BatchConfig) -> BatchReport:
    """``selfmocap batch``: see the module docstring. Raises ``UserError`` only for the batch
    itself (its inputs cannot be listed, its options or ``--out`` are wrong); a bad input fails
    its own row."""
    check_config(config)
    threads = worker_threads(config)
    out = config.out
    check_out(out)
    inputs = read_inputs(config.inputs, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"--out {out}: cannot create it ({err.strerror}): choose another --out") from None
    lock = OutLock(out).acquire()
    try:
        check_out(out)  # again, under the lock
        tasks = [CaptureTask(item.name, capture_config(config, item, out), threads) for item in inputs]
        rows = initial_rows(config, inputs, tasks)
        _run(config, threads, tasks, rows)
    finally:
        lock.release()
    return BatchReport(out, rows)


def _run(config: BatchConfig, threads: int, tasks: list[CaptureTask], rows: list[BatchRow]) -> None:
    saved = cfg.to_dict(replace(config, threads=threads))  # the resolved thread count
    out = config.out
    write_summary(out, rows, saved)
    index = {task.name: i for i, task in enumerate(tasks)}
    queue = deque(i for i, row in enumerate(rows) if not row.succeeded)
    tries = dict.fromkeys(queue, 0)
    kept = len(rows) - len(queue)
    where = f"Ray at {config.ray}" if config.ray is not None else (
        "this process" if config.jobs == 1 else f"{config.jobs} worker processes")
    print(f"batch: {len(rows)} inputs into {out}: {kept} complete already, {len(queue)} to capture "
          f"({where}, {threads} thread{'s' * (threads > 1)} each)")
    bar = tqdm(total=len(rows), initial=kept, desc="batch", unit="video", file=sys.stderr, dynamic_ncols=True)
    if not queue:
        bar.close()
        return
    runner = make_runner(config, threads)
    in_flight = 0
    try:
        while queue or in_flight:
            while queue and in_flight < runner.capacity:
                runner.submit(tasks[queue.popleft()])
                in_flight += 1
            for attempt in runner.wait():
                in_flight -= 1
                i = index[attempt.name]
                tries[i] += 1
                row = replace(rows[i], attempts=rows[i].attempts + 1, notes=attempt.notes,
                              cpu_seconds=round(attempt.cpu_seconds, 2))
                if attempt.ok:
                    row = replace(with_capture_summary(row, attempt.summary), status="captured")
                elif not attempt.user_error and tries[i] <= config.retries:
                    row = replace(row, error=attempt.error)
                    queue.append(i)
                    bar.write(f"batch: {attempt.name}: attempt {tries[i]} failed, retrying: {attempt.error}")
                else:
                    row = replace(row, status="failed", error=attempt.error, seconds=round(attempt.seconds, 2),
                                              frames=None, frames_without_person=None, fps=None, reprojection_px=None,
                                              jitter_mm=None, stage_seconds={})
                    bar.write(f"batch: {attempt.name} failed: {attempt.error}")
                rows[i] = row
                if row.status != "pending":
                    bar.update()
                    bar.set_postfix(failed=counts(rows)["failed"], refresh=False)
                write_summary(out, rows, saved)
    except BaseException:
        runner.stop()
        write_summary(out, rows, saved)
        raise
    finally:
        bar.close()
    runner.close()
