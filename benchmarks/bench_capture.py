"""End-to-end speed and memory of ``selfmocap capture`` (issue: >= 2 frames/s on 2 CPU cores for a
640x480 video at default settings; a 10-minute 720p video under 4 GB).

Speed: renders a held-out synthetic clip, pads it to 640x480 (or the --size given), encodes it
as H.264 MP4 (the project's video writer), runs ``capture`` with default settings, prints the per-stage breakdown.

    python benchmarks/bench_capture.py --frames 150

Memory: ``--loop-seconds S --size 1280x720`` loops the clip forwards and backwards into an
S-second 720p video (continuous motion), captures it with ``--iters`` adaptation steps per
segment (memory does not depend on the number of steps), and reports the peak resident memory
of the whole process. Memory is bounded by design (frames streamed, masks as PNGs on disk, one
segment of frames, masks and flow in RAM), so peaks at two lengths show it is flat:

    python benchmarks/bench_capture.py --loop-seconds 60 --size 1280x720 --iters 2

A 10-minute 720p file, every third frame captured (``--fps 10``, 6000 frames; all 18000 are
decoded):

    python benchmarks/bench_capture.py --loop-seconds 600 --size 1280x720 --iters 2 --fps 10
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np


def make_video(path: Path, frames: int, size: tuple[int, int], loop_seconds: float, seed: int) -> Path:
    from selfmocap.video import write_video
    from selfmocap.data.clip import Clip
    from selfmocap.synth.config import SynthConfig
    from selfmocap.synth.run import generate

    w, h = size
    clip_dir = generate(SynthConfig(out=path.parent / "clip", split="test", clips=1, frames=frames, seed=seed, size=min(w, h)))[0]
    clip = Clip(clip_dir)
    fps = clip.meta.fps
    total = int(round(loop_seconds * fps)) if loop_seconds > 0 else frames
    order = np.concatenate([np.arange(frames), np.arange(frames - 2, 0, -1)])  # ping-pong: continuous motion
    cache = [clip.rgb(t) for t in range(frames)]

    def padded():
        for i in range(total):
            frame = cache[order[i % len(order)]]
            pad_x, pad_y = (w - frame.shape[1]) // 2, (h - frame.shape[0]) // 2
            yield cv2.copyMakeBorder(frame, pad_y, h - frame.shape[0] - pad_y, pad_x, w - frame.shape[1] - pad_x,
                                     cv2.BORDER_CONSTANT, value=(110, 110, 110))

    return write_video(padded(), path, fps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", type=Path, help="use this video instead of rendering one")
    parser.add_argument("--frames", type=int, default=150, help="frames of the rendered clip")
    parser.add_argument("--size", default="640x480", help="WxH of the rendered video")
    parser.add_argument("--loop-seconds", type=float, default=0.0, help="loop the clip into a video this long")
    parser.add_argument("--iters", type=int, default=0, help="adaptation steps per segment (0: the default schedule)")
    parser.add_argument("--fps", type=float, help="capture at this frame rate (capture's --fps subsampling)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the rendered test-split clip (the demo's: mediapipe finds that person in every frame)")
    parser.add_argument("--keep", type=Path, help="keep the capture output here")
    args = parser.parse_args()
    from selfmocap.capture.config import CaptureConfig, CaptureOptions, SourceOptions
    from selfmocap.capture.pipeline import run_capture

    w, h = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video = args.video
        if video is None:  # rendered in a child process, so its memory is not in this process's peak
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                video = pool.submit(make_video, tmp / "bench.mp4", args.frames, (w, h), args.loop_seconds, args.seed).result()
        out = args.keep or tmp / "capture"
        options = CaptureOptions(iters=args.iters, overwrite=True)
        result = run_capture(CaptureConfig(video=video, out=out, capture=options, source=SourceOptions(fps=args.fps)))
        print(result.summary.format(result.out))
        t = result.timings.as_dict()
        n = result.num_frames
        print(f"\nvideo {video.name}: {n} frames, {args.size}, analysed at {list(result.summary.size)}")
        print("| stage | s | ms / frame |\n|---|---|---|")
        for k, v in t.items():
            if k != "total":
                print(f"| {k} | {v:.1f} | {1000 * v / n:.1f} |")
        print(f"| total | {t['total']:.1f} | {1000 * t['total'] / n:.1f} ({n / t['total']:.2f} frames/s) |")
        # ru_maxrss: the kernel's peak resident set of this process (KiB on Linux), everything included
        print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
