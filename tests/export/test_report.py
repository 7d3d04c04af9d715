import numpy as np

from selfmocap.adapt.log import AdaptLogRow
from selfmocap.export.report import LOSSES_PNG, REPROJECTION_PNG, collect_versions, write_report


def _rows():
    return [
        AdaptLogRow(step=s, clip=clip, total=1.0 / (s + 1), terms={"keypoint": 0.5 / (s + 1), "motion": 0.1 * (s % 3) - 0.05})
        for clip in ("a", "b")
        for s in range(10)
    ]


def test_report_writes_page_and_plots(tmp_path):
    detected = np.ones(12, bool)
    detected[[3, 4, 9]] = False
    before = np.linspace(10, 12, 12)
    preview = tmp_path / "elsewhere" / "preview.png"
    preview.parent.mkdir()
    preview.write_bytes(b"\x89PNG\r\n\x1a\n")
    path = write_report(
        tmp_path / "out", rows=_rows(), reprojection_before=before, reprojection_after=before / 2, detected=detected,
        acceleration_before=9.5, acceleration_after=3.25, config={"capture": {"smoothing": "light"}},
        versions={"selfmocap": "0.1.0"}, summary={"timings_s": {"total": 1.5}}, images=[preview],
    )
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == sorted(["report.html", LOSSES_PNG, REPROJECTION_PNG, "preview.png"])
    for png in (LOSSES_PNG, REPROJECTION_PNG):
        assert (path.parent / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = path.read_text()
    assert "3-4, 9" in page and "9.50 mm/frame²" in page and "3.25 mm/frame²" in page
    assert f"{np.mean(before[detected] / 2):.2f} px" in page  # mean after adaptation over detected frames
    assert "&quot;smoothing&quot;: &quot;light&quot;" in page and "selfmocap" in page


def test_report_without_adaptation_or_missing_frames(tmp_path):
    path = write_report(
        tmp_path, rows=[], reprojection_before=np.ones(3), reprojection_after=np.ones(3), detected=np.ones(3, bool),
        acceleration_before=float("nan"), acceleration_after=1.0, config={},
    )
    page = path.read_text()
    assert "No adaptation step was run" in page and "every frame" in page and "n/a" in page
    assert not (tmp_path / LOSSES_PNG).exists()
    assert collect_versions()["selfmocap"] in page
