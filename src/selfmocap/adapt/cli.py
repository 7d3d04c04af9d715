"""CLIs of ``selfmocap adapt`` and ``selfmocap predict``."""

from __future__ import annotations

import argparse

from selfmocap import config as cfg
from selfmocap.cli import Command, UserError


def _configure_adapt(parser: argparse.ArgumentParser) -> None:
    from selfmocap.adapt.adapt import AdaptConfig

    cfg.add_options(parser, AdaptConfig)


def _run_adapt(args: argparse.Namespace) -> int:
    from selfmocap.adapt.adapt import AdaptConfig, run_adapt

    config = cfg.from_args(AdaptConfig, args)
    _check(config)
    print(f"predictions in {run_adapt(config)}")
    return 0


def _configure_predict(parser: argparse.ArgumentParser) -> None:
    from selfmocap.adapt.predict import PredictConfig

    cfg.add_options(parser, PredictConfig)


def _run_predict(args: argparse.Namespace) -> int:
    from selfmocap.adapt.predict import PredictConfig, run_predict

    config = cfg.from_args(PredictConfig, args)
    _check(config)
    print(f"predictions in {run_predict(config)}")
    return 0


def _configure_optimize(parser: argparse.ArgumentParser) -> None:
    from selfmocap.adapt.optimize import OptimizeConfig

    cfg.add_options(parser, OptimizeConfig)


def _run_optimize(args: argparse.Namespace) -> int:
    from selfmocap.adapt.optimize import OptimizeConfig, run_optimize

    config = cfg.from_args(OptimizeConfig, args)
    _check(config)
    print(f"predictions in {run_optimize(config)}")
    return 0


def _check(config) -> None:
    """One-line errors for the usual mistakes, before any work starts."""
    from selfmocap.data.clip import list_clips
    from selfmocap.models.pretrained import CheckpointError, load_pretrained

    try:
        list_clips(config.data)
    except (FileNotFoundError, ValueError) as err:
        raise UserError(str(err)) from None
    if hasattr(config, "checkpoint"):
        try:
            load_pretrained(config.checkpoint)
        except CheckpointError as err:
            raise UserError(str(err)) from None
    objective = getattr(config, "objective", None)
    if objective is not None:
        try:
            objective.enabled()
        except ValueError as err:
            raise UserError(str(err)) from None
    if config.out.exists() and not config.out.is_dir():
        raise UserError(f"--out {config.out} exists and is not a folder")


ADAPT = Command(_configure_adapt, _run_adapt, "fine-tune the pretrained network on unlabeled clips with self-supervised losses")
OPTIMIZE = Command(_configure_optimize, _run_optimize, "the direct-optimization baseline: per-frame body parameters fitted with the same losses")
PREDICT = Command(_configure_predict, _run_predict, "predict with the pretrained network, no adaptation (the paper's baseline)")
