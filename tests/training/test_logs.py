"""training/logs: rows are records; a resumed log keeps the rows up to the checkpoint's step, as written."""

from __future__ import annotations

from selfmocap.training.logs import CsvLog, TrainRow, ValRow
from selfmocap.training.losses import LossTerms


def _train_row(step: int) -> TrainRow:
    return TrainRow(step, 1e-3 / step, 0.5 / step, {name: float(i) / step for i, name in enumerate(LossTerms.names())}, 40.0 + step)


def test_rows_round_trip_and_resume_keeps_rows_up_to_the_step(tmp_path):
    path = tmp_path / "train.csv"
    log = CsvLog(path, TrainRow, None)
    for step in (1, 2, 3):
        log.append(_train_row(step))
    assert path.read_text().splitlines()[0] == ",".join(TrainRow.columns())
    rows = log.read()
    assert [r.step for r in rows] == [1, 2, 3] and rows[1].terms["pose"] == 0.0 and rows[2].loss == float(f"{0.5 / 3:.6g}")
    before = path.read_text().splitlines()
    with open(path, "a") as fh:
        fh.write("4,0.1")  # a row cut short by a kill
    resumed = CsvLog(path, TrainRow, keep_until=2)
    assert path.read_text().splitlines() == before[:3] and [r.step for r in resumed.read()] == [1, 2]
    assert CsvLog(path, TrainRow, None).read() == []


def test_val_rows(tmp_path):
    log = CsvLog(tmp_path / "val.csv", ValRow, None)
    errors = {"mpjpe": 71.5, "pa_mpjpe": 40.25, "reconstruction": 60.0, "surface": 80.125}
    log.append(ValRow(10, "test", errors))
    assert log.read() == [ValRow(10, "test", errors)]
    assert (tmp_path / "val.csv").read_text().splitlines() == ["step,set,mpjpe,pa_mpjpe,reconstruction,surface", "10,test,71.5,40.25,60,80.125"]
