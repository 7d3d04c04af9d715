"""Throughput of ``selfmocap batch`` with 1 and 2 local jobs (issue 15), and the cost of 10,000
one-minute videos at that throughput.

Renders ``--clips`` held-out synthetic clips (the demo's machinery: split ``test``, seed 2026 on),
encodes each as an MP4 file, then runs ``selfmocap batch`` on the folder once per ``--jobs``
value, each in a fresh process with default capture settings (``--threads`` automatic: the
machine's cores shared among the jobs), and reads the per-video stage times from the summary.

    python benchmarks/bench_batch.py --clips 4 --frames 30 --size 256

Two throughputs per core are printed: by wall time (frames / wall seconds / cores used), which is
what an idle machine gives, and by CPU time (frames / CPU seconds of the batch and its workers,
from ``getrusage``), which stays meaningful when other work shares the machine.

The 10,000-video estimate (from the CPU time) is made two ways: (a) the measured frames per
CPU-second, which for short clips over-counts adaptation (at least ``--min-iters`` steps per
segment whatever its length); (b) per stage: the CPU time split by each stage's share of the
capture time, every stage but adaptation per frame, adaptation per step, times the frames and
steps capture takes for a one-minute 30 fps video (its segments and schedule, from
``capture.pipeline``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_videos(folder: Path, clips: int, frames: int, size: int, seed: int) -> list[Path]:
    from selfmocap.video import write_video
    from selfmocap.data.clip import Clip
    from selfmocap.synth.config import SynthConfig
    from selfmocap.synth.run import generate

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for clip_dir in generate(SynthConfig(out=folder.parent / "clips", split="test", clips=clips, frames=frames,
                                         seed=seed, size=size)):
        clip = Clip(clip_dir)
        paths.append(write_video((clip.rgb(t) for t in range(len(clip))), folder / f"{clip.meta.clip_id}.mp4",
                                 clip.meta.fps))
    return paths


def run_batch(inputs: Path, out: Path, jobs: int, extra: list[str]) -> tuple[float, float, dict, int]:
    """Wall and CPU seconds (user + system, the batch and its worker processes) of one
    ``selfmocap batch`` process, its summary.json, and the adaptation steps it took (from each
    video's run.json)."""
    command = [sys.executable, "-m", "selfmocap.cli", "batch", str(inputs), "--out", str(out), "--jobs", str(jobs), *extra]
    print("$ " + " ".join(command), flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = json.loads((out / "summary.json").read_text())
    steps = sum(json.loads((out / r["name"] / "run.json").read_text())["summary"]["adaptation_steps"]
                for r in summary["rows"] if r["status"] == "captured")
    return seconds, cpu, summary, steps


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
    print("| jobs x threads | wall (s) | CPU (s) | videos/hour | frames/s | frames/s per core (wall) | "
          "frames per CPU-second | failed |")
    print("|---|---|---|---|---|---|---|---|")
    for jobs, seconds, cpu, summary, _ in results:
        rows = summary["rows"]
        frames = sum(r["frames"] or 0 for r in rows)
        threads = summary["config"]["threads"]
        print(f"| {jobs} x {threads} | {seconds:.1f} | {cpu:.1f} | {3600 * len(rows) / seconds:.1f} | "
              f"{frames / seconds:.3f} | {frames / seconds / (jobs * threads):.3f} | {frames / cpu:.3f} | "
              f"{summary['counts']['failed']} |")
    for jobs, seconds, cpu, summary, steps in results:
        rows = [r for r in summary["rows"] if r["status"] == "captured"]
        if not rows:
            continue
        frames = sum(r["frames"] for r in rows)
        stages: dict[str, float] = {}
        for r in rows:
            for k, v in r["stage_seconds"].items():
                stages[k] = stages.get(k, 0.0) + v
        total = sum(stages.values())
        # the CPU time of the captures themselves: the batch process's start-up (imports, network
        # and body model loading), paid once per worker and negligible over 10,000 videos, is left out
        in_captures = min(1.0, sum(r["seconds"] for r in rows) / (jobs * seconds))
        cpu = cpu * in_captures
        print(f"\njobs {jobs}: {100 * in_captures:.0f} % of the wall time in captures ({cpu:.1f} CPU-s); "
              "stage share of capture time (sum over videos):")
        print("  " + ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))
        core_s_per_frame = sum(cpu * v / total for k, v in stages.items() if k != "adapt") / frames
        core_s_per_step = cpu * stages.get("adapt", 0.0) / total / max(steps, 1)
        naive = args.videos * frames_long * cpu / frames / 3600  # cpu: of the captures only
        per_video = frames_long * core_s_per_frame + steps_long * core_s_per_step
        staged = args.videos * per_video / 3600
        print(f"  {args.videos} videos of {args.minutes:g} min ({frames_long} frames, {steps_long} adaptation steps each):")
        print(f"  (a) at {frames / cpu:.3f} frames per CPU-second: {naive:,.0f} core-hours")
        print(f"  (b) per stage ({core_s_per_step:.2f} CPU-s per adaptation step over {steps} steps, "
              f"{core_s_per_frame:.3f} CPU-s per frame for the rest): {staged:,.0f} core-hours, "
              f"adaptation {100 * steps_long * core_s_per_step / per_video:.0f} %")


if __name__ == "__main__":
    main()
