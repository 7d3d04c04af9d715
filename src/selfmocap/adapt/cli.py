"""CLIs of ``selfmocap adapt``, ``predict`` and ``optimize``: parse the config, run the library
function (which checks its inputs with one-line errors before any work)."""

from __future__ import annotations

import argparse
import importlib

from selfmocap import config as cfg
from selfmocap.cli import Command


def _command(module: str, config_name: str, run_name: str, description: str) -> Command:
    """A subcommand whose options are the dataclass ``selfmocap.adapt.config.config_name`` and whose
    work is ``module.run_name(config)`` returning the predictions folder."""

    def configure(parser: argparse.ArgumentParser) -> None:
        cfg.add_options(parser, getattr(importlib.import_module("selfmocap.adapt.config"), config_name))

    def run(args: argparse.Namespace) -> int:
        config = cfg.from_args(getattr(importlib.import_module("selfmocap.adapt.config"), config_name), args)
        print(f"predictions in {getattr(importlib.import_module(module), run_name)(config)}")
        return 0

    return Command(configure, run, description)


ADAPT = _command("selfmocap.adapt.adapt", "AdaptConfig", "run_adapt",
                 "fine-tune the pretrained network on unlabeled clips with self-supervised losses")
PREDICT = _command("selfmocap.adapt.predict", "PredictConfig", "run_predict",
                   "predict with the pretrained network, no adaptation (the paper's baseline)")
OPTIMIZE = _command("selfmocap.adapt.optimize", "OptimizeConfig", "run_optimize",
                    "the direct-optimization baseline: per-frame body parameters fitted with the same losses")
