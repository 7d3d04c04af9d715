"""CLI of ``selfmocap bench``."""

from __future__ import annotations

import argparse

from selfmocap import config as cfg
from selfmocap.cli import Command
from selfmocap.errors import UserError


def _configure(parser: argparse.ArgumentParser) -> None:
    from selfmocap.bench.config import BenchConfig

    cfg.add_options(parser, BenchConfig)
    parser.add_argument("--real-motion-variant", dest="real_motion_variant", action="append", metavar="NAME=LOSSES[:ALIGNMENT]",
                        help="an adaptation row of the real-motion table, e.g. adapted+world3d=kpt,seg,motion,world3d "
                             "(':scale' after the losses: the world3d term's scale-only alignment); "
                             "repeatable; replaces the default rows (default: adapted=kpt,seg,motion)")


def _run(args: argparse.Namespace) -> int:
    from selfmocap.bench.config import BenchConfig
    from selfmocap.bench.run import combine_results, format_tables, run_bench

    config = cfg.from_args(BenchConfig, args)
    if config.combine and config.real_motion.motions is not None:
        from selfmocap.bench.real_motion import combine_real_motion, format_real_motion

        print(format_real_motion(combine_real_motion(list(config.combine), config.out)))
        print(f"combined real-motion tables in {config.out}")
        return 0
    if config.combine:
        try:
            print(format_tables(combine_results(list(config.combine), config.out)))
        except (FileNotFoundError, ValueError) as err:
            raise UserError(str(err)) from None
        print(f"combined tables and figures in {config.out}")
        return 0
    if config.real_motion.motions is not None:
        return _run_real_motion(config, args.real_motion_variant)
    if args.real_motion_variant:
        raise UserError("--real-motion-variant needs --real-motion DIR (the rows of the real-motion table)")
    print(format_tables(run_bench(config)))
    print(f"tables, figures and numbers in {config.out}")
    return 0


def _run_real_motion(config, variant_specs: list[str] | None) -> int:
    from dataclasses import replace

    from selfmocap.bench.config import ObjectiveVariant, RealMotionOptions
    from selfmocap.bench.real_motion import QUICK, format_real_motion, run_real_motion

    options = config.real_motion
    if variant_specs:
        options = replace(options, variants=tuple(ObjectiveVariant.parse(s) for s in variant_specs))
    if config.quick:  # the quick scale, where an option was left at its default
        defaults = RealMotionOptions()
        options = replace(options, **{k: v for k, v in QUICK.items() if getattr(options, k) == getattr(defaults, k)})
    print(format_real_motion(run_real_motion(options, config.out, config.checkpoint, config.seed, config.inputs)))
    print(f"real-motion tables and numbers in {config.out}")
    return 0


COMMAND = Command(_configure, _run, "regenerate the paper's Tables 1-2 and Figures 3-4 on fresh synthetic data, or (--real-motion DIR) the real-motion table")
