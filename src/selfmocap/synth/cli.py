"""CLI of ``selfmocap synth``."""

from __future__ import annotations

import argparse

from selfmocap import config as cfg
from selfmocap.cli import Command
from selfmocap.synth.config import SynthConfig
from selfmocap.synth.run import generate


def _configure(parser: argparse.ArgumentParser) -> None:
    cfg.add_options(parser, SynthConfig)


def _run(args: argparse.Namespace) -> int:
    config = cfg.from_args(SynthConfig, args)
    paths = generate(config)
    print(f"{len(paths)} {config.split} clips in {config.out}" + (" (preview.png in each)" if config.preview else ""))
    return 0


COMMAND = Command(_configure, _run)
