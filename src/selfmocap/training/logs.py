"""Run logs: ``train.csv``, ``val.csv`` and ``curves.png`` in the run folder.

Each file's rows are records (:class:`TrainRow`, :class:`ValRow`); their fields are the columns.
Rows are appended and flushed as they come. On resume, rows after the checkpoint's step are
dropped, so the logs of an interrupted-and-resumed run read like those of an uninterrupted one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from selfmocap.io import atomic_path, write_text
from selfmocap.training.losses import LossTerms


@dataclass(frozen=True)
class TrainRow:
    """A row of ``train.csv``: the step, learning rate, total loss, each unweighted term (named as
    :class:`~selfmocap.training.losses.LossTerms`) and the smoothed throughput."""

    step: int
    lr: float
    loss: float
    terms: dict[str, float]
    images_per_s: float

    @staticmethod
    def columns() -> tuple[str, ...]:
        return ("step", "lr", "loss", *LossTerms.names(), "images_per_s")

    def cells(self) -> dict[str, float | int | str]:
        return {"step": self.step, "lr": self.lr, "loss": self.loss, **self.terms, "images_per_s": self.images_per_s}

    @classmethod
    def from_cells(cls, cells: dict[str, str]) -> TrainRow:
        return cls(int(cells["step"]), float(cells["lr"]), float(cells["loss"]),
                   {name: float(cells[name]) for name in LossTerms.names()}, float(cells["images_per_s"]))


@dataclass(frozen=True)
class ValRow:
    """A row of ``val.csv``: the step, the validation set's name and its mean errors (mm)."""

    #: The error columns (training's file interface and model-card keys) -> the ``BodyErrors`` field each holds.
    METRICS: ClassVar[dict[str, str]] = {"mpjpe": "per_joint_mm", "pa_mpjpe": "pa_mpjpe_mm", "reconstruction": "recon_mm",
                                         "surface": "surface_mm"}

    step: int
    set: str
    errors: dict[str, float]  #: keyed by the :attr:`METRICS` columns

    @staticmethod
    def columns() -> tuple[str, ...]:
        return ("step", "set", *ValRow.METRICS)

    def cells(self) -> dict[str, float | int | str]:
        return {"step": self.step, "set": self.set, **self.errors}

    @classmethod
    def from_cells(cls, cells: dict[str, str]) -> ValRow:
        return cls(int(cells["step"]), cells["set"], {name: float(cells[name]) for name in cls.METRICS})


Row = TypeVar("Row", TrainRow, ValRow)


class CsvLog(Generic[Row]):
    """Append-only CSV of one record type; its first column is the step."""

    def __init__(self, path: Path, row_type: type[Row], keep_until: int | None):
        """Start ``path`` afresh, or (``keep_until``: a step) keep its rows up to that step."""
        self.path, self.row_type, self.header = path, row_type, row_type.columns()
        cells = self._cells() if keep_until is not None and path.is_file() else []
        # A row cut short by a kill lacks fields; rows up to a checkpoint were complete before it.
        kept = [r for r in cells if None not in r.values() and int(r["step"]) <= keep_until]
        lines = [",".join(self.header)] + [",".join(r[h] for h in self.header) for r in kept]
        write_text(path, "\n".join(lines) + "\n")

    def _cells(self) -> list[dict[str, str]]:
        with open(self.path, newline="") as fh:
            return list(csv.DictReader(fh))

    def read(self) -> list[Row]:
        return [self.row_type.from_cells(r) for r in self._cells()]

    def append(self, row: Row) -> None:
        cells = row.cells()
        with open(self.path, "a", newline="") as fh:
            fh.write(",".join(_fmt(cells[h]) for h in self.header) + "\n")


def _fmt(value: float | int | str) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def plot_curves(train: list[TrainRow], val: list[ValRow], path: Path) -> None:
    """Training loss terms and validation errors against steps, written atomically to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(12, 4.5))
    steps = [r.step for r in train]
    ax_loss.plot(steps, [r.loss for r in train], label="loss", lw=2)
    for name in LossTerms.names():
        ax_loss.plot(steps, [r.terms[name] for r in train], label=name, lw=1)
    ax_loss.set(xlabel="step", ylabel="training loss", yscale="log", title="training")
    ax_loss.legend(fontsize=7, ncol=2)
    for name in sorted({r.set for r in val}):
        rows = [r for r in val if r.set == name]
        for metric, style in (("mpjpe", "-"), ("pa_mpjpe", "--"), ("surface", ":")):
            ax_val.plot([r.step for r in rows], [r.errors[metric] for r in rows], style, marker="o", ms=3, label=f"{name} {metric}")
    ax_val.set(xlabel="step", ylabel="mm", title="validation")
    if val:
        ax_val.legend(fontsize=7)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)
