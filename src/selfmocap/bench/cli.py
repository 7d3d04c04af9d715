"""CLI of ``selfmocap bench``."""

from __future__ import annotations

import argparse
from pathlib import Path

from selfmocap import config as cfg
from selfmocap.cli import Command
from selfmocap.errors import UserError


def _configure(parser: argparse.ArgumentParser) -> None:
    from selfmocap.bench.run import BenchConfig

    cfg.add_options(parser, BenchConfig)


def _run(args: argparse.Namespace) -> int:
    from selfmocap.bench.run import BenchConfig, combine_results, format_tables, run_bench
    from selfmocap.models.pretrained import CheckpointError, load_pretrained

    config = cfg.from_args(BenchConfig, args)
    if config.combine:
        try:
            print(format_tables(combine_results([Path(f) for f in config.combine.split(",") if f], config.out)))
        except (FileNotFoundError, ValueError) as err:
            raise UserError(str(err)) from None
        print(f"combined tables and figures in {config.out}")
        return 0
    try:
        load_pretrained(config.checkpoint)
    except CheckpointError as err:
        raise UserError(str(err)) from None
    print(format_tables(run_bench(config)))
    print(f"tables, figures and numbers in {config.out}")
    return 0


COMMAND = Command(_configure, _run, "regenerate the paper's Tables 1-2 and Figures 3-4 on fresh synthetic data")
