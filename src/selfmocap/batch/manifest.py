"""The inputs of a batch: a folder searched for videos and image folders, or a CSV/JSON manifest
(``docs/batch.md``), each input with a unique, stable output name derived from its path.

Only the manifest's form is checked here (columns, types, duplicates): whether each path is a
video capture can read is capture's question, asked per input, so a broken input fails its own
row and not the batch.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

from selfmocap.video import IMAGE_SUFFIXES
from selfmocap.errors import UserError

#: Video files a folder search picks up (case-insensitive); a manifest may name any file.
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".avi", ".mov", ".webm", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv")

#: Names in the output folder that belong to the batch itself.
RESERVED_NAMES = frozenset({"summary.csv", "summary.json"})

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BatchInput:
    """One input of a batch: what to capture, into which subfolder, with which per-row options."""

    name: str  #: the output subfolder, unique in the batch
    path: Path  #: video file or image folder (absolute, or as given when it is relative to nothing)
    key: str  #: the path as the user gave it, relative to the folder or manifest: what the name derives from
    start: float | None = None
    end: float | None = None
    fps: float | None = None
    keypoints: Path | None = None
    masks: Path | None = None


#: Manifest columns (CSV header / JSON keys); ``path`` is required.
COLUMNS = tuple(f.name for f in fields(BatchInput) if f.name != "key")


def _is_image_folder(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") for p in folder.iterdir())


def find_inputs(folder: Path, exclude: Path | None = None) -> list[tuple[str, Path]]:
    """Videos and image folders under ``folder`` as ``(relative key, path)``, in sorted order.

    A folder holding at least one image is one input (an image sequence) and is not searched
    further; other folders are searched recursively. Hidden entries (``.name``) and ``exclude``
    (the batch's own output folder, when it lies inside the inputs) are skipped.
    """
    found: list[tuple[str, Path]] = []
    excluded = exclude.resolve() if exclude is not None else None

    def walk(current: Path) -> None:
        for entry in sorted(current.iterdir(), key=lambda p: p.name):
            if entry.name.startswith(".") or (excluded is not None and entry.resolve() == excluded):
                continue
            if entry.is_dir():
                if _is_image_folder(entry):
                    found.append((entry.relative_to(folder).as_posix(), entry))
                else:
                    walk(entry)
            elif entry.is_file() and entry.suffix.lower() in VIDEO_SUFFIXES:
                found.append((entry.relative_to(folder).as_posix(), entry))

    walk(folder)
    return found


def output_name(key: str) -> str:
    """The output subfolder of an input: its relative path, ``/`` as ``__``, other characters
    outside ``[A-Za-z0-9._-]`` as ``_`` (``day1/take 3.mp4`` -> ``day1__take_3.mp4``). It depends on
    the path alone, so adding inputs to a folder never renames the outputs of the others."""
    parts = [p for p in Path(key).as_posix().split("/") if p not in ("", ".")]
    name = "__".join("_" if p == ".." else _UNSAFE.sub("_", p) for p in parts)
    return name.lstrip(".") or "input"


def _disambiguate(inputs: list[BatchInput]) -> list[BatchInput]:
    """Inputs whose names clash (after the character replacement, or one file twice with other
    windows) get a short hash of their path and window appended; the others keep their names."""
    by_name: dict[str, list[int]] = {}
    for i, item in enumerate(inputs):
        by_name.setdefault(item.name.lower(), []).append(i)
    out = list(inputs)
    for name, indices in by_name.items():
        if len(indices) == 1 and name not in RESERVED_NAMES:
            continue
        for i in indices:
            item = inputs[i]
            identity = json.dumps([item.key, item.start, item.end, item.fps])
            digest = hashlib.sha1(identity.encode()).hexdigest()[:8]
            out[i] = replace(item, name=f"{item.name}-{digest}")
    return out


def _number(value, column: str, where: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise UserError(f"{where}: {column} is {value!r}, not a number of seconds/frames per second: fix the manifest")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: {column} is {value!r}, not a number: fix the manifest") from None


def _path(value, base: Path, column: str, where: str) -> Path | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise UserError(f"{where}: {column} is {value!r}, not a path: fix the manifest")
    path = Path(value.strip()).expanduser()
    return path if path.is_absolute() else base / path


def _row(record: dict, base: Path, where: str) -> BatchInput:
    unknown = sorted(set(record) - set(COLUMNS))
    if unknown:
        raise UserError(f"{where}: unknown column {unknown[0]!r}: the columns are {', '.join(COLUMNS)}")
    raw = record.get("path")
    path = _path(raw, base, "path", where)
    if path is None:
        raise UserError(f"{where}: no path: every row names a video file or image folder")
    key = raw.strip()
    given = record.get("name")
    if given is not None and not isinstance(given, str):
        raise UserError(f"{where}: name is {given!r}, not text: fix the manifest")
    if given is not None and given.strip():
        name = given.strip()
        if name != output_name(name) or name in RESERVED_NAMES:
            raise UserError(f"{where}: name {name!r} is not a plain folder name (letters, digits, '.', '_', '-'; "
                            f"not {' or '.join(sorted(RESERVED_NAMES))}): fix the manifest")
    else:
        name = output_name(key)
    return BatchInput(
        name=name, path=path, key=key,
        start=_number(record.get("start"), "start", where), end=_number(record.get("end"), "end", where),
        fps=_number(record.get("fps"), "fps", where),
        keypoints=_path(record.get("keypoints"), base, "keypoints", where),
        masks=_path(record.get("masks"), base, "masks", where),
    )


def read_manifest(manifest: Path) -> list[BatchInput]:
    """Rows of a CSV (a header row naming :data:`COLUMNS`) or JSON manifest (a list of objects with
    those keys, or of path strings). Relative paths are relative to the manifest's folder."""
    base = manifest.parent.resolve()
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read the manifest {manifest} ({err}): give a UTF-8 CSV or JSON file") from None
    if manifest.suffix.lower() == ".json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(f"{manifest} is not valid JSON (line {err.lineno}: {err.msg}): fix the manifest") from None
        if isinstance(records, dict) and isinstance(records.get("inputs"), list):
            records = records["inputs"]
        if not isinstance(records, list):
            raise UserError(f"{manifest}: a JSON manifest is a list of rows ({{\"path\": ...}} or path strings): fix it")
        rows = []
        for i, record in enumerate(records):
            where = f"{manifest} row {i + 1}"
            if isinstance(record, str):
                record = {"path": record}
            if not isinstance(record, dict):
                raise UserError(f"{where}: {record!r} is neither an object nor a path: fix the manifest")
            rows.append(_row(record, base, where))
    else:
        reader = csv.DictReader(text.splitlines())
        header = [h.strip() for h in (reader.fieldnames or [])]
        if "path" not in header:
            raise UserError(f"{manifest}: the CSV header has no 'path' column (got {','.join(header) or 'nothing'}): "
                            f"the first row names the columns, of {', '.join(COLUMNS)}")
        reader.fieldnames = header
        rows = []
        for i, record in enumerate(reader):
            where = f"{manifest} line {i + 2}"
            if None in record:
                raise UserError(f"{where}: more cells than the header's {len(header)} columns: fix the manifest")
            if not any((v or "").strip() for v in record.values()):
                continue  # blank line
            rows.append(_row(record, base, where))
    _check_unique(rows, manifest)
    return _disambiguate(rows)


def _check_unique(rows: list[BatchInput], manifest: Path) -> None:
    seen: dict[tuple, int] = {}
    named: dict[str, int] = {}
    for i, row in enumerate(rows):
        identity = (str(row.path), row.start, row.end, row.fps)
        if identity in seen:
            raise UserError(f"{manifest}: row {i + 1} repeats row {seen[identity] + 1} ({row.key}): remove one of them")
        seen[identity] = i
    for i, row in enumerate(rows):
        if row.name != output_name(row.key):  # a name the user chose must be unique as given
            if row.name.lower() in named:
                raise UserError(f"{manifest}: rows {named[row.name.lower()] + 1} and {i + 1} both have name {row.name!r}: "
                                "give each row its own name")
            named[row.name.lower()] = i


def read_inputs(inputs: Path, out: Path) -> list[BatchInput]:
    """The inputs of a batch, from a folder or a manifest (one-line ``UserError`` if there are none)."""
    inputs = inputs.expanduser()
    if not inputs.exists():
        raise UserError(f"{inputs} does not exist: give a folder of videos or a CSV/JSON manifest")
    if inputs.is_dir():
        rows = _disambiguate([BatchInput(name=output_name(key), path=path, key=key)
                              for key, path in find_inputs(inputs, exclude=out)])
        if not rows:
            raise UserError(f"{inputs} holds no video ({', '.join(s[1:] for s in VIDEO_SUFFIXES)}) and no folder of "
                            "images: give another folder, or a manifest")
        return rows
    if inputs.suffix.lower() not in (".csv", ".json"):
        raise UserError(f"{inputs} is neither a folder nor a .csv/.json manifest: for one video use selfmocap capture")
    rows = read_manifest(inputs)
    if not rows:
        raise UserError(f"the manifest {inputs} has no rows: add a row per video")
    return rows
