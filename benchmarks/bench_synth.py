"""Synthetic-data throughput: frames per second of one worker with all ground truth, by stage.

    python benchmarks/bench_synth.py --size 256 --clips 3 --frames 30

Prints a markdown table. One process, one thread (as each ``--workers`` process runs).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from selfmocap.body import load_body_model
from selfmocap.synth.generator import StageTimer, render_clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--split", default="train")
    args = parser.parse_args()
    torch.set_num_threads(1)
    body = load_body_model()
    timer = StageTimer()
    with tempfile.TemporaryDirectory() as tmp:
        # one warm-up clip (JIT of the skinning kernel, caches), not counted
        render_clip(Path(tmp), "warmup", args.split, 123, 0, body, 2, args.size)
        start = time.perf_counter()
        for i in range(args.clips):
            render_clip(Path(tmp), f"c{i}", args.split, 0, i, body, args.frames, args.size, timer=timer)
        total = time.perf_counter() - start
    frames = args.clips * args.frames
    print(f"| stage | ms / frame | share |\n|---|---|---|")
    for name, sec in sorted(timer.seconds.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {1000 * sec / frames:.2f} | {100 * sec / total:.0f}% |")
    other = total - sum(timer.seconds.values())
    print(f"| other (sampling, bookkeeping) | {1000 * other / frames:.2f} | {100 * other / total:.0f}% |")
    print(f"| **total** | **{1000 * total / frames:.2f}** | 100% |")
    print(f"\n{frames / total:.1f} frames/s per worker at {args.size}x{args.size} ({args.clips} clips x {args.frames} frames, split {args.split})")


if __name__ == "__main__":
    main()
