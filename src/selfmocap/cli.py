"""The ``selfmocap`` command. Thin: each subcommand parses its options, then calls one library
function. Subcommands are registered in :data:`COMMANDS` as ``name -> "module:attribute"`` of a
:class:`Command`, imported lazily so ``selfmocap --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from typing import Callable

from selfmocap.errors import UserError

#: name -> ("module:attribute" of its :class:`Command`, help line).
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("selfmocap.capture.cli:DEMO", "the embedded default: capture a held-out synthetic video and score it"),
    "capture": ("selfmocap.capture.cli:CAPTURE", "3D motion from a video: parameters, glb, BVH, overlay video, report"),
    "batch": ("selfmocap.batch.cli:COMMAND", "capture many videos (folder or manifest): resumable, N workers or Ray, a summary"),
    "synth": ("selfmocap.synth.cli:COMMAND", "generate SURREAL-like synthetic clips with full ground truth"),
    "pretrain": ("selfmocap.training.cli:COMMAND", "supervised pretraining of the paper's network on synthetic clips"),
    "predict": ("selfmocap.adapt.cli:PREDICT", "predict with the pretrained network, no adaptation (the paper's baseline)"),
    "optimize": ("selfmocap.adapt.cli:OPTIMIZE", "direct optimization of per-frame body parameters (the paper's baseline)"),
    "bench": ("selfmocap.bench.cli:COMMAND", "regenerate the paper's tables and figures from scratch"),
    "evaluate": ("selfmocap.eval.cli:COMMAND", "3D errors (mm) of predictions against the clips' ground truth"),
    "adapt": ("selfmocap.adapt.cli:ADAPT", "self-supervised test-time adaptation of the network's weights (the paper's method)"),
}


@dataclass(frozen=True)
class Command:
    """A subcommand: ``configure`` adds its options, ``run`` executes the parsed arguments."""

    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]
    description: str = ""


def build_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, Command | None]:
    from selfmocap import __version__

    parser = argparse.ArgumentParser(prog="selfmocap", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"selfmocap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None
    for name, (module, help_line) in COMMANDS.items():
        if argv and argv[0] == name:
            module_name, attribute = module.split(":")
            command: Command = getattr(importlib.import_module(module_name), attribute)
            p = sub.add_parser(name, help=help_line, description=command.description or help_line)
            command.configure(p)
            chosen = command
        else:
            sub.add_parser(name, help=help_line)
    return parser, chosen


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, command = build_parser(argv)
    args = parser.parse_args(argv)
    if command is None:
        parser.print_help()
        return 0 if not argv else 2
    try:
        return int(command.run(args) or 0)
    except UserError as err:
        print(f"selfmocap {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"selfmocap {args.command}: interrupted; completed outputs are kept, partial ones discarded", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # ``python -m selfmocap.cli`` runs this file as __main__, a second copy of the module: use the
    # importable one, whose UserError is the one library code raises.
    from selfmocap.cli import main as _main

    sys.exit(_main())
