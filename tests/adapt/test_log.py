"""adapt.log: the adaptation log's rows, its CSV and its curves."""

from __future__ import annotations

import csv
from types import SimpleNamespace

from selfmocap.adapt.log import AdaptLog, AdaptLogRow


def _terms(**values):
    return SimpleNamespace(names=lambda: tuple(values), stacked=lambda: list(values.values()))


def test_rows_are_records_and_the_csv_has_every_column(tmp_path):
    log = AdaptLog()
    log.add(0, "a", 2.0, _terms(kpt=1.5, seg=0.25), replay=0.75)
    log.add(1, "a", 1.0, _terms(kpt=0.5, seg=0.125), replay=0.5)
    assert log.rows[1] == AdaptLogRow(step=1, clip="a", total=1.0, terms={"kpt": 0.5, "seg": 0.125}, replay=0.5)
    log.write(tmp_path)
    with open(tmp_path / "adapt_log.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["step", "clip", "total", "kpt", "seg", "replay"]
    assert [float(r["kpt"]) for r in rows] == [1.5, 0.5] and rows[1]["replay"] == "0.5"
    assert (tmp_path / "adapt_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_without_replay_there_is_no_replay_column_and_no_steps_write_nothing(tmp_path):
    row = AdaptLogRow(step=3, clip="", total=0.5, terms={"kpt": 0.5})
    assert list(row.columns()) == ["step", "clip", "total", "kpt"]
    assert row.losses() == {"total": 0.5, "kpt": 0.5}
    AdaptLog().write(tmp_path)
    assert not any(tmp_path.iterdir())
