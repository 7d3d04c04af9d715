"""The one file writer of selfmocap: every file the project writes goes through here.

Policy (one for the whole project):

* **atomic**: the data goes to a temporary name in the target folder, is flushed and fsynced,
  then renamed over the target (``os.replace``), so a reader or a crash never sees a torn file;
  the temporary file is removed on any failure, Ctrl-C included;
* **permissions follow the user's umask**: a new file gets ``0o666 & ~umask`` (what ``open``
  would give it), never a forced mode;
* **strict JSON**: NaN and infinities are written as ``null`` (strict parsers reject bare
  ``NaN``), paths as strings.
"""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process umask (read without changing it for longer than two calls)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def file_mode() -> int:
    """The mode a new ordinary file gets under the user's umask."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    """The mode a new folder gets under the user's umask."""
    return 0o777 & ~current_umask()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` with the same suffix (writers that pick a format
    from the extension still work). On success the file is fsynced, given the umask's mode and
    renamed to ``path``; on any error it is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
        if fsync:
            _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; return ``path``."""
    path = Path(path)
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path: str | Path, text: str, fsync: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``."""
    return write_bytes(path, text.encode("utf-8"), fsync=fsync)


def json_safe(value: Any) -> Any:
    """``value`` with NaN/inf floats as ``None``, numpy scalars and arrays as Python values, tuples
    as lists and paths as strings: what strict JSON can hold."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalars and arrays
        return json_safe(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def dumps_json(value: Any, indent: int | None = 1) -> str:
    """Strict JSON text of ``value`` (see :func:`json_safe`)."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)


def write_json(path: str | Path, value: Any, indent: int | None = 1) -> Path:
    """Write ``value`` as strict JSON to ``path`` atomically (NaN -> null)."""
    return write_text(path, dumps_json(value, indent) + "\n")


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV (header, then rows) to ``path`` atomically; floats keep full precision."""
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())
