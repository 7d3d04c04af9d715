"""Throughput of ``selfmocap batch`` with 1 and 2 local jobs (issue 15), and the cost of 10,000
one-minute videos at that throughput.

Renders ``--clips`` held-out synthetic clips (the demo's machinery: split ``test``, seed 2026 on),
encodes each as an MPEG-4 file, then runs ``selfmocap batch`` on the folder once per ``--jobs``
value, each in a fresh process with default capture settings (``--threads`` automatic: the
machine's cores shared among the jobs), and reads the per-video stage times from the summary.

    python benchmarks/bench_batch.py --clips 4 --frames 30 --size 256

The 10,000-video estimate is made two ways: (a) the measured frames per second per core, which
for short clips over-counts adaptation (at least ``--min-iters`` steps per segment whatever its
length); (b) per stage: every stage but adaptation at its measured core-seconds per frame, and
adaptation at its measured core-seconds per step times the steps capture takes for a one-minute
30 fps video (its segments and schedule, from ``capture.pipeline``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_videos(folder: Path, clips: int, frames: int, size: int, seed: int) -> list[Path]:
    from selfmocap.capture.video import write_video
    from selfmocap.data.clip import Clip
    from selfmocap.synth.run import SynthConfig, generate

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for clip_dir in generate(SynthConfig(out=folder.parent / "clips", split="test", clips=clips, frames=frames,
                                         seed=seed, size=size)):
        clip = Clip(clip_dir)
        paths.append(write_video((clip.rgb(t) for t in range(len(clip))), folder / f"{clip.meta.clip_id}.mp4",
                                 clip.meta.fps))
    return paths


def run_batch(inputs: Path, out: Path, jobs: int, extra: list[str]) -> tuple[float, dict, int]:
    """Wall time of one ``selfmocap batch`` process, its summary.json, and the adaptation steps it
    took (from each video's run.json)."""
    command = [sys.executable, "-m", "selfmocap.cli", "batch", str(inputs), "--out", str(out), "--jobs", str(jobs), *extra]
    print("$ " + " ".join(command), flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    summary = json.loads((out / "summary.json").read_text())
    steps = sum(json.loads((out / r["name"] / "run.json").read_text())["summary"]["adaptation_steps"]
                for r in summary["rows"] if r["status"] == "captured")
    return seconds, summary, steps


def one_minute_steps(fps: float = 30.0, seconds: float = 60.0) -> int:
    """Adaptation steps capture takes, with default settings, for a video of this length."""
    from selfmocap.adapt.inputs import InputConfig
    from selfmocap.capture.pipeline import CaptureOptions, iterations, segments

    options = CaptureOptions()
    gap = InputConfig().pair_gap
    return sum(iterations(options, (b - a) - gap) for a, b in segments(int(fps * seconds), options.segment))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=4, help="videos in the batch")
    parser.add_argument("--frames", type=int, default=30, help="frames per video (30 fps)")
    parser.add_argument("--size", type=int, default=256, help="frame width and height, pixels")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the first clip (the demo's)")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to measure")
    parser.add_argument("--videos", type=int, default=10_000, help="videos in the cost estimate")
    parser.add_argument("--minutes", type=float, default=1.0, help="length of each video of the estimate, minutes")
    args, extra = parser.parse_known_args()
    from selfmocap.batch.config import machine_cores

    cores = machine_cores()
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        inputs = Path(tmp) / "videos"
        make_videos(inputs, args.clips, args.frames, args.size, args.seed)
        results = [(jobs, *run_batch(inputs, Path(tmp) / f"out_jobs{jobs}", jobs, extra))
                   for jobs in (int(j) for j in args.jobs.split(","))]

    steps_long = one_minute_steps(seconds=60.0 * args.minutes)
    frames_long = int(30 * 60 * args.minutes)
    print(f"\n{args.clips} videos of {args.frames} frames at {args.size}x{args.size}, {cores} cores, "
          f"default capture settings{' + ' + ' '.join(extra) if extra else ''}\n")
    print("| jobs x threads | wall (s) | videos/hour | frames/s | frames/s per core | failed |")
    print("|---|---|---|---|---|---|")
    for jobs, seconds, summary, _ in results:
        rows = summary["rows"]
        frames = sum(r["frames"] or 0 for r in rows)
        threads = summary["config"]["threads"]
        print(f"| {jobs} x {threads} | {seconds:.1f} | {3600 * len(rows) / seconds:.1f} | {frames / seconds:.3f} | "
              f"{frames / seconds / (jobs * threads):.3f} | {summary['counts']['failed']} |")
    for jobs, seconds, summary, steps in results:
        rows = [r for r in summary["rows"] if r["status"] == "captured"]
        if not rows:
            continue
        threads = summary["config"]["threads"]
        frames = sum(r["frames"] for r in rows)
        stages: dict[str, float] = {}
        for r in rows:
            for k, v in r["stage_seconds"].items():
                stages[k] = stages.get(k, 0.0) + v
        total = sum(stages.values())
        print(f"\njobs {jobs}: stage share of capture time (sum over videos, {threads} thread(s) per worker):")
        print("  " + ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))
        core_s_per_frame = {k: v * threads / frames for k, v in stages.items() if k != "adapt"}
        core_s_per_step = stages.get("adapt", 0.0) * threads / max(steps, 1)
        wall_fps_core = frames / seconds / (jobs * threads)
        naive = args.videos * frames_long / wall_fps_core / 3600
        per_video = frames_long * sum(core_s_per_frame.values()) + steps_long * core_s_per_step
        staged = args.videos * per_video / 3600
        adapt_share = steps_long * core_s_per_step / per_video
        print(f"  {args.videos} videos of {args.minutes:g} min ({frames_long} frames, {steps_long} adaptation steps each):")
        print(f"  (a) at {wall_fps_core:.3f} frames/s per core: {naive:,.0f} core-hours")
        print(f"  (b) per stage ({core_s_per_step:.2f} core-s per adaptation step, "
              f"{sum(core_s_per_frame.values()):.3f} core-s per frame for the rest): {staged:,.0f} core-hours, "
              f"adaptation {100 * adapt_share:.0f} %")


if __name__ == "__main__":
    main()
