"""The bench's table formatting and outputs on a hand-made results record (the bench itself takes
minutes and runs from the command line, not in the test suite)."""

from __future__ import annotations

import json

import pytest

from selfmocap.bench.run import format_tables, write_outputs
from selfmocap.eval.decompose import PART_KEYS


def _row(pj):
    return {"surface_mm": pj * 1.2, "per_joint_mm": pj, "recon_mm": pj * 0.9, "pa_mpjpe_mm": pj * 0.5, "accel_mm": 3.0, "frames": 10}


def test_tables_and_outputs(tmp_path):
    results = {
        "tables": {
            "test/oracle": {"optimization": _row(300.0), "optimization+gt-R": _row(200.0), "optimization+gt-R+gt-T": _row(150.0),
                            "pretrained": _row(100.0), "pretrained+self-sup": _row(75.0)},
            "shift/oracle": {"optimization": _row(400.0), "pretrained": _row(150.0), "pretrained+self-sup": _row(120.0)},
        },
        "drift_guards": {"shift/oracle": {"pretrained": _row(150.0), "self-sup (frozen BN, prior 0.1)": _row(120.0),
                                          "--batchnorm adapt": _row(130.0), "--prior 0": _row(121.0), "+ replay": _row(110.0)}},
        "decomposition": {"shift/oracle": {"pretrained": {**dict.fromkeys(PART_KEYS, 1.0), "per_joint_mm": 150.0, "size_pct": 17.5, "frames": 10},
                                           "pretrained+self-sup": {**dict.fromkeys(PART_KEYS, 2.0), "frames": 10}}},
        "figure3": {"oracle": {"Lk": [(0, 100.0), (10, 90.0)], "Lk+Ls": [(0, 100.0), (10, 85.0)], "Lk+Ls+Lm": [(0, 100.0), (10, 80.0)]}},
        "figure4": {"shift_mask_iou_given": 0.7, "shift_mask_iou_adapted_mesh": 0.8, "frames": 10},
        "seconds": 60.0,
    }
    text = format_tables(results)
    assert "per-joint +25.0 %" in text and "4.00x" in text  # (100 - 75) / 100; 300 / 75
    assert "Lk+Ls+Lm 80.0 mm" in text
    assert "### Drift guards (shift split), oracle inputs" in text
    assert "| + replay | 110.0 | 132.0 | 10 |" in text  # per-joint, then surface (1.2 x per-joint)
    assert "### Where the per-joint error is (shift split, oracle inputs" in text
    assert "| pretrained | 150.0 | 1.0 | 1.0 | 1.0 | 1.0 | 1.0 | 17.5 | 1.0 |" in text  # PART_KEYS order
    write_outputs(results, tmp_path)
    assert "PARTIAL" not in (tmp_path / "tables.md").read_text()
    write_outputs(results, tmp_path / "partial", partial=True)
    assert (tmp_path / "partial" / "tables.md").read_text().startswith("PARTIAL")
    assert json.loads((tmp_path / "partial" / "results.json").read_text())["partial"] is True
    assert json.loads((tmp_path / "results.json").read_text())["tables"]["shift/oracle"]["pretrained"]["per_joint_mm"] == 150.0
    csv_lines = (tmp_path / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + 5 + 3 + 5
    assert csv_lines[-1].startswith("shift,oracle,drift-guards: + replay,132.0,110.0,")
    assert json.loads((tmp_path / "results.json").read_text())["drift_guards"]["shift/oracle"]["--prior 0"]["per_joint_mm"] == 121.0


def _half(mode: str, per_joint: float, figure4: bool) -> dict:
    results = {
        "scale": {"clips": 2}, "seed": 100, "checkpoint": "shipped", "seconds": 30.0,
        "tables": {f"test/{mode}": {"optimization": _row(300.0), "pretrained": _row(100.0), "pretrained+self-sup": _row(per_joint)}},
        "drift_guards": {}, "decomposition": {},
        "figure3": {mode: {"Lk": [(0, 100.0), (10, 90.0)], "Lk+Ls": [(0, 100.0), (10, 85.0)], "Lk+Ls+Lm": [(0, 100.0), (10, per_joint)]}},
    }
    if figure4:
        results["figure4"] = {"shift_mask_iou_given": 0.7, "shift_mask_iou_adapted_mesh": 0.8, "frames": 10}
    return results


@pytest.mark.slow  # two bench halves joined
def test_combine_halves(tmp_path):
    """`--inputs oracle` and `--inputs estimated` runs join into one set of tables; a partial run or
    one of another scale is refused."""
    from selfmocap.bench.run import combine_results

    for name, mode, pj in (("o", "oracle", 70.0), ("e", "estimated", 80.0)):
        write_outputs(_half(mode, pj, False), tmp_path / name)  # Figure 4 is redrawn from data: tests/bench/test_bench_figures.py
    joined = combine_results([tmp_path / "o", tmp_path / "e"], tmp_path / "all")
    assert set(joined["tables"]) == {"test/oracle", "test/estimated"} and set(joined["figure3"]) == {"oracle", "estimated"}
    assert joined["seconds"] == 60.0 and "figure4" not in joined
    text = (tmp_path / "all" / "tables.md").read_text()
    assert "Table 1 (test split), oracle inputs" in text and "Table 1 (test split), estimated inputs" in text
    assert (tmp_path / "all" / "figure3.png").is_file() and not (tmp_path / "all" / "figure4.png").exists()

    write_outputs(_half("oracle", 70.0, False), tmp_path / "p", partial=True)
    with pytest.raises(ValueError, match="partial"):
        combine_results([tmp_path / "p", tmp_path / "e"], tmp_path / "x")
    other = _half("oracle", 70.0, False) | {"scale": {"clips": 8}}
    write_outputs(other, tmp_path / "s")
    with pytest.raises(ValueError, match="another scale"):
        combine_results([tmp_path / "s", tmp_path / "e"], tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        combine_results([tmp_path / "nothing"], tmp_path / "x")
