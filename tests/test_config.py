"""selfmocap.config: every command's config survives its own round trip. The resolved config a
command saves (``cfg.to_dict``, in ``run.json`` / ``config.json``), turned back into that command's
flags and parsed by its own parser, gives the same config; and the parser's defaults are the
dataclass's defaults."""

from __future__ import annotations

import dataclasses
import importlib
import json
import types
import typing
from pathlib import Path

import pytest

from selfmocap import config as cfg
from selfmocap.cli import COMMANDS, build_parser

#: command -> ("module:Config" it parses, its required fields' values). A new command adds a line.
COMMAND_CONFIGS: dict[str, tuple[str, dict]] = {
    "demo": ("selfmocap.capture.demo:DemoConfig", {}),
    "capture": ("selfmocap.capture.pipeline:CaptureConfig", {"video": Path("in/clip.mp4"), "out": Path("out/capture")}),
    "batch": ("selfmocap.batch.config:BatchConfig", {"inputs": Path("in/videos"), "out": Path("out/batch")}),
    "synth": ("selfmocap.synth.run:SynthConfig", {"out": Path("out/clips"), "split": "test", "clips": 3}),
    "pretrain": ("selfmocap.training.config:PretrainConfig", {"data": Path("data/train"), "out": Path("out/run")}),
    "predict": ("selfmocap.adapt.predict:PredictConfig", {"data": Path("data/test"), "out": Path("out/pred")}),
    "optimize": ("selfmocap.adapt.optimize:OptimizeConfig", {"data": Path("data/test"), "out": Path("out/pred")}),
    "adapt": ("selfmocap.adapt.adapt:AdaptConfig", {"data": Path("data/test"), "out": Path("out/pred")}),
    "bench": ("selfmocap.bench.run:BenchConfig", {"out": Path("out/bench")}),
    "evaluate": ("selfmocap.eval.evaluate:EvaluateConfig", {"pred": Path("out/pred"), "data": Path("data/test")}),
}


def _config_class(name: str) -> type:
    module, cls = COMMAND_CONFIGS[name][0].split(":")
    return getattr(importlib.import_module(module), cls)


def _required(cls: type, given: dict) -> dict:
    """The values of ``cls``'s fields without a default: from ``given``, which must have them all."""
    missing = [f.name for f in dataclasses.fields(cls)
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in given]
    assert not missing, f"add values for {missing} to COMMAND_CONFIGS"
    return {k: v for k, v in given.items() if k in {f.name for f in dataclasses.fields(cls)}}


def to_argv(cls: type, saved: dict, flag_prefix: str = "", path: str = "") -> tuple[list[str], list[str]]:
    """The flags that give ``saved`` (a ``cfg.to_dict`` of a ``cls``), mirroring
    :func:`selfmocap.config.add_options`; and the dotted names of the fields the command parses
    itself (``flag=""``: positionals, repeatable options)."""
    hints = typing.get_type_hints(cls)
    argv, own = [], []
    for f in dataclasses.fields(cls):
        value = saved[f.name]
        if dataclasses.is_dataclass(hints[f.name]):
            sub_argv, sub_own = to_argv(hints[f.name], value, flag_prefix + f.metadata.get("prefix", ""), f"{path}{f.name}.")
            argv += sub_argv
            own += sub_own
            continue
        if f.metadata.get("flag") == "":
            own.append(path + f.name)
            continue
        flag = f.metadata.get("flag") or "--" + (flag_prefix + f.name).replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag.removeprefix("--"))
        elif isinstance(value, list):  # a tuple field: one comma-separated option
            argv += [flag, ",".join(map(str, value))]
        elif value is not None:
            assert not isinstance(value, dict), f"{flag}: a dict has no flag form"
            argv += [flag, str(value)]
    return argv, own


def _get(config, dotted: str):
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


def _with(config, dotted: str, value):
    head, _, rest = dotted.partition(".")
    return dataclasses.replace(config, **{head: _with(getattr(config, head), rest, value) if rest else value})


def _parse(name: str, cls: type, argv: list[str], config, own: list[str]):
    """``argv`` parsed by the command's own parser into a ``cls``; the fields the command parses
    itself are taken from ``config`` (positionals are also given on ``argv``)."""
    parser, command = build_parser([name, *argv])
    assert command is not None
    top = {k: getattr(config, k) for k in own if "." not in k}
    parsed = cfg.from_args(cls, parser.parse_args([name, *argv]), **top)
    for dotted in (k for k in own if "." in k):
        parsed = _with(parsed, dotted, _get(config, dotted))
    return parsed


@pytest.mark.parametrize("name", list(COMMANDS))
def test_saved_defaults_parse_back_to_the_same_config(name):
    assert name in COMMAND_CONFIGS, f"add the config of `selfmocap {name}` to COMMAND_CONFIGS"
    cls = _config_class(name)
    required = _required(cls, COMMAND_CONFIGS[name][1])
    config = cls(**required)
    saved = json.loads(json.dumps(cfg.to_dict(config)))  # what run.json holds
    flags, own = to_argv(cls, saved)
    positional = [str(v) for k, v in required.items() if k in own]
    assert _parse(name, cls, positional + flags, config, own) == config
    # only the required values: the rest from the parser's defaults, which are the dataclass's
    required_flags = [a for k, v in required.items() if k not in own for a in (_flag(cls, k), str(v))]
    assert _parse(name, cls, positional + required_flags, config, own) == config


def _flag(cls: type, name: str) -> str:
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return f.metadata.get("flag") or "--" + name.replace("_", "-")


def _literal_fields(cls: type, flag_prefix: str = ""):
    """(flag, choices) of every ``Literal`` field of ``cls`` that has a flag, nested ones too."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            yield from _literal_fields(tp, flag_prefix + f.metadata.get("prefix", ""))
            continue
        args = [a for a in typing.get_args(tp) if a is not type(None)] if typing.get_origin(tp) in (typing.Union, types.UnionType) else [tp]
        if len(args) == 1 and typing.get_origin(args[0]) is typing.Literal and f.metadata.get("flag") != "":
            yield f.metadata.get("flag") or "--" + (flag_prefix + f.name).replace("_", "-"), typing.get_args(args[0])


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_shows_the_choices_of_every_literal_field(name):
    parser, _ = build_parser([name])
    text = " ".join(parser._subparsers._group_actions[0].choices[name].format_help().split())
    fields = list(_literal_fields(_config_class(name)))
    for flag, choices in fields:
        assert f"{flag} {{{','.join(choices)}}}" in text, (flag, choices)


@dataclasses.dataclass(frozen=True)
class _Inner:
    steps: int = cfg.field(20, help="steps")
    mode: typing.Literal["a", "b"] = cfg.field("a", help="mode")


@dataclasses.dataclass(frozen=True)
class _Outer:
    inner: _Inner = cfg.field(default_factory=lambda: _Inner(steps=0, mode="b"), help="nested", prefix="inner-")


def test_a_nested_default_instance_gives_the_flags_defaults():
    import argparse

    parser = argparse.ArgumentParser()
    cfg.add_options(parser, _Outer)
    assert cfg.from_args(_Outer, parser.parse_args([])) == _Outer()
    assert cfg.from_args(_Outer, parser.parse_args(["--inner-steps", "3"])).inner == _Inner(steps=3, mode="b")
    assert "--inner-mode {a,b}" in parser.format_help()


@dataclasses.dataclass(frozen=True)
class _Lists:
    names: tuple[typing.Literal["a", "b", "c"], ...] = cfg.field(("a", "b"), help="names")
    folders: tuple[Path, ...] = cfg.field((), help="folders")

    def __post_init__(self) -> None:
        if set(self.names) - {"a", "b", "c"}:
            raise ValueError(f"--names must be a subset of a,b,c, got {','.join(self.names)!r}")


def test_a_tuple_field_is_one_comma_separated_option():
    import argparse

    from selfmocap.errors import UserError

    parser = argparse.ArgumentParser()
    cfg.add_options(parser, _Lists)
    assert cfg.from_args(_Lists, parser.parse_args([])) == _Lists()
    parsed = cfg.from_args(_Lists, parser.parse_args(["--names", "c, a,", "--folders", "x,y/z"]))
    assert parsed == _Lists(names=("c", "a"), folders=(Path("x"), Path("y/z")))
    text = " ".join(parser.format_help().split())
    assert "--names {a,b,c},..." in text and "(default: a,b)" in text
    with pytest.raises(UserError, match="--names must be a subset of a,b,c, got 'a,d'"):
        cfg.from_args(_Lists, parser.parse_args(["--names", "a,d"]))
