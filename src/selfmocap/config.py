"""One typed config system: dataclasses whose fields (with a docstring-like ``help`` in their
metadata) become command-line options, and are saved next to every output.

Use :func:`field` to declare an option, :func:`add_options` to expose a dataclass on an
``argparse`` parser, :func:`from_args` to build it back, :func:`save_config` to write it.
A ``tuple[X, ...]`` field (``X`` a ``Literal``, ``str``, ``int``, ``float`` or ``Path``) is one
comma-separated option: ``--losses kpt,seg,motion``. A ``ValueError`` of a config's own checks
(``__post_init__``) reaches the user as a one-line :class:`~selfmocap.errors.UserError`.

Why this generator and not tyro: ``docs/conventions.md``, "Configuration".
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from selfmocap.errors import UserError
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


def _items(tp):
    """The element type of a ``tuple[X, ...]`` field, or None for any other type."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


def comma_list(text: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``: the items of a comma-separated option."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


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
        items = _items(tp)
        base = _base_type(tp if items is None else items)
        choices = f.metadata.get("choices")
        if typing.get_origin(tp if items is None else items) is typing.Literal:
            choices = typing.get_args(tp if items is None else items)
        if items is not None:  # one comma-separated option; the config's own checks validate the items
            convert = base if base in (int, float, Path) else str
            kwargs["type"] = lambda text, convert=convert: tuple(convert(item) for item in comma_list(text))
            kwargs["default"] = default
            kwargs["metavar"] = "{" + ",".join(choices) + "},..." if choices else f.name.upper().rstrip("S") + ",..."
        elif base is bool:
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
        if kwargs.get("default") not in (None, ()) and kwargs["help"] and base is not bool:
            kwargs["help"] += f" (default: {_show(kwargs['default'])})"
        parser.add_argument(flag, **kwargs)


def from_args(cls: type[T], args: argparse.Namespace, path: str = "", **overrides) -> T:
    """Build dataclass ``cls`` from parsed arguments (the inverse of :func:`add_options`); a
    ``ValueError`` of its checks becomes a one-line ``UserError``."""
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
    try:
        return cls(**values)
    except ValueError as err:
        raise UserError(str(err)) from None


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
