"""The ``--out`` folder of ``selfmocap capture``: nothing selfmocap did not write is ever deleted,
bad output paths are refused before any work, concurrent runs are locked out, stale partial
folders are cleaned, SIGTERM is handled like Ctrl-C. Unit tests of the folder functions (no capture run)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from selfmocap.capture import pipeline as pl
from selfmocap.capture.cli import sigterm_as_interrupt
from selfmocap.cli import main
from selfmocap.errors import UserError
from selfmocap.io import dir_mode


def fake_result(folder, text="new"):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("motion.npz", "run.json", "report.html"):
        (folder / name).write_text(text)
    (folder / "predictions").mkdir(exist_ok=True)
    (folder / "predictions" / "x.npz").write_text(text)
    return folder


def one_line(err):
    assert "\n" not in str(err.value)


def test_non_empty_folder_without_result_is_refused_even_with_overwrite(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    for overwrite in (False, True):
        with pytest.raises(UserError, match="holds no capture result") as err:
            pl.check_out(out, overwrite)
        one_line(err)
    assert (out / "thesis.tex").read_text() == "precious"


def test_empty_and_missing_folders_are_accepted(tmp_path):
    (tmp_path / "empty").mkdir()
    pl.check_out(tmp_path / "empty", False)
    pl.check_out(tmp_path / "new" / "deeper", False)


def test_result_needs_overwrite(tmp_path):
    out = fake_result(tmp_path / "res", "old")
    with pytest.raises(UserError, match="--overwrite"):
        pl.check_out(out, False)
    pl.check_out(out, True)


def test_overwrite_keeps_user_files_and_replaces_own(tmp_path):
    out = fake_result(tmp_path / "res", "old")
    (out / "motion.glb").write_text("old")  # an old export the new run does not write: replaced (removed)
    (out / "notes.txt").write_text("mine")
    (out / "renders").mkdir()
    (out / "renders" / "a.png").write_text("mine")
    work = fake_result(tmp_path / ".res.partial-1", "new")
    (work / pl.PID_FILE).write_text("1")
    pl.finalize(work, out)
    assert sorted(p.name for p in out.iterdir()) == ["motion.npz", "notes.txt", "predictions", "renders",
                                                     "report.html", "run.json"]
    assert (out / "notes.txt").read_text() == "mine" and (out / "renders" / "a.png").read_text() == "mine"
    assert (out / "motion.npz").read_text() == "new" and (out / "predictions" / "x.npz").read_text() == "new"
    assert not work.exists() and not list(tmp_path.glob(".res.old-*"))


def test_overwrite_pure_result_swaps_whole_folder(tmp_path):
    out = fake_result(tmp_path / "res", "old")
    work = fake_result(tmp_path / ".res.partial-1", "new")
    pl.finalize(work, out)
    assert (out / "run.json").read_text() == "new"
    assert not work.exists() and not list(tmp_path.glob(".res.old-*"))


def test_finalize_into_empty_user_folder(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    work = fake_result(tmp_path / ".res.partial-1")
    (work / pl.PID_FILE).write_text("1")
    pl.finalize(work, out)
    assert (out / "run.json").read_text() == "new" and not (out / pl.PID_FILE).exists()


def test_interrupted_overwrite_keeps_old_result_aside(tmp_path, monkeypatch):
    out = fake_result(tmp_path / "res", "old")
    (out / "notes.txt").write_text("mine")
    work = fake_result(tmp_path / ".res.partial-1", "new")
    real, calls = os.replace, []

    def flaky(src, dst):
        calls.append(src)
        if str(src).startswith(str(work)):
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(pl.os, "replace", flaky)
    with pytest.raises(KeyboardInterrupt):
        pl.finalize(work, out)
    monkeypatch.undo()
    (aside,) = tmp_path.glob(".res.old-*")
    assert (aside / "motion.npz").read_text() == "old" and (out / "notes.txt").read_text() == "mine"


def test_out_must_not_hold_the_input(tmp_path):
    video = tmp_path / "in" / "clip.mp4"
    video.parent.mkdir()
    video.write_bytes(b"")
    for out in (video.parent, tmp_path, video):
        with pytest.raises(UserError) as err:
            pl.check_out(out, True, video)
        one_line(err)
    frames = tmp_path / "frames"
    frames.mkdir()
    with pytest.raises(UserError, match="inside the input image folder"):
        pl.check_out(frames / "res", True, frames)
    with pytest.raises(UserError, match="holds the input"):
        pl.check_out(frames, True, frames)


def test_out_must_not_be_cwd_or_its_parent(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    for out in (".", "..", str(tmp_path / "sub")):
        with pytest.raises(UserError, match="current folder") as err:
            pl.check_out(pl.Path(out), True)
        one_line(err)


def test_parent_is_a_file(tmp_path):
    (tmp_path / "afile.txt").write_text("x")
    with pytest.raises(UserError, match="is a file") as err:
        pl.check_out(tmp_path / "afile.txt" / "res", False)
    one_line(err)
    with pytest.raises(UserError, match="not a folder"):
        pl.check_out(tmp_path / "afile.txt", False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent_is_refused_before_any_work(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        # the video does not exist: the --out error must come first (checked before the video is opened)
        assert main(["capture", str(tmp_path / "missing.mp4"), "--out", str(ro / "res")]) == 2
        with pytest.raises(UserError, match="cannot write"):
            pl.prepare_out(ro / "res", False)
    finally:
        ro.chmod(0o755)


def test_unwritable_parent_is_refused_before_the_video(tmp_path, monkeypatch, capsys):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pl.tempfile, "mkdtemp", denied)
    assert main(["capture", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "Permission denied" in err and err.count("\n") == 1
    assert not (tmp_path / ".res.lock").exists()


def test_bad_out_reported_before_the_video(tmp_path, capsys):
    (tmp_path / "afile.txt").write_text("x")
    assert main(["capture", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "afile.txt" / "res")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_failed_run_leaves_no_partial_and_no_lock(tmp_path):
    out = tmp_path / "res"
    assert main(["capture", str(tmp_path / "missing.mp4"), "--out", str(out)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_partial_folder_mode_follows_umask_and_records_pid(tmp_path):
    lock, work = pl.prepare_out(tmp_path / "res", False)
    try:
        assert stat.S_IMODE(work.stat().st_mode) == dir_mode()
        assert int((work / pl.PID_FILE).read_text()) == os.getpid()
        assert work.name.startswith(".res.partial-")
    finally:
        lock.release()
    assert not (tmp_path / ".res.lock").exists()


@pytest.mark.slow  # two captures at once
def test_second_capture_into_same_out_is_refused(tmp_path):
    out = tmp_path / "res"
    lock, _ = pl.prepare_out(out, False)
    try:
        code = ("import sys; from pathlib import Path; from selfmocap.capture.pipeline import OutLock\n"
                "from selfmocap.errors import UserError\n"
                "try:\n    OutLock(Path(sys.argv[1])).acquire()\nexcept UserError as e:\n    print(e); sys.exit(3)\n")
        proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 3 and "another capture" in proc.stdout
    finally:
        lock.release()
    pl.OutLock(out).acquire().release()


def test_stale_partials_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / "res"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / ".res.partial-aaa"
    stale.mkdir()
    (stale / pl.PID_FILE).write_text(str(dead.pid))
    alive = tmp_path / ".res.partial-bbb"
    alive.mkdir()
    (alive / pl.PID_FILE).write_text(str(os.getppid()))
    unknown = tmp_path / ".res.partial-ccc"  # no pid recorded: left alone
    unknown.mkdir()
    other = tmp_path / ".other.partial-ddd"
    other.mkdir()
    (other / pl.PID_FILE).write_text(str(dead.pid))
    lock, work = pl.prepare_out(out, False)
    lock.release()
    assert not stale.exists() and alive.exists() and unknown.exists() and other.exists() and work.exists()


def test_sigterm_raises_keyboard_interrupt_and_is_restored():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) is before
