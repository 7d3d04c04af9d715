"""Run logs: ``train.csv``, ``val.csv`` and ``curves.png`` in the run folder.

Rows are appended and flushed as they come. On resume, rows after the checkpoint's step are
dropped, so the logs of an interrupted-and-resumed run read like those of an uninterrupted one.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

from selfmocap.io import atomic_path, write_text


class CsvLog:
    """Append-only CSV with a fixed header; the first column is the step."""

    def __init__(self, path: Path, header: Sequence[str], keep_until: int | None):
        """Start ``path`` afresh, or (``keep_until``: a step) keep its rows up to that step."""
        self.path, self.header = path, list(header)
        rows = self.read() if keep_until is not None and path.is_file() else []
        # A row cut short by a kill lacks fields; rows up to a checkpoint were complete before it.
        kept = [r for r in rows if None not in r.values() and int(r["step"]) <= keep_until]
        lines = [",".join(self.header)] + [",".join(r[h] for h in self.header) for r in kept]
        write_text(path, "\n".join(lines) + "\n")

    def read(self) -> list[dict[str, str]]:
        with open(self.path, newline="") as fh:
            return list(csv.DictReader(fh))

    def append(self, row: dict[str, float | int | str]) -> None:
        with open(self.path, "a", newline="") as fh:
            fh.write(",".join(_fmt(row[h]) for h in self.header) + "\n")


def _fmt(value: float | int | str) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def plot_curves(train: list[dict[str, str]], val: list[dict[str, str]], terms: Sequence[str], path: Path) -> None:
    """Training loss terms and validation errors against steps, written atomically to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(12, 4.5))
    steps = [int(r["step"]) for r in train]
    for name in ("loss", *terms):
        ax_loss.plot(steps, [float(r[name]) for r in train], label=name, lw=2 if name == "loss" else 1)
    ax_loss.set(xlabel="step", ylabel="training loss", yscale="log", title="training")
    ax_loss.legend(fontsize=7, ncol=2)
    for name in sorted({r["set"] for r in val}):
        rows = [r for r in val if r["set"] == name]
        for metric, style in (("mpjpe", "-"), ("pa_mpjpe", "--"), ("surface", ":")):
            ax_val.plot([int(r["step"]) for r in rows], [float(r[metric]) for r in rows], style, marker="o", ms=3, label=f"{name} {metric}")
    ax_val.set(xlabel="step", ylabel="mm", title="validation")
    if val:
        ax_val.legend(fontsize=7)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)
