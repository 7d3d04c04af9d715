"""CLI of ``selfmocap batch``: every option of ``selfmocap capture``, plus the batch's own."""

from __future__ import annotations

import argparse
from pathlib import Path

from selfmocap import config as cfg
from selfmocap.cli import Command


def _configure(parser: argparse.ArgumentParser) -> None:
    from selfmocap.batch.config import BatchConfig

    parser.add_argument("inputs", type=Path, metavar="INPUTS",
                        help="a folder (searched for videos and image folders) or a CSV/JSON manifest (docs/batch.md)")
    cfg.add_options(parser, BatchConfig)


def _run(args: argparse.Namespace) -> int:
    from selfmocap.batch.config import BatchConfig
    from selfmocap.batch.run import EXIT_ROWS_FAILED, run_batch
    from selfmocap.batch.summary import counts
    from selfmocap.capture.cli import sigterm_as_interrupt

    with sigterm_as_interrupt():
        report = run_batch(cfg.from_args(BatchConfig, args, inputs=args.inputs))
    n = counts(report.rows)
    print(f"batch: {n['captured']} captured, {n['complete']} kept from earlier runs, {n['failed']} failed "
          f"-> {report.out / 'summary.csv'}")
    return 0 if report.succeeded else EXIT_ROWS_FAILED


COMMAND = Command(_configure, _run,
                  "capture every video of a folder or manifest, resumably, with N local workers or on Ray (docs/batch.md); "
                  "exit code 0 when every input succeeded, 1 when some failed")
