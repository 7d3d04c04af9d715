"""Per-stage wall and CPU time of ``selfmocap capture`` on a real video, at default settings.

    python benchmarks/bench_capture_stages.py ../shared/video/juggle.mp4 --end 3 [--baseline] [--cpu]

Prints the capture's stage table (``run.json``'s timings) with the machine's load averages before
and after, the process's CPU seconds (user + system, all threads) and its wall time. With
``--cpu`` the stage table itself is in CPU seconds: the pipeline's stage clock
(``time.perf_counter`` in ``selfmocap.capture.pipeline``) is swapped for ``time.process_time``,
which counts the CPU time of every thread of the process and is far less sensitive than wall time
to other work sharing the machine. ``--baseline`` turns off the speed-ups this benchmark was
written for, so both sides can be measured back to back under the same load:

- ``RayCaster(fast_fill=False)``: build Embree scenes through embreex's ``TriangleMesh`` (its
  per-element Python copy) instead of the numpy fill (``render/embree_buffers.py``).

Results with the commands and the load are in ``docs/real-video.md`` ("Speed").
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import tempfile
import time
import types
from pathlib import Path

from _timing import cpu_ticks, steal_percent


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _use_baseline() -> None:
    """Put back the code paths the speed-ups replaced (identical results, slower)."""
    from selfmocap.render import raycast

    raycast.RayCaster.__init__ = functools.partialmethod(raycast.RayCaster.__init__, fast_fill=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--end", type=float, help="capture up to this time in seconds (capture's --end)")
    parser.add_argument("--baseline", action="store_true", help="without this benchmark's speed-ups")
    parser.add_argument("--cpu", action="store_true", help="stage table in CPU seconds (process_time)")
    parser.add_argument("--flow-finest-scale", type=int,
                        help="evaluate another DIS finest pyramid level (cues/config.py FlowConfig)")
    parser.add_argument("--out", type=Path, help="keep the capture here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    from selfmocap.capture import pipeline
    from selfmocap.capture.config import CaptureConfig, CaptureOptions, SourceOptions

    if args.baseline:
        _use_baseline()
    if args.flow_finest_scale is not None:  # pair_flow builds FlowConfig() from cues/flow.py's name
        from selfmocap.cues import flow as cues_flow

        cues_flow.FlowConfig = functools.partial(cues_flow.FlowConfig, finest_scale=args.flow_finest_scale)
    if args.cpu:
        pipeline.time = types.SimpleNamespace(**{**vars(time), "perf_counter": time.process_time})

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "capture"
        config = CaptureConfig(video=args.video, out=out, capture=CaptureOptions(overwrite=True),
                               source=SourceOptions(end=args.end))
        cpu0, wall0, ticks = _cpu_seconds(), time.perf_counter(), cpu_ticks()
        result = pipeline.run_capture(config)
        cpu, wall = _cpu_seconds() - cpu0, time.perf_counter() - wall0
        steal = steal_percent(ticks, cpu_ticks())
        summary = result.summary.format(result.out)
    load_after = os.getloadavg()
    n = result.num_frames
    stages = {k: v for k, v in result.timings.as_dict().items() if k != "total"}
    unit = "CPU s" if args.cpu else "wall s"
    print(summary)
    print(f"\n{args.video.name}: {n} frames, {'baseline' if args.baseline else 'this code'}, "
          f"load averages (1, 5, 15 min) {load_before} before, {load_after} after, "
          f"{os.cpu_count()} CPUs, CPU steal {steal:.1f} % (time the hypervisor gave to other machines)")
    print(f"| stage | {unit} | ms / frame |\n|---|---:|---:|")
    for k, v in stages.items():
        print(f"| {k} | {v:.1f} | {1000 * v / n:.0f} |")
    print(f"| **process total** | wall {wall:.1f} s ({n / wall:.2f} frames/s) | CPU {cpu:.1f} s "
          f"({1000 * cpu / n:.0f} ms / frame) |")
    if args.json:
        args.json.write_text(json.dumps({
            "video": str(args.video), "end": args.end, "frames": n, "baseline": args.baseline,
            "stage_unit": unit, "stages": stages, "wall_s": wall, "cpu_s": cpu,
            "load_before": load_before, "load_after": load_after, "steal_pct": steal,
            "keypoint_px": result.summary.reprojection_px.as_dict(),
        }, indent=1, default=float))


if __name__ == "__main__":
    main()
