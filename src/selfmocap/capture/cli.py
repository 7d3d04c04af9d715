"""CLIs of ``selfmocap capture`` and ``selfmocap demo``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from pathlib import Path

from selfmocap import config as cfg
from selfmocap.cli import Command


def _configure_capture(parser: argparse.ArgumentParser) -> None:
    from selfmocap.capture.config import CaptureConfig

    parser.add_argument("video", type=Path, metavar="VIDEO", help="video file (mp4, avi, mov, webm, ...) or folder of images")
    cfg.add_options(parser, CaptureConfig)


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Handle SIGTERM like Ctrl-C (the partial output folder is removed), restoring the old handler after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_capture(args: argparse.Namespace) -> int:
    from selfmocap.capture.config import CaptureConfig
    from selfmocap.capture.pipeline import run_capture

    config = cfg.from_args(CaptureConfig, args, video=args.video)
    with sigterm_as_interrupt():
        result = run_capture(config)
    print(result.summary.format(result.out))
    return 0


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    from selfmocap.capture.config import DemoConfig

    cfg.add_options(parser, DemoConfig)


def _run_demo(args: argparse.Namespace) -> int:
    from selfmocap.capture.config import DemoConfig
    from selfmocap.capture.demo import run_demo

    with sigterm_as_interrupt():
        run_demo(cfg.from_args(DemoConfig, args))
    return 0


CAPTURE = Command(_configure_capture, _run_capture,
                  "capture 3D motion from a video: cues, pretrained network, test-time adaptation, exports (docs/capture.md)")
DEMO = Command(_configure_demo, _run_demo,
               "render a held-out synthetic clip to a video, capture it like a real one, score it against its 3D ground truth")
