"""Time capture's optical flow (``cues.flow.pair_flow``, DIS forward and backward per pair) on the
frames of a real video, with one DIS and with several threads of single-threaded DIS.

    cd benchmarks && python bench_flow.py ../../shared/video/juggle.mp4 [--frames 40] [--gap 2] [--repeats 2]

The frames are read the way capture reads them (``selfmocap.video.open_video``, longest side 480
px). Rows: one DIS on OpenCV's own thread pool; two threads (``pair_flow(threads=2)``, which runs
each DIS single-threaded); and, for reference, one DIS with OpenCV held to one thread. Each row is
the median over ``--repeats`` runs, in ms per frame pair, with the CPU steal of the run (time the
hypervisor gave to other machines). The threads change no value: ``tests/cues/test_flow.py``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

import cv2

from _timing import cpu_ticks, steal_percent

from selfmocap.cues.flow import pair_flow
from selfmocap.video import open_video


def _ms_per_pair(frames, gap: int, threads: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pair_flow(frames, gap, threads=threads)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times) / (len(frames) - gap)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--frames", type=int, default=40, help="first N frames of the video")
    parser.add_argument("--gap", type=int, default=2, help="frames between the two of a pair (capture's --pair-gap)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-size", type=int, default=480, help="analysis size, as capture's --max-size")
    args = parser.parse_args()
    frames = list(itertools.islice(iter(open_video(args.video, max_size=args.max_size)), args.frames))
    if len(frames) <= args.gap:
        raise SystemExit(f"{args.video}: need more than --gap {args.gap} frames, got {len(frames)}")
    h, w = frames[0].shape[:2]
    pool = cv2.getNumThreads()
    print(f"{args.video.name}: {len(frames) - args.gap} pairs at {w}x{h}, gap {args.gap}, OpenCV pool {pool} threads")
    print("| flow | ms / pair | CPU steal % |\n|---|---:|---:|")
    rows = [(f"one DIS, OpenCV pool ({pool} threads)", 1, pool), ("two threads of single-threaded DIS", 2, pool),
            ("one DIS, OpenCV 1 thread", 1, 1)]
    for name, threads, opencv in rows:
        cv2.setNumThreads(opencv)
        ticks = cpu_ticks()
        ms = _ms_per_pair(frames, args.gap, threads, args.repeats)
        print(f"| {name} | {ms:.1f} | {steal_percent(ticks, cpu_ticks()):.1f} |")
    cv2.setNumThreads(pool)


if __name__ == "__main__":
    main()
