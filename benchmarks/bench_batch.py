"""Throughput of ``selfmocap batch`` with 1 and 2 local jobs on this machine (issue 15), and the
cost of 10,000 one-minute videos at the measured per-core throughput.

Renders held-out synthetic clips (split ``test``, seed 2026 on, ``--render`` pixels square), one
per entry of ``--frames`` and of that many frames, scales each frame to the height of ``--size``
and pads it to its width (default 1280x720: capture decodes a 720p file and analyses it at
480x270, as a real 720p video), encodes them as 30 fps MP4 files, then runs ``selfmocap batch``
on the folder once per ``--jobs`` value, each in a fresh process (``--threads`` automatic: the
machine's cores shared among the jobs). Every other option goes to the batch as a capture option:

    python benchmarks/bench_batch.py --frames 8,16,24,32 --json bench_batch.json --min-iters 10

Per run it reports the wall time, videos per hour, frames/s and frames/s per core (wall time x
cores used: what an idle machine gives), and CPU time: of the whole batch (``getrusage`` of the
batch and its workers, start-up included) and of the captures alone (each row's ``cpu_seconds``:
``process_time`` of the process that ran it), as CPU-seconds per frame. CPU time is much less
sensitive to other work on the machine than wall time; the 1-minute load average is sampled
every 5 s during each run and printed beside it.

The 10,000-video estimate is made per stage from the captures' CPU time: each video's CPU
seconds are split over its stages in proportion to their wall times (``stage_seconds``);
adaptation is costed per step (its cost is set by the steps, not the frames), the final per-frame
fit per window of ``refine.window`` frames plus per frame, and every other stage as a fixed cost
per video plus a cost per frame, fitted over the videos of different lengths (least squares,
both terms >= 0). A one-minute 30 fps video of ``--size`` then takes 1800 frames, the windows
they make, and the adaptation steps of capture's default schedule (segments of 240 frames, 3
passes over each segment's pairs, at least 60 steps: ``capture.pipeline.segments``/``iterations``).
``--from-json`` reports an earlier ``--json`` again without measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def letterbox(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """``frame`` scaled to ``height`` (aspect kept) and padded with black to ``width``."""
    import cv2

    h, w = frame.shape[:2]
    scaled = cv2.resize(frame, (round(w * height / h), height), interpolation=cv2.INTER_LINEAR)
    if scaled.shape[1] > width:
        raise SystemExit(f"--size {width}x{height}: the frames would be {scaled.shape[1]} pixels wide")
    left = (width - scaled.shape[1]) // 2
    return cv2.copyMakeBorder(scaled, 0, 0, left, width - scaled.shape[1] - left, cv2.BORDER_CONSTANT, value=0)


def make_videos(folder: Path, lengths: list[int], render: int, size: tuple[int, int], seed: int) -> list[Path]:
    """One video per entry of ``lengths``: the first that many frames of its own clip."""
    from selfmocap.video import write_video
    from selfmocap.data.clip import Clip
    from selfmocap.synth.config import SynthConfig
    from selfmocap.synth.run import generate

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    clip_dirs = generate(SynthConfig(out=folder.parent / "clips", split="test", clips=len(lengths), frames=max(lengths),
                                     seed=seed, size=render))
    for clip_dir, frames in zip(clip_dirs, lengths):
        clip = Clip(clip_dir)
        paths.append(write_video((letterbox(clip.rgb(t), *size) for t in range(frames)),
                                 folder / f"{clip.meta.clip_id}_{frames}f.mp4", clip.meta.fps))
    return paths


class LoadSampler:
    """The 1-minute load average, sampled every ``every`` seconds while running."""

    def __init__(self, every: float = 5.0):
        self.every, self.samples = every, [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> "LoadSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def stats(self) -> dict:
        return {"start": self.samples[0], "mean": float(np.mean(self.samples)), "max": float(max(self.samples)),
                "end": self.samples[-1]}


def run_batch(inputs: Path, out: Path, jobs: int, extra: list[str]) -> dict:
    """One ``selfmocap batch`` process: wall and CPU seconds, load, its summary and the adaptation
    steps it took (from each video's run.json)."""
    command = [sys.executable, "-m", "selfmocap.cli", "batch", str(inputs), "--out", str(out), "--jobs", str(jobs), *extra]
    print("$ " + " ".join(command), flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with LoadSampler() as load:
        started = time.perf_counter()
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads((out / "summary.json").read_text())
    rows = [r for r in summary["rows"] if r["status"] == "captured"]
    steps = {r["name"]: json.loads((out / r["name"] / "run.json").read_text())["summary"]["adaptation_steps"]
             for r in rows}
    return {
        "jobs": jobs, "threads": summary["config"]["threads"], "wall_s": wall,
        "cpu_batch_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "load_1min": load.stats(), "videos": len(summary["rows"]), "failed": summary["counts"]["failed"],
        "rows": [{"name": r["name"], "frames": r["frames"], "seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"],
                  "steps": steps[r["name"]], "stage_seconds": r["stage_seconds"]} for r in rows],
    }


def one_minute_schedule(fps: float, seconds: float) -> tuple[int, int, int]:
    """Frames, adaptation steps and final-fit windows capture takes, with default options, for a
    video of this length; and the final fit's window length."""
    from selfmocap.capture.config import CaptureConfig
    from selfmocap.capture.pipeline import iterations, segments

    config = CaptureConfig(video=Path("video.mp4"), out=Path("out"))
    options = config.capture
    frames = int(round(fps * seconds))
    steps = sum(iterations(options, (b - a) - options.crop.pair_gap) for a, b in segments(frames, options.segment))
    return frames, steps, config.refine.window


def figures(run: dict) -> dict:
    """The throughput figures of one run."""
    rows, wall, cores = run["rows"], run["wall_s"], run["jobs"] * run["threads"]
    frames = sum(r["frames"] for r in rows)
    cpu_captures = sum(r["cpu_seconds"] for r in rows)
    return {
        "frames": frames, "videos_per_hour": 3600 * len(rows) / wall, "frames_per_s": frames / wall,
        "frames_per_s_per_core": frames / wall / cores, "cpu_s_per_frame_batch": run["cpu_batch_s"] / frames,
        "cpu_s_per_frame_captures": cpu_captures / frames, "cpu_captures_s": cpu_captures,
        "cpu_utilisation": cpu_captures / sum(r["seconds"] for r in rows),  # cores busy per capture
    }


#: Stages whose cost is set by something else than the frames: adaptation by its steps, the final
#: fit by its windows (a fixed number of Adam steps on each window of ``refine.window`` frames).
PER_STEP, PER_WINDOW = "adapt", "refine"


def stage_costs(run: dict, window: int) -> tuple[dict[str, tuple[float, float]], float]:
    """Adaptation in CPU-seconds per step; the final fit as (CPU-seconds per window, per frame);
    every other stage as (CPU-seconds per video, per frame); the last two fitted over the videos
    (least squares, both terms kept >= 0). Each capture's CPU time is split over its stages by
    their wall times."""
    rows = run["rows"]
    frames = np.array([r["frames"] for r in rows], np.float64)
    windows = np.ceil(frames / window)
    cpu: dict[str, np.ndarray] = {}
    for i, r in enumerate(rows):
        total = sum(r["stage_seconds"].values())
        for stage, seconds in r["stage_seconds"].items():
            cpu.setdefault(stage, np.zeros(len(rows)))[i] = r["cpu_seconds"] * seconds / total
    per_step = float(cpu.pop(PER_STEP, np.zeros(1)).sum()) / max(sum(r["steps"] for r in rows), 1)
    fits = {}
    for stage, seconds in cpu.items():
        units = windows if stage == PER_WINDOW else np.ones_like(frames)
        design = np.stack([units, frames], 1)
        (fixed, per_frame), *_ = np.linalg.lstsq(design, seconds, rcond=None)
        if per_frame < 0:  # a stage that does not grow with the frames (within the noise)
            fixed, per_frame = seconds.sum() / units.sum(), 0.0
        elif fixed < 0:  # no fixed part (within the noise)
            fixed, per_frame = 0.0, seconds.sum() / frames.sum()
        fits[stage] = (float(fixed), float(per_frame))
    return fits, per_step


def estimate(run: dict, videos: int, frames_long: int, steps_long: int, window: int) -> dict:
    fits, per_step = stage_costs(run, window)
    windows_long = -(-frames_long // window)
    per_video = {k: fixed * (windows_long if k == PER_WINDOW else 1) + per_frame * frames_long
                 for k, (fixed, per_frame) in fits.items()}
    per_video[PER_STEP] = per_step * steps_long
    total = sum(per_video.values())
    return {"cpu_s_per_step": per_step,
            "stage_fits": {k: {"per_window_s" if k == PER_WINDOW else "per_video_s": a, "per_frame_s": b}
                           for k, (a, b) in fits.items()},
            "cpu_s_per_video_by_stage": per_video, "cpu_s_per_video": total,
            "share": {k: v / total for k, v in sorted(per_video.items(), key=lambda kv: -kv[1])},
            "core_hours": videos * total / 3600}


def report(measured: dict, videos: int, minutes: float, fps: float) -> dict:
    """Print the throughput table and the estimate of ``measured`` (what :func:`main` measured, or a
    saved ``--json``); return it with the figures and the estimate added."""
    frames_long, steps_long, window = one_minute_schedule(fps, 60.0 * minutes)
    runs = measured["runs"]
    for run in runs:
        run["figures"] = figures(run)
        run["estimate"] = estimate(run, videos, frames_long, steps_long, window)
    size = measured["size"]
    print(f"\n{len(runs[0]['rows'])} videos of {measured['frames']} frames, {size[0]}x{size[1]} at 30 fps; "
          f"{measured['cores']} cores; capture options: {measured['capture_options'] or 'none'}; "
          f"{measured['seconds']:.0f} s in all; started {measured['started_utc']}\n")
    print("| jobs x threads | wall (s) | videos/hour | frames/s | frames/s per core | CPU-s per frame, captures "
          "(whole batch) | load average, 1 min: mean (max) | failed |")
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        f, load = run["figures"], run["load_1min"]
        print(f"| {run['jobs']} x {run['threads']} | {run['wall_s']:.1f} | {f['videos_per_hour']:.1f} | "
              f"{f['frames_per_s']:.3f} | {f['frames_per_s_per_core']:.3f} | {f['cpu_s_per_frame_captures']:.2f} "
              f"({f['cpu_s_per_frame_batch']:.2f}) | {load['mean']:.1f} ({load['max']:.1f}) | {run['failed']} |")
    print(f"\n{videos} videos of {minutes:g} min at {fps:g} fps, {size[0]}x{size[1]}: {frames_long} frames, "
          f"{steps_long} adaptation steps and {-(-frames_long // window)} final-fit windows each (default schedule)")
    for run in runs:
        e = run["estimate"]
        print(f"  from jobs {run['jobs']} x {run['threads']}: {e['cpu_s_per_video'] / 60:.1f} CPU-min per video, "
              f"{e['core_hours']:,.0f} core-hours; shares: "
              + ", ".join(f"{k} {100 * v:.0f} %" for k, v in e["share"].items() if v >= 0.005))
        fits = e["stage_fits"]
        print(f"    adapt {e['cpu_s_per_step']:.2f} CPU-s per step; "
              + ", ".join(f"{k} {f.get('per_video_s', f.get('per_window_s')):.2f} per "
                          f"{'window' if 'per_window_s' in f else 'video'} + {f['per_frame_s']:.3f} per frame"
                          for k, f in fits.items()))
    measured["estimate_video"] = {"frames": frames_long, "steps": steps_long, "refine_window": window,
                                  "size": list(size), "fps": fps, "videos": videos}
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", default="8,16,24,32", help="comma-separated frames of each video (30 fps)")
    parser.add_argument("--render", type=int, default=256, help="side of the rendered square clip, pixels")
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT of the video files (the clip scaled and padded)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the first clip (the demo's)")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to measure")
    parser.add_argument("--videos", type=int, default=10_000, help="videos in the cost estimate")
    parser.add_argument("--minutes", type=float, default=1.0, help="length of each video of the estimate, minutes")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of the estimate's videos")
    parser.add_argument("--json", type=Path, help="also write every measurement and figure here")
    parser.add_argument("--from-json", type=Path, help="measure nothing: report the measurements of an earlier --json")
    args, extra = parser.parse_known_args()
    if args.from_json is not None:
        measured = json.loads(args.from_json.read_text())
    else:
        from selfmocap.batch.config import machine_cores

        size = [int(v) for v in args.size.lower().split("x")]
        lengths = [int(n) for n in args.frames.split(",")]
        started = time.time()
        with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
            inputs = Path(tmp) / "videos"
            make_videos(inputs, lengths, args.render, tuple(size), args.seed)
            runs = [run_batch(inputs, Path(tmp) / f"out_jobs{jobs}", jobs, extra)
                    for jobs in (int(j) for j in args.jobs.split(","))]
        measured = {"command": " ".join(["python", *sys.argv]), "cores": machine_cores(),
                    "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                    "seconds": time.time() - started, "frames": args.frames, "size": size,
                    "capture_options": " ".join(extra), "runs": runs}
    measured = report(measured, args.videos, args.minutes, args.fps)
    if args.json is not None:
        args.json.write_text(json.dumps(measured, indent=1) + "\n")


if __name__ == "__main__":
    main()
