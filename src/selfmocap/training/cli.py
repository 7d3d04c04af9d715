"""CLI of ``selfmocap pretrain`` (also under ``torchrun --nproc_per_node N -m selfmocap.cli pretrain``)."""

from __future__ import annotations

import argparse

from selfmocap import config as cfg
from selfmocap.cli import Command
from selfmocap.errors import UserError
from selfmocap.models.pretrained import CheckpointError
from selfmocap.training.config import PretrainConfig
from selfmocap.training.pretrain import PretrainError, pretrain


def _configure(parser: argparse.ArgumentParser) -> None:
    cfg.add_options(parser, PretrainConfig)
    parser.add_argument("--val", action="append", default=[], metavar="NAME=DIR",
                        help="validation clips folder, repeatable (e.g. --val test=data/test --val shift=data/shift)")


def _run(args: argparse.Namespace) -> int:
    try:
        config = cfg.from_args(PretrainConfig, args, val=tuple(args.val))
        out = pretrain(config)
    except (PretrainError, CheckpointError) as err:
        raise UserError(str(err)) from None
    except ValueError as err:  # invalid option values caught by the config records
        raise UserError(str(err)) from None
    print(f"run in {out}: checkpoint.pt, pretrained.pt, train.csv, val.csv, curves.png")
    return 0


COMMAND = Command(_configure, _run, description="supervised pretraining of the paper's network on synthetic clips")
