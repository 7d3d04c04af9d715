"""End-to-end checks of ``selfmocap synth`` on tiny clips."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from selfmocap.cli import main
from selfmocap.data import list_clips
from selfmocap.geometry.camera import Camera, project
from selfmocap.synth.config import SynthConfig
from selfmocap.synth.run import generate

SIZE = 96


@pytest.fixture(scope="module")
def test_split(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "test"
    generate(SynthConfig(out=out, split="test", clips=2, frames=4, seed=3, size=SIZE, preview=True))
    return out


@pytest.fixture(scope="module")
def shift_split(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "shift"
    generate(SynthConfig(out=out, split="shift", clips=1, frames=3, seed=3, size=SIZE))
    return out


def test_reader_round_trip(test_split, body):
    clips = list_clips(test_split)
    assert [c.meta.clip_id for c in clips] == ["test_000000", "test_000001"]
    clip = clips[0]
    lab = clip.labels
    t = len(clip)
    assert lab.pose.shape == (t, 19, 3) and lab.shape.shape == (6,) and lab.camera.shape == (t, 9)
    assert lab.keypoints2d.shape == (t, 23, 3) and lab.joints3d.shape == (t, 20, 3)
    assert clip.rgb(0).shape == (SIZE, SIZE, 3) and clip.rgb(0).dtype == np.uint8
    assert clip.depth().shape == (t, SIZE, SIZE)
    flow, valid = clip.flow()
    assert flow.shape == (t - 1, SIZE, SIZE, 2) and valid.shape == (t - 1, SIZE, SIZE)
    assert (clip.path / "preview.png").is_file()
    # The stored parameters regenerate the stored 3D and 2D ground truth exactly.
    out = body(torch.from_numpy(lab.pose), torch.from_numpy(lab.shape)[None])
    assert np.allclose(out.keypoints.numpy(), lab.keypoints3d, atol=1e-5)
    uv = project(out.keypoints.double(), Camera.from_array(torch.from_numpy(lab.camera).double()))
    assert np.allclose(uv.numpy(), lab.keypoints2d[..., :2], atol=1e-2)


def test_visible_keypoints_land_in_the_mask(test_split):
    for clip in list_clips(test_split):
        for t in range(len(clip)):
            mask = clip.mask(t)
            kp = clip.labels.keypoints2d[t]
            vis = kp[:, 2] > 0.5
            assert vis.sum() >= 5
            cols, rows = np.floor(kp[vis, 0]).astype(int), np.floor(kp[vis, 1]).astype(int)
            # keypoints lie inside the body; allow a pixel of slack at thin limbs
            dil = np.zeros_like(mask)
            dil[1:-1, 1:-1] = mask[:-2, 1:-1] | mask[2:, 1:-1] | mask[1:-1, :-2] | mask[1:-1, 2:] | mask[1:-1, 1:-1]
            assert dil[rows, cols].mean() >= 0.9


def test_flow_warps_frame_t_plus_1_onto_frame_t(test_split):
    """Backward warping I_{t+1}(p + flow(p)) reproduces I_t(p) on person pixels visible in both.

    Tolerance: the textures are sampled at pixel centres without anti-aliasing and shading
    changes as the surface turns, so bilinear warping cannot be exact. We require a mean absolute
    error below 16 grey levels (of 255), below the no-motion error where the mean motion exceeds a
    pixel, and below the error of the
    same flow moved by half a pixel in any direction (so the flow is right to sub-pixel level).
    """
    import cv2

    def warp_error(a, b, flow, mask, dx=0.0, dy=0.0):
        rows, cols = np.mgrid[0 : a.shape[0], 0 : a.shape[1]].astype(np.float32)
        warped = cv2.remap(b, cols + flow[..., 0] + dx, rows + flow[..., 1] + dy, cv2.INTER_LINEAR)
        return np.abs(warped - a)[mask].mean()

    checked = 0
    for clip in list_clips(test_split):
        flow, valid = clip.flow()
        for t in range(len(clip) - 1):
            a, b = clip.rgb(t).astype(np.float32), clip.rgb(t + 1).astype(np.float32)
            person = clip.mask(t) & valid[t]
            err = warp_error(a, b, flow[t], person)
            assert err < 16
            if np.linalg.norm(flow[t][person], axis=-1).mean() > 1.0:  # below, interpolation blur dominates
                assert err < np.abs(b - a)[person].mean()
            for dx, dy in [(0.5, 0), (-0.5, 0), (0, 0.5), (0, -0.5)]:
                assert err < warp_error(a, b, flow[t], person, dx, dy)
            checked += 1
    assert checked >= 4


def test_shift_split_has_degraded_input_masks(shift_split):
    clip = list_clips(shift_split)[0]
    assert clip.meta.degraded_mask and (clip.path / "mask_input").is_dir()
    ious = []
    for t in range(len(clip)):
        a, b = clip.mask(t), clip.input_mask(t)
        ious.append((a & b).sum() / max((a | b).sum(), 1))
    assert 0.3 < np.mean(ious) < 0.99  # degraded, but still a person


def test_deterministic_across_worker_counts_and_resumes(tmp_path, test_split):
    out = tmp_path / "again"
    generate(SynthConfig(out=out, split="test", clips=2, frames=4, seed=3, size=SIZE, workers=2, preview=True))
    for a, b in zip(list_clips(test_split), list_clips(out)):
        assert np.array_equal(a.labels.camera, b.labels.camera)
        for t in range(len(a)):
            assert np.array_equal(a.rgb(t), b.rgb(t))
    # A half-written clip (temporary folder) is ignored and redone; complete clips are kept.
    (out / ".tmp-test_000002").mkdir()
    (out / ".tmp-test_000002" / "junk").write_text("x")
    stamp = (out / "test_000000" / "meta.json").stat().st_mtime_ns
    generate(SynthConfig(out=out, split="test", clips=3, frames=4, seed=3, size=SIZE))
    assert (out / "test_000000" / "meta.json").stat().st_mtime_ns == stamp
    assert not (out / ".tmp-test_000002").exists()
    assert [c.meta.clip_id for c in list_clips(out)] == ["test_000000", "test_000001", "test_000002"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--clips", "-1"], "--clips must be at least 1"),
        (["--clips", "1", "--frames", "0"], "--frames must be at least 1"),
        (["--clips", "1", "--size", "16"], "--size must be at least 64"),
    ],
)
def test_bad_arguments_give_one_line_errors(tmp_path, capsys, args, message):
    code = main(["synth", "--out", str(tmp_path / "x"), "--split", "test", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1


def test_unwritable_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["synth", "--out", str(blocker / "sub"), "--split", "test", "--clips", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "cannot write to --out" in err and len(err.splitlines()) == 1


def test_other_settings_in_the_same_folder_are_refused(tmp_path, capsys, test_split):
    code = main(["synth", "--out", str(test_split), "--split", "test", "--clips", "2", "--frames", "4", "--seed", "4", "--size", str(SIZE)])
    assert code == 2 and "other settings" in capsys.readouterr().err
    settings = json.loads((test_split / "synth_config.json").read_text())
    assert settings["config"]["seed"] == 3


def test_world_landmarks_are_added_to_new_and_existing_clips(tmp_path, test_split):
    import shutil

    from selfmocap.cues.mediapipe import world_landmarks
    from selfmocap.data.clip import WORLD_LANDMARKS_FILE

    out = tmp_path / "clips"
    shutil.copytree(test_split, out)
    assert not list(out.glob(f"*/{WORLD_LANDMARKS_FILE}"))
    generate(SynthConfig(out=out, split="test", clips=2, frames=4, seed=3, size=SIZE, world_landmarks=True))
    for clip in list_clips(out):
        world = clip.world_landmarks()
        assert world.shape == (4, 23, 4)
        # what mediapipe says about the clip's RGB frames, nothing else
        assert np.array_equal(world, world_landmarks([clip.rgb(t) for t in range(len(clip))]))
