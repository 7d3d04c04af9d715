"""CLI of ``selfmocap evaluate``."""

from __future__ import annotations

import argparse

from selfmocap import config as cfg
from selfmocap.cli import Command
from selfmocap.errors import UserError


def _configure(parser: argparse.ArgumentParser) -> None:
    from selfmocap.eval.config import EvaluateConfig

    cfg.add_options(parser, EvaluateConfig)


def _run(args: argparse.Namespace) -> int:
    from selfmocap.eval.config import EvaluateConfig
    from selfmocap.eval.evaluate import run_evaluate

    try:
        run_evaluate(cfg.from_args(EvaluateConfig, args))
    except (FileNotFoundError, ValueError) as err:
        raise UserError(str(err)) from None
    return 0


COMMAND = Command(_configure, _run, "3D errors (mm) of a predictions folder against the clips' ground truth")
