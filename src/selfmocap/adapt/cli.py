"""CLIs of ``selfmocap adapt``, ``predict`` and ``optimize``: parse the config, check the inputs
with one-line errors, run the library function."""

from __future__ import annotations

import argparse
import importlib

from selfmocap import config as cfg
from selfmocap.cli import Command
from selfmocap.errors import UserError


def _check(config) -> None:
    """One-line errors for the usual mistakes, before any work starts."""
    from selfmocap.data.clip import list_clips
    from selfmocap.models.pretrained import CheckpointError, load_pretrained

    try:
        list_clips(config.data, body=getattr(config, "body", None))
    except (FileNotFoundError, ValueError) as err:
        raise UserError(str(err)) from None
    if hasattr(config, "checkpoint"):
        try:
            load_pretrained(config.checkpoint)
        except CheckpointError as err:
            raise UserError(str(err)) from None
    if hasattr(config, "objective"):
        try:
            config.objective.enabled()
        except ValueError as err:
            raise UserError(str(err)) from None
    replay_data = getattr(getattr(config, "adapt", None), "replay_data", None)
    if replay_data is not None:
        from selfmocap.adapt.replay import ReplayError, open_replay

        if replay_data.resolve() == config.data.resolve():
            raise UserError(f"--replay-data {replay_data} is the folder being adapted to: replay synthetic training clips")
        try:
            open_replay(replay_data, load_pretrained(config.checkpoint).card, config.adapt.replay_batch, config.adapt.seed, config.body)
        except ReplayError as err:
            raise UserError(str(err)) from None
    if config.out.exists() and not config.out.is_dir():
        raise UserError(f"--out {config.out} exists and is not a folder")


def _command(module: str, config_name: str, run_name: str, description: str) -> Command:
    """A subcommand whose options are the dataclass ``module.config_name`` and whose work is
    ``module.run_name(config)`` returning the predictions folder."""

    def configure(parser: argparse.ArgumentParser) -> None:
        cfg.add_options(parser, getattr(importlib.import_module(module), config_name))

    def run(args: argparse.Namespace) -> int:
        mod = importlib.import_module(module)
        try:
            config = cfg.from_args(getattr(mod, config_name), args)
        except ValueError as err:  # a config's own checks (__post_init__)
            raise UserError(str(err)) from None
        _check(config)
        print(f"predictions in {getattr(mod, run_name)(config)}")
        return 0

    return Command(configure, run, description)


ADAPT = _command("selfmocap.adapt.adapt", "AdaptConfig", "run_adapt",
                 "fine-tune the pretrained network on unlabeled clips with self-supervised losses")
PREDICT = _command("selfmocap.adapt.predict", "PredictConfig", "run_predict",
                   "predict with the pretrained network, no adaptation (the paper's baseline)")
OPTIMIZE = _command("selfmocap.adapt.optimize", "OptimizeConfig", "run_optimize",
                    "the direct-optimization baseline: per-frame body parameters fitted with the same losses")
