"""``selfmocap batch`` end to end on tiny synthetic videos (4 frames, 2 adaptation steps, no overlay
video): folder and manifest inputs, the summary, a bad input failing its own row, resume, retries,
and ``--jobs 2`` and Ray giving the results of ``--jobs 1``.

Everything goes through ``selfmocap.cli.main``, the entry point of the ``selfmocap`` command.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from selfmocap.batch.run import EXIT_ROWS_FAILED
from selfmocap.video import write_video
from selfmocap.cli import main

FRAMES = 4
FAST = ["--iters", "2", "--batch", "2", "--no-overlay", "--threads", "1"]
CAPTURE_FILES = ("motion.npz", "motion.glb", "motion.bvh", "report.html", "run.json", "adapt_log.csv")


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> list[np.ndarray]:
    from selfmocap.data.clip import Clip
    from selfmocap.synth.config import SynthConfig
    from selfmocap.synth.run import generate

    root = tmp_path_factory.mktemp("batch_clip")
    # seed 3 of the test split: a person mediapipe finds in every frame at this size (as tests/capture)
    clip = Clip(generate(SynthConfig(out=root / "clip", split="test", clips=1, frames=FRAMES, seed=3, size=256))[0])
    return [clip.rgb(t) for t in range(len(clip))]


@pytest.fixture(scope="module")
def videos(frames, tmp_path_factory) -> Path:
    """A folder of two videos (the clip, and the clip backwards, in a subfolder)."""
    root = tmp_path_factory.mktemp("batch_in")
    write_video(frames, root / "forward.mp4", 30.0)
    (root / "day2").mkdir()
    write_video(frames[::-1], root / "day2" / "backward.mp4", 30.0)
    return root


def _rows(out: Path) -> list[dict]:
    return json.loads((out / "summary.json").read_text())["rows"]


def _csv_rows(out: Path) -> list[dict]:
    with open(out / "summary.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _results(out: Path, names) -> dict[str, dict[str, np.ndarray]]:
    result = {}
    for name in names:
        with np.load(out / name / "motion.npz", allow_pickle=False) as data:
            result[name] = {k: data[k] for k in data.files}
    return result


def _without_timings(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "cpu_seconds", "stage_seconds")} for r in rows]


def _assert_same_results(out_a: Path, out_b: Path) -> None:
    rows_a, rows_b = _rows(out_a), _rows(out_b)
    assert _without_timings(rows_a) == _without_timings(rows_b)
    names = [r["name"] for r in rows_a if r["status"] in ("captured", "complete")]
    assert names
    a, b = _results(out_a, names), _results(out_b, names)
    for name in names:
        assert a[name].keys() == b[name].keys()
        for key in a[name]:
            np.testing.assert_array_equal(a[name][key], b[name][key], err_msg=f"{name}: {key}")


@pytest.fixture(scope="module")
def reference(videos, tmp_path_factory) -> Path:
    """``--jobs 1`` over the two videos: what every other runner must reproduce."""
    out = tmp_path_factory.mktemp("batch_ref") / "out"
    assert main(["batch", str(videos), "--out", str(out), *FAST]) == 0
    return out


@pytest.mark.slow
def test_folder_batch_is_capture_per_video(reference, videos, tmp_path):
    rows = _rows(reference)
    assert [r["name"] for r in rows] == ["day2__backward.mp4", "forward.mp4"]
    assert [r["status"] for r in rows] == ["captured", "captured"]
    for row, csv_row in zip(rows, _csv_rows(reference)):
        assert row["attempts"] == 1 and row["error"] == ""
        assert row["frames"] == FRAMES and row["frames_without_person"] == 0 and row["fps"] == pytest.approx(30.0)
        run = json.loads((reference / row["name"] / "run.json").read_text())["summary"]
        assert row["reprojection_px"] == pytest.approx(run["reprojection_px"]["exported"])
        assert row["jitter_mm"] == pytest.approx(run["jitter"]["exported_mm"])
        assert row["seconds"] == pytest.approx(run["timings_s"]["total"])
        assert 0 < row["cpu_seconds"] and float(csv_row["cpu_seconds"]) == pytest.approx(row["cpu_seconds"])
        assert set(row["stage_seconds"]) >= {"mediapipe", "flow", "adapt", "exports"}
        assert csv_row["name"] == row["name"] and int(csv_row["frames"]) == FRAMES
        assert float(csv_row["reprojection_px"]) == pytest.approx(row["reprojection_px"])
        for name in CAPTURE_FILES:
            assert (reference / row["name"] / name).is_file(), name
    # the same files and the same motion as selfmocap capture with the same options
    single = tmp_path / "single"
    from selfmocap.batch.worker import thread_count

    with thread_count(1):  # what --threads 1 gives the batch
        assert main(["capture", str(videos / "forward.mp4"), "--out", str(single), *FAST[:-2]]) == 0
    assert sorted(p.name for p in single.iterdir()) == sorted(p.name for p in (reference / "forward.mp4").iterdir())
    mine = _results(reference, ["forward.mp4"])["forward.mp4"]
    with np.load(single / "motion.npz") as theirs:
        for key in theirs.files:
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)


@pytest.mark.slow
def test_bad_input_fails_its_row_then_resume_skips_and_retries(videos, frames, tmp_path, capsys):
    inputs = tmp_path / "in"
    shutil.copytree(videos, inputs)
    (inputs / "broken.mp4").write_text("not a video")
    out = tmp_path / "out"
    assert main(["batch", str(inputs), "--out", str(out), *FAST]) == EXIT_ROWS_FAILED
    rows = {r["name"]: r for r in _rows(out)}
    assert rows["broken.mp4"]["status"] == "failed" and rows["broken.mp4"]["attempts"] == 1  # capture's error: not retried
    message = rows["broken.mp4"]["error"]
    assert "broken.mp4" in message and "\n" not in message
    assert rows["forward.mp4"]["status"] == rows["day2__backward.mp4"]["status"] == "captured"
    assert not (out / "broken.mp4").exists()
    capsys.readouterr()

    # the user fixes the broken input; an earlier capture was killed mid-way (its partial folder stays)
    write_video(frames, inputs / "broken.mp4", 30.0)
    stale = out / ".forward.mp4.partial-killed"
    stale.mkdir()
    (stale / ".selfmocap.pid").write_text(f"{_dead_pid()}\n")
    shutil.rmtree(out / "forward.mp4")
    kept = (out / "day2__backward.mp4" / "run.json").stat().st_mtime_ns
    assert main(["batch", str(inputs), "--out", str(out), *FAST]) == 0
    rows = {r["name"]: r for r in _rows(out)}
    assert rows["day2__backward.mp4"]["status"] == "complete"  # skipped: its result is complete
    assert rows["day2__backward.mp4"]["cpu_seconds"] > 0  # the cost of the run that captured it, kept
    assert (out / "day2__backward.mp4" / "run.json").stat().st_mtime_ns == kept
    assert rows["broken.mp4"]["status"] == "captured" and rows["broken.mp4"]["attempts"] == 2
    assert rows["forward.mp4"]["status"] == "captured"
    assert not stale.exists()  # capture's stale-partial cleanup
    assert "1 kept from earlier runs" in capsys.readouterr().out

    assert rows["day2__backward.mp4"]["notes"] == ""

    # a third run has nothing to do; results made with other options are kept, and say so
    assert main(["batch", str(inputs), "--out", str(out), *FAST, "--smoothing", "strong"]) == 0
    rows = _rows(out)
    assert {r["status"] for r in rows} == {"complete"}
    assert all("capture.smoothing" in r["notes"] and "--overwrite" in r["notes"] for r in rows)


def _dead_pid() -> int:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.slow
def test_failed_attempts_are_retried(videos, tmp_path, monkeypatch):
    import selfmocap.capture.pipeline as pipeline

    real = pipeline.run_capture
    calls = {"n": 0}

    def flaky(config):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient\nfailure")
        return real(config)

    monkeypatch.setattr(pipeline, "run_capture", flaky)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path\n{videos / 'forward.mp4'}\n")
    out = tmp_path / "retried"
    assert main(["batch", str(manifest), "--out", str(out), *FAST, "--retries", "1"]) == 0
    (row,) = _rows(out)
    assert row["status"] == "captured" and row["attempts"] == 2 and row["error"] == ""

    calls["n"] = 0
    out = tmp_path / "no_retry"
    assert main(["batch", str(manifest), "--out", str(out), *FAST, "--retries", "0"]) == EXIT_ROWS_FAILED
    (row,) = _rows(out)
    assert row["status"] == "failed" and row["error"] == "RuntimeError: transient failure"
    assert main(["batch", str(manifest), "--out", str(out), *FAST, "--retries", "0"]) == 0  # a rerun retries it
    (row,) = _rows(out)
    assert row["status"] == "captured" and row["attempts"] == 2


@pytest.mark.slow
def test_manifest_windows_and_relative_paths(videos, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(videos / "forward.mp4", folder / "take.mp4")
    (folder / "m.json").write_text(json.dumps([
        {"path": "take.mp4", "end": 2.5 / 30, "name": "first3"},  # frames 0, 1, 2
        {"path": "take.mp4", "start": 1 / 30, "fps": 15},  # frames 1 and 3
        {"path": "missing.mp4"},
    ]))
    out = tmp_path / "out"
    assert main(["batch", str(folder / "m.json"), "--out", str(out), *FAST]) == EXIT_ROWS_FAILED
    first, second, missing = _rows(out)
    assert first["name"] == "first3" and first["frames"] == 3
    assert second["frames"] == 2 and second["fps"] == pytest.approx(15.0)
    run = json.loads((out / second["name"] / "run.json").read_text())
    assert run["video"]["source_indices"] == [1, 3]
    assert missing["status"] == "failed" and "missing.mp4" in missing["error"] and "does not exist" in missing["error"]


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="--jobs 2 needs 2 cores")
def test_two_jobs_give_the_results_of_one(reference, videos, tmp_path):
    out = tmp_path / "jobs2"
    assert main(["batch", str(videos), "--out", str(out), *FAST, "--jobs", "2"]) == 0
    _assert_same_results(reference, out)


def _descendants(pid: int) -> set[int]:
    """``pid`` and every process below it (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        found.add(p)
        todo += children.get(p, [])
    return found


def _listening_addresses(pids: set[int]) -> set[str]:
    """The local addresses of the TCP sockets these processes listen on (``/proc/net/tcp{,6}``)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:  # gone, or not ours to read
            continue
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            (address, port), state, inode = fields[1].split(":"), fields[3], fields[9]
            if state == "0A" and inode in inodes:  # LISTEN
                raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, len(address), 8))
                ip = ipaddress.ip_address(raw)
                ip = getattr(ip, "ipv4_mapped", None) or ip
                found.add(f"{ip}:{int(port, 16)}")
    return found


@pytest.mark.slow
def test_ray_gives_the_results_of_one_job(reference, videos, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")  # never report usage
    # Loopback only. Ray (2.60) turns _node_ip_address="127.0.0.1" into the machine's own address
    # (services.resolve_ip_for_localhost) and then listens on every interface, unless it is told that
    # this machine runs no cluster: then every Ray server listens on 127.0.0.1 alone (checked below).
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = pytest.importorskip("ray")
    from ray._private import ray_constants

    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)  # read at import: ray may be imported already
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False)
    try:
        out = tmp_path / "ray"
        # small declared memory: the local instance's memory resource is a share of what is free now
        assert main(["batch", str(videos), "--out", str(out), *FAST, "--ray", "auto", "--ray-memory", "0.25"]) == 0
        assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
        assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
        if os.path.isdir("/proc/net"):
            listening = _listening_addresses(_descendants(os.getpid()))
            assert listening, "no listening Ray sockets found"
            assert all(ipaddress.ip_address(a.rsplit(":", 1)[0]).is_loopback for a in listening), listening
    finally:
        ray.shutdown()
    assert not ray.is_initialized()
    _assert_same_results(reference, out)
