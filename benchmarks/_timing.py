"""Timing shared by the benchmark scripts (imported as ``_timing``: scripts run from this folder)."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after one warm-up call, milliseconds."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def cpu_ticks() -> tuple[int, int]:
    """(steal, total) clock ticks of all CPUs since boot, from Linux's ``/proc/stat``; (0, 0) elsewhere.

    On a virtual machine, *steal* is time the hypervisor gave to other guests while this one had
    work: it slows wall-clock figures without showing in the load average."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    steal = values[7] if len(values) > 7 else 0
    return steal, sum(values[:8])


def steal_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    """CPU steal between two :func:`cpu_ticks` readings, % of all CPU time (nan when unknown)."""
    total = after[1] - before[1]
    return 100.0 * (after[0] - before[0]) / total if total > 0 else float("nan")
