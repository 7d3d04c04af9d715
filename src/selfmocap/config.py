"""One typed config system: dataclasses whose fields (with a docstring-like ``help`` in their
metadata) become command-line options, and are saved next to every output.

Use :func:`field` to declare an option, :func:`add_options` to expose a dataclass on an
``argparse`` parser, :func:`from_args` to build it back, :func:`save_config` to write it.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from selfmocap.io import write_json

T = TypeVar("T")


def field(default: Any = dataclasses.MISSING, *, help: str, flag: str | None = None, choices=None,
          default_factory=dataclasses.MISSING, prefix: str = ""):
    """A config field with its help text (and optionally its CLI flag name and choices).

    For a nested dataclass field, ``prefix`` is put before the flags of its own fields
    (``prefix="weight-"`` gives ``--weight-keypoint``); by default they are exposed unprefixed.
    """
    metadata = {"help": help, "flag": flag, "choices": choices, "prefix": prefix}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _base_type(tp):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _base_type(args[0])
    if origin is typing.Literal:
        return type(typing.get_args(tp)[0])
    return tp


def _default(f: dataclasses.Field, instance: Any = None) -> Any:
    """A field's default: its value in ``instance`` (the parent's default, when it is nested),
    else its own default or factory's, else None."""
    if instance is not None:
        return getattr(instance, f.name)
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else None


def add_options(parser: argparse.ArgumentParser, cls: type, path: str = "", flag_prefix: str = "",
                defaults: Any = None) -> None:
    """Add one ``--option`` per field of dataclass ``cls``; nested dataclasses are flattened (their
    flags get the field's ``prefix``, their defaults are those of the parent's default instance).
    ``defaults``: the instance whose values are the defaults (None: the class's own)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            add_options(parser, tp, path=f"{path}{f.name}.", flag_prefix=flag_prefix + f.metadata.get("prefix", ""),
                        defaults=_default(f, defaults))
            continue
        if f.metadata.get("flag") == "":
            continue  # positional or handled by the command itself
        flag = f.metadata.get("flag") or "--" + (flag_prefix + f.name).replace("_", "-")
        default = _default(f, defaults)
        kwargs: dict[str, Any] = {"dest": (path + f.name).replace(".", "__"), "help": f.metadata.get("help", "")}
        base = _base_type(tp)
        choices = f.metadata.get("choices")
        if typing.get_origin(tp) is typing.Literal:
            choices = typing.get_args(tp)
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
            kwargs["default"] = default
        else:
            kwargs["type"] = base if base in (int, float, str) else (Path if base is Path else str)
            kwargs["default"] = default
            if choices:  # argparse shows them as the metavar: --batchnorm {frozen,adapt}
                kwargs["choices"] = choices
            else:
                kwargs["metavar"] = f.name.upper()
            if defaults is None and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                kwargs["required"] = True
        if kwargs.get("default") is not None and kwargs["help"] and base is not bool:
            kwargs["help"] += f" (default: {kwargs['default']})"
        parser.add_argument(flag, **kwargs)


def from_args(cls: type[T], args: argparse.Namespace, path: str = "", **overrides) -> T:
    """Build dataclass ``cls`` from parsed arguments (the inverse of :func:`add_options`)."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            values[f.name] = from_args(tp, args, path=f"{path}{f.name}.")
            continue
        key = (path + f.name).replace(".", "__")
        if hasattr(args, key):
            values[f.name] = getattr(args, key)
    values.update(overrides)
    return cls(**values)


def to_dict(config: Any) -> dict:
    """JSON-ready dict of a (nested) config dataclass."""

    def convert(value):
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, (tuple, list)):
            return [convert(v) for v in value]
        return str(value) if isinstance(value, Path) else value

    return {k: convert(v) for k, v in dataclasses.asdict(config).items()}


def save_config(config: Any, path: str | Path, **extra) -> None:
    """Save the resolved config (plus e.g. versions) as JSON, atomically."""
    payload = {"config": to_dict(config), **extra}
    write_json(path, payload)
