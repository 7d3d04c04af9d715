"""The adaptation log: one :class:`AdaptLogRow` per optimisation step, written as
``adapt_log.csv`` (through :func:`selfmocap.io.write_csv`) and drawn by the package's one
adaptation-loss plot, :func:`plot_loss_curves` (``adapt_curves.png``, and the capture report's
``report_losses.png``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from selfmocap.io import atomic_path, write_csv


@dataclass(frozen=True)
class AdaptLogRow:
    """One adaptation step.

    Attributes:
        step: the step (0-based; per clip with ``--scope per-clip``).
        clip: the clip (or segment) the step adapted on; "" for a joint step over several.
        total: the objective adaptation descends.
        terms: each self-supervised loss term, in the objective's order.
        replay: with replay, the supervised replay loss (not weighted by ``W``).
    """

    step: int
    clip: str
    total: float
    terms: dict[str, float] = field(default_factory=dict)
    replay: float | None = None

    def columns(self) -> dict[str, int | str | float]:
        """The row as ``adapt_log.csv`` writes it: step, clip, total, the terms, then replay."""
        out: dict[str, int | str | float] = {"step": self.step, "clip": self.clip, "total": self.total, **self.terms}
        if self.replay is not None:
            out["replay"] = self.replay
        return out

    def losses(self) -> dict[str, float]:
        """The plotted values: total, the terms, then replay."""
        return {k: float(v) for k, v in self.columns().items() if k not in ("step", "clip")}


@dataclass
class AdaptLog:
    """Per-step loss terms of one adaptation run (for the CSV and the curves)."""

    rows: list[AdaptLogRow] = field(default_factory=list)

    def add(self, step: int, clip: str, total: float, terms, replay: float | None = None) -> None:
        """One step: ``total`` (the objective adaptation descends), the self-supervised ``terms``
        (a record with ``names()`` and ``stacked()``), and with replay the unweighted-by-W
        supervised replay loss."""
        self.rows.append(AdaptLogRow(
            step=step, clip=clip, total=total,
            terms={k: float(v) for k, v in zip(terms.names(), terms.stacked())}, replay=replay,
        ))

    def write(self, out: Path) -> None:
        """``adapt_log.csv`` and ``adapt_curves.png`` in ``out`` (nothing when no step ran)."""
        if not self.rows:
            return
        header = list(self.rows[0].columns())
        write_csv(out / "adapt_log.csv", header, [[row.columns().get(h, "") for h in header] for row in self.rows])
        plot_loss_curves(self.rows, out / "adapt_curves.png")


def plot_loss_curves(rows: Sequence[AdaptLogRow], path: Path) -> None:
    """One panel per loss (total, each term, replay), one line per clip, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rows[0].losses())
    labels = list(dict.fromkeys(r.clip for r in rows))
    cols = min(len(names), 4)
    nrows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 2.8 * nrows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        positive = True
        for label in labels:
            part = [r for r in rows if r.clip == label]
            values = np.array([r.losses()[name] for r in part])
            positive &= bool((values > 0).all())
            ax.plot([r.step for r in part], values, lw=0.9, label=label or None)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.set_yscale("log" if positive else "linear")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    if len(labels) > 1:
        axes.ravel()[0].legend(fontsize=7)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)
