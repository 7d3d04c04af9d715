"""Inputs of a batch without capturing anything: the folder search, CSV and JSON manifests, output
names, and the batch's own refusals (one-line errors, exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selfmocap.batch.manifest import find_inputs, output_name, read_inputs, read_manifest
from selfmocap.errors import UserError


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_search_finds_videos_and_image_folders(tmp_path):
    root = tmp_path / "in"
    _touch(root / "b.mp4")
    _touch(root / "A.MOV")
    _touch(root / "day1" / "take 3.avi")
    _touch(root / "day1" / "frames" / "0001.png")
    _touch(root / "day1" / "frames" / "nested.mp4")  # inside an image folder: part of it, not an input
    _touch(root / "notes.txt")
    _touch(root / ".hidden.mp4")
    _touch(root / "out" / "x" / "overlay.mp4")  # the batch's own output folder inside the inputs
    found = find_inputs(root, exclude=root / "out")
    assert [key for key, _ in found] == ["A.MOV", "b.mp4", "day1/frames", "day1/take 3.avi"]
    rows = read_inputs(root, root / "out")
    assert [r.name for r in rows] == ["A.MOV", "b.mp4", "day1__frames", "day1__take_3.avi"]
    assert all(r.path.is_absolute() or r.path.exists() for r in rows)


def test_names_are_stable_and_unique(tmp_path):
    assert output_name("day1/take 3.mp4") == "day1__take_3.mp4"
    assert "/" not in output_name("../x/../y.mp4") and ".." not in output_name("../x/../y.mp4")
    assert not output_name(".secret.mp4").startswith(".")
    root = tmp_path / "in"
    _touch(root / "a b.mp4")
    _touch(root / "a_b.mp4")  # the same name after the character replacement
    _touch(root / "c.mp4")
    names = [r.name for r in read_inputs(root, tmp_path / "out")]
    assert len(set(names)) == 3 and "c.mp4" in names
    _touch(root / "d.mp4")  # a new input renames no other output
    again = [r.name for r in read_inputs(root, tmp_path / "out")]
    assert set(names) <= set(again)


def test_csv_and_json_manifests_read_the_same_rows(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "m.csv").write_text(
        "path,start,end,fps,keypoints,masks,name\n"
        "clips/a.mp4,1,2.5,15,kp/a.json,,\n"
        "clips/a.mp4,,,,,,\n"
        "/abs/b.mp4,,,,,masks/b,bee\n"
        "\n"
    )
    (folder / "m.json").write_text(json.dumps([
        {"path": "clips/a.mp4", "start": 1, "end": 2.5, "fps": 15, "keypoints": "kp/a.json"},
        "clips/a.mp4",
        {"path": "/abs/b.mp4", "masks": "masks/b", "name": "bee"},
    ]))
    rows_csv, rows_json = read_manifest(folder / "m.csv"), read_manifest(folder / "m.json")
    assert rows_csv == rows_json
    a1, a2, b = rows_csv
    base = folder.resolve()
    assert a1.path == base / "clips/a.mp4" and a1.keypoints == base / "kp/a.json" and a1.masks is None
    assert (a1.start, a1.end, a1.fps) == (1.0, 2.5, 15.0) and (a2.start, a2.end, a2.fps) == (None, None, None)
    assert a1.name != a2.name and a1.name.startswith("clips__a.mp4-")  # one file, two windows: two outputs
    assert b.path == Path("/abs/b.mp4") and b.masks == base / "masks/b" and b.name == "bee"


@pytest.mark.parametrize("text, needle", [
    ("file,start\na.mp4,1\n", "'path' column"),
    ("path,speed\na.mp4,1\n", "unknown column 'speed'"),
    ("path,start\na.mp4,soon\n", "not a number"),
    ("path\na.mp4\na.mp4\n", "repeats row 1"),
    ("path,name\na.mp4,x\nb.mp4,x\n", "both have name"),
    ("path,name\na.mp4,../up\n", "not a plain folder name"),
    ("path,name\na.mp4,summary.csv\n", "not a plain folder name"),
    ("path\n", "has no rows"),
])
def test_bad_csv_manifests_are_one_line_errors(tmp_path, text, needle):
    manifest = tmp_path / "m.csv"
    manifest.write_text(text)
    with pytest.raises(UserError, match=needle) as err:
        read_inputs(manifest, tmp_path / "out")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("value, needle", [
    ('{"path": "a.mp4"}', "list of rows"),
    ("[1]", "neither an object nor a path"),
    ('[{"path": 3}]', "not a path"),
    ('[{"start": 1}]', "no path"),
    ("[{", "not valid JSON"),
])
def test_bad_json_manifests_are_one_line_errors(tmp_path, value, needle):
    manifest = tmp_path / "m.json"
    manifest.write_text(value)
    with pytest.raises(UserError, match=needle):
        read_inputs(manifest, tmp_path / "out")


def test_inputs_that_are_no_batch(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_inputs(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no video"):
        read_inputs(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(UserError, match="selfmocap capture"):
        read_inputs(_touch(tmp_path / "one.mp4"), tmp_path / "out")


def _batch_error(argv, capsys) -> str:
    from selfmocap.cli import main

    assert main(["batch", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_batch_refusals_exit_2_and_write_nothing(tmp_path, capsys):
    videos = tmp_path / "in"
    _touch(videos / "a.mp4")
    full = tmp_path / "full"
    _touch(full / "mine.txt")
    assert "holds no batch" in _batch_error([str(videos), "--out", str(full)], capsys)
    out = str(tmp_path / "out")
    assert "per row" in _batch_error([str(videos), "--out", out, "--keypoints", str(videos)], capsys)
    assert "cores" in _batch_error([str(videos), "--out", out, "--jobs", "1000"], capsys)
    assert "cores" in _batch_error([str(videos), "--out", out, "--jobs", "1", "--threads", "1000"], capsys)
    assert "--retries" in _batch_error([str(videos), "--out", out, "--retries", "-1"], capsys)
    assert "drop --jobs" in _batch_error([str(videos), "--out", out, "--ray", "auto", "--jobs", "2"], capsys)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in full.iterdir()) == ["mine.txt"]


def test_threads_share_the_cores(monkeypatch):
    import selfmocap.batch.run as run
    from selfmocap.batch.config import BatchConfig
    from selfmocap.batch.run import worker_threads

    monkeypatch.setattr(run, "machine_cores", lambda: 8)
    make = lambda **kw: BatchConfig(inputs=Path("in"), out=Path("out"), **kw)  # noqa: E731
    assert worker_threads(make()) == 8
    assert worker_threads(make(jobs=3)) == 2
    assert worker_threads(make(jobs=2, threads=4)) == 4
    assert worker_threads(make(ray="auto")) == 1
    with pytest.raises(UserError):
        worker_threads(make(jobs=3, threads=3))


def test_each_input_gets_the_capture_config_of_selfmocap_capture(tmp_path):
    """The same flags give every input exactly the config ``selfmocap capture`` would build."""
    from selfmocap import config as cfg
    from selfmocap.batch.config import BatchConfig
    from selfmocap.batch.manifest import BatchInput
    from selfmocap.batch.run import capture_config
    from selfmocap.capture.config import CaptureConfig
    from selfmocap.cli import build_parser

    flags = ["--iters", "7", "--smoothing", "strong", "--no-overlay", "--fps", "12", "--losses", "kpt,seg",
             "--max-size", "320", "--meshes", "ply"]
    video = tmp_path / "a.mp4"
    argv = ["capture", str(video), "--out", str(tmp_path / "out" / "a.mp4"), *flags]
    parser, _ = build_parser(argv)
    expected = cfg.from_args(CaptureConfig, parser.parse_args(argv), video=video)
    argv = ["batch", str(tmp_path), "--out", str(tmp_path / "out"), "--jobs", "1", *flags]
    parser, _ = build_parser(argv)
    args = parser.parse_args(argv)
    batch = cfg.from_args(BatchConfig, args, inputs=args.inputs)
    assert capture_config(batch, BatchInput(name="a.mp4", path=video, key="a.mp4"), tmp_path / "out") == expected
    # a manifest row's own window and cue files replace the batch's
    row = BatchInput(name="a.mp4", path=video, key="a.mp4", start=1.0, fps=5.0, masks=tmp_path / "m")
    got = capture_config(batch, row, tmp_path / "out")
    assert (got.source.start, got.source.end, got.source.fps, got.source.masks) == (1.0, None, 5.0, tmp_path / "m")
    assert got.source.max_size == 320 and got.capture == expected.capture
