"""selfmocap.io: the one atomic file writer (replace or keep, no leftovers, umask modes, strict JSON)."""

from __future__ import annotations

import csv
import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from selfmocap import io


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.mark.parametrize("error", [RuntimeError("writer failed"), KeyboardInterrupt()])
def test_failed_write_keeps_old_content_and_removes_temp_file(tmp_path, error):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(type(error)):
        with io.atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.suffix == ".json"
            tmp.write_text("half")
            raise error
    assert target.read_text() == "old"
    assert leftovers(tmp_path, {"out.json"}) == []


def test_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with io.atomic_path(tmp_path / "new.bin"):
            raise KeyboardInterrupt
    assert leftovers(tmp_path, set()) == []


def test_replace_writes_new_content(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    io.write_text(target, "one")
    io.write_text(target, "two")
    assert target.read_text() == "two"
    io.write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert leftovers(target.parent, {"out.txt"}) == []


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_mode_follows_umask(tmp_path, umask, mask, expected):
    umask(mask)
    assert io.current_umask() == mask
    assert io.file_mode() == expected and io.dir_mode() == 0o777 & ~mask
    for name, write in [("a.txt", lambda p: io.write_text(p, "x")), ("b.json", lambda p: io.write_json(p, {})),
                        ("c.csv", lambda p: io.write_csv(p, ["a"], [[1]]))]:
        write(tmp_path / name)
        assert mode(tmp_path / name) == expected, name
    with io.atomic_path(tmp_path / "d.bin") as tmp:
        tmp.write_bytes(b"x")
    assert mode(tmp_path / "d.bin") == expected
    assert io.current_umask() == mask  # reading it does not change it


def test_nan_and_infinity_become_null_and_parse_strictly(tmp_path):
    def reject(constant):
        raise ValueError(f"bare {constant} in JSON")

    value = {"jitter": float("nan"), "inf": [float("inf"), -math.inf], "np": np.float32("nan"),
             "arr": np.array([1.5, np.nan]), "path": Path("a/b"), "t": (1, 2), "ok": 0.25, "n": np.int64(3)}
    target = io.write_json(tmp_path / "run.json", value)
    text = target.read_text()
    assert "NaN" not in text and "Infinity" not in text and text.endswith("\n")
    loaded = json.loads(text, parse_constant=reject)
    assert loaded == {"jitter": None, "inf": [None, None], "np": None, "arr": [1.5, None], "path": "a/b",
                      "t": [1, 2], "ok": 0.25, "n": 3}
    assert json.loads(io.dumps_json(value), parse_constant=reject) == loaded


def test_write_csv_round_trip(tmp_path):
    rows = [[0, "a", 0.1 + 0.2], [1, "b,c", 1e-300], [2, 'quote "x"', -3]]
    target = io.write_csv(tmp_path / "t.csv", ["step", "name", "value"], rows)
    with open(target, newline="") as fh:
        read = list(csv.reader(fh))
    assert read[0] == ["step", "name", "value"]
    assert [[int(r[0]), r[1], float(r[2])] for r in read[1:]] == rows


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)])
def test_write_prediction_follows_umask(tmp_path, umask, mask, expected):
    from selfmocap.data.predictions import ClipPrediction, read_prediction, write_prediction

    umask(mask)
    t = 3
    prediction = ClipPrediction(pose=np.zeros((t, 4), np.float32), shape=np.zeros((t, 2), np.float32),
                                camera=np.zeros((t, 3), np.float32), joints3d=np.zeros((t, 5, 3), np.float32),
                                keypoints3d=np.zeros((t, 6, 3), np.float32), keypoints2d=np.zeros((t, 6, 2), np.float32),
                                valid=np.ones(t, bool))
    path = write_prediction(tmp_path / "preds", "clip_0", prediction)
    assert mode(path) == expected
    assert read_prediction(path).pose.shape == (t, 4)
    assert leftovers(path.parent, {path.name}) == []


def test_write_run_info_writes_nan_as_null(tmp_path):
    from selfmocap.data.predictions import write_run_info

    write_run_info(tmp_path, "adapted", jitter=float("nan"))

    def reject(constant):
        raise ValueError(constant)

    info = json.loads((tmp_path / "run.json").read_text(), parse_constant=reject)
    assert info["method"] == "adapted" and info["jitter"] is None
