"""The real-motion table (``selfmocap bench --real-motion DIR``, ``bench/real_motion.py``): the
limb-joint score against a hand-made similarity, the file and window choice, and the whole table
end to end on two tiny hand-written BVH files, a tiny network, 64-pixel clips and two adaptation
steps (slow: it renders, adapts and runs mediapipe)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import roma
import torch
from tiny_bvh import write_bvh

from selfmocap.bench.real_motion import (
    LIMB_KEYPOINT_NAMES,
    LIMB_KEYPOINTS,
    choose_files,
    choose_windows,
    combine_real_motion,
    format_real_motion,
    limb_pa_mpjpe,
    write_real_motion,
)
from selfmocap.bench.config import MEDIAPIPE_ROW, ObjectiveVariant, RealMotionOptions
from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.cli import main
from selfmocap.errors import UserError

SHARED_MOCAP = Path(__file__).resolve().parents[3] / "shared" / "mocap"

#: A CMU-named skeleton (centimetres, Y up, facing +Z): (name, parent name, offset), parents first.
_SKELETON = [("Hips", None, (0, 90, 0)), ("LowerBack", "Hips", (0, 10, 0)), ("Spine", "LowerBack", (0, 15, 0)),
             ("Spine1", "Spine", (0, 15, 0)), ("Neck", "Spine1", (0, 12, 0)), ("Head", "Neck", (0, 12, 0))]
for _side, _s in (("Left", 1), ("Right", -1)):
    _SKELETON += [(f"{_side}Shoulder", "Spine1", (_s * 5, 10, 0)), (f"{_side}Arm", f"{_side}Shoulder", (_s * 15, 0, 0)),
                  (f"{_side}ForeArm", f"{_side}Arm", (_s * 30, 0, 0)), (f"{_side}Hand", f"{_side}ForeArm", (_s * 25, 0, 0)),
                  (f"{_side}UpLeg", "Hips", (_s * 10, 0, 0)), (f"{_side}Leg", f"{_side}UpLeg", (0, -45, 0)),
                  (f"{_side}Foot", f"{_side}Leg", (0, -45, 0)), (f"{_side}ToeBase", f"{_side}Foot", (0, -5, 12))]


def write_tiny_bvh(path: Path, frames: int, phase: float) -> Path:
    """A small CMU-like BVH at 30 fps: knees and elbows bend and the body walks forward."""
    names = [n for n, _, _ in _SKELETON]
    parents = [-1 if p is None else names.index(p) for _, p, _ in _SKELETON]
    euler = np.zeros((frames, len(names), 3))  # Z, X, Y degrees
    for t in range(frames):
        bend = 20 + 25 * math.sin(phase + 0.4 * t)
        for i, name in enumerate(names):
            if name in ("LeftLeg", "RightLeg"):
                euler[t, i, 1] = bend if name.startswith("Left") else 45 - bend
            if name in ("LeftForeArm", "RightForeArm"):
                euler[t, i, 2] = bend if name.startswith("Left") else -bend
            if name in ("LeftUpLeg", "RightUpLeg"):
                euler[t, i, 1] = -0.5 * bend
    root = np.stack([np.zeros(frames), np.full(frames, 90.0), 2.0 * np.arange(frames)], axis=1)
    return write_bvh(path, names, parents, [o for _, _, o in _SKELETON], euler, root, frame_time=0.033333,
                     end_site=(0, -3, 0), decimals=4)


@pytest.fixture(scope="module")
def tiny_motions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("motions")
    write_tiny_bvh(folder / "a_walk.bvh", 12, 0.0)
    write_tiny_bvh(folder / "b_bend.bvh", 9, 1.5)
    return folder


def test_limb_joints_are_the_twelve_limb_keypoints():
    assert len(LIMB_KEYPOINTS) == 12 and len(set(LIMB_KEYPOINTS)) == 12
    assert {KEYPOINT_NAMES[i] for i in LIMB_KEYPOINTS} == {
        f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")}
    assert LIMB_KEYPOINT_NAMES == tuple(KEYPOINT_NAMES[i] for i in LIMB_KEYPOINTS)


def _similarity(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rot = roma.rotvec_to_rotmat(torch.from_numpy(rng.normal(size=3))).numpy()
    return 1.7 * points @ rot.T + rng.normal(size=3)


def test_limb_pa_mpjpe_against_a_hand_made_similarity_and_a_slow_reference():
    rng = np.random.default_rng(0)
    true = rng.normal(scale=0.3, size=(3, len(KEYPOINT_NAMES), 3))
    moved = np.stack([_similarity(true[t], rng) for t in range(3)])
    assert limb_pa_mpjpe(moved, true) == pytest.approx(np.zeros(3), abs=1e-6)  # a similarity costs nothing
    other = moved.copy()
    other[:, KEYPOINT_NAMES.index("nose")] += 5.0  # not a limb joint: ignored
    assert limb_pa_mpjpe(other, true) == pytest.approx(np.zeros(3), abs=1e-6)
    noisy = true + rng.normal(scale=0.02, size=true.shape)

    def slow(pred: np.ndarray, target: np.ndarray) -> float:  # Umeyama by SVD, one frame, the 12 joints by name
        idx = [KEYPOINT_NAMES.index(n) for n in LIMB_KEYPOINT_NAMES]
        p, q = pred[idx], target[idx]
        pc, qc = p - p.mean(0), q - q.mean(0)
        u, s, vt = np.linalg.svd(qc.T @ pc)
        d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
        rot = u @ d @ vt
        scale = np.trace(np.diag(s) @ d) / (pc ** 2).sum()
        aligned = scale * pc @ rot.T + q.mean(0)
        return 1000.0 * np.linalg.norm(aligned - q, axis=1).mean()

    expected = [slow(noisy[t], true[t]) for t in range(3)]
    assert limb_pa_mpjpe(noisy, true) == pytest.approx(expected, rel=1e-6)
    assert min(expected) > 1.0  # the noise is seen


def test_files_are_thinned_evenly_and_variants_parse():
    files = [Path(f"{i:02d}.bvh") for i in range(20)]
    assert choose_files(files, 0) == files and choose_files(files, 30) == files
    assert [p.name for p in choose_files(files, 3)] == ["00.bvh", "10.bvh", "19.bvh"]
    variant = ObjectiveVariant.parse("adapted+kpt=kpt")
    assert variant.name == "adapted+kpt" and variant.objective.losses == ("kpt",)
    with pytest.raises(UserError, match="NAME=LOSSES"):
        ObjectiveVariant.parse("kpt,seg")
    with pytest.raises(UserError, match="subset"):
        ObjectiveVariant.parse("x=kpt,nothing")
    scaled = ObjectiveVariant.parse("w=kpt,world3d:scale")
    assert scaled.objective.losses == ("kpt", "world3d") and scaled.objective.world3d_alignment == "scale"
    assert variant.objective.world3d_alignment == "similarity"
    with pytest.raises(UserError, match="alignment"):
        ObjectiveVariant.parse("w=kpt,world3d:rigid")
    with pytest.raises(UserError, match="distinct names"):
        RealMotionOptions(variants=(variant, variant))


def _row(per_joint: float) -> dict:
    metrics = {"surface_mm": 1.2 * per_joint, "per_joint_mm": per_joint, "recon_mm": 0.9 * per_joint, "pa_mpjpe_mm": 0.5 * per_joint,
               "accel_mm": 3.0, "frames": 4, "pa_limbs_mm": 0.6 * per_joint, "limb_frames": 3}
    return {"overall": metrics, "clips": {"00_a": metrics}}


def _half(mode: str, per_joint: float) -> dict:
    mediapipe = {"overall": {"per_joint_mm": None, "frames": 3, "pa_limbs_mm": 70.0, "limb_frames": 3},
                 "clips": {"00_a": {"per_joint_mm": None, "frames": 3, "pa_limbs_mm": 70.0, "limb_frames": 3}}}
    return {"motions": "m", "checkpoint": "shipped", "seed": 100, "options": {"frames": 4}, "limb_keypoints": list(LIMB_KEYPOINT_NAMES),
            "clips": {"00_a": {"file": "a.bvh", "path": "m/a.bvh", "first_frame": 4, "last_frame": 7.0, "source_fps": 30.0, "bone_map": "cmu"}},
            "mediapipe": mediapipe, "tables": {mode: {"pretrained": _row(100.0), "adapted": _row(per_joint)}}, "seconds": 60.0}


def test_tables_and_combined_halves(tmp_path):
    text = format_real_motion(_half("oracle", 80.0))
    assert "| pretrained | 120.0 | 100.0 | 90.0 | 50.0 | 3.0 | 4 | 60.0 | 3 |" in text
    assert f"| {MEDIAPIPE_ROW} (reference) | - | - | - | - | - | 3 | 70.0 | 3 |" in text
    assert "adapted -20.0 %" in text and "| 00_a | 100.0 | 50.0 | 60.0 | 80.0 | 40.0 | 48.0 | 70.0 |" in text
    write_real_motion(_half("oracle", 80.0), tmp_path / "o")
    write_real_motion(_half("estimated", 90.0), tmp_path / "e")
    joined = combine_real_motion([tmp_path / "o", tmp_path / "e"], tmp_path / "all")
    assert list(joined["tables"]) == ["oracle", "estimated"] and joined["seconds"] == 120.0
    saved = json.loads((tmp_path / "all" / "real_motion.json").read_text())
    assert saved["partial"] is False and saved["tables"]["estimated"]["adapted"]["overall"]["per_joint_mm"] == 90.0
    assert "### Real motion, estimated inputs" in (tmp_path / "all" / "real_motion.md").read_text()
    write_real_motion(_half("oracle", 80.0), tmp_path / "p", partial=True)
    with pytest.raises(UserError, match="partial"):
        combine_real_motion([tmp_path / "p", tmp_path / "e"], tmp_path / "x")
    write_real_motion(_half("oracle", 80.0) | {"seed": 1}, tmp_path / "s")
    with pytest.raises(UserError, match="other clips, options, seed"):
        combine_real_motion([tmp_path / "s", tmp_path / "e"], tmp_path / "x")
    with pytest.raises(UserError, match="does not exist"):
        combine_real_motion([tmp_path / "nothing"], tmp_path / "x")


@pytest.mark.anny
def test_windows_are_deterministic_and_fit(tiny_motions, body):
    from selfmocap.synth.mocap import BvhMotion, anny_target_skeleton, list_bvh_files

    source = BvhMotion(list_bvh_files(tiny_motions), anny_target_skeleton(body))
    middle = choose_windows(source, 4, 30.0, "middle", 0)
    assert [(p.name, f) for p, f in middle] == [("a_walk.bvh", 4), ("b_bend.bvh", 2)]  # 12 - 4 + 1 = 9 starts: the 5th
    random = choose_windows(source, 4, 30.0, "random", 3)
    assert random == choose_windows(source, 4, 30.0, "random", 3)
    assert all(0 <= f <= n - 4 for (_, f), n in zip(random, (12, 9)))


@pytest.mark.anny
@pytest.mark.slow
def test_real_motion_table_end_to_end(tiny_motions, tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "bench"
    args = ["bench", "--out", str(out), "--checkpoint", str(tiny_checkpoint), "--real-motion", str(tiny_motions),
            "--real-motion-frames", "4", "--real-motion-iters", "2", "--real-motion-batch", "2", "--real-motion-size", "64",
            "--real-motion-variant", "adapted=kpt,seg,motion", "--real-motion-variant", "adapted+kpt=kpt"]
    assert main(args) == 0
    results = json.loads((out / "real_motion.json").read_text())
    assert results["partial"] is False and list(results["clips"]) == ["00_a_walk", "01_b_bend"]
    assert results["clips"]["00_a_walk"]["first_frame"] == 4 and results["clips"]["01_b_bend"]["bone_map"] == "cmu"
    assert results["limb_keypoints"] == list(LIMB_KEYPOINT_NAMES)
    assert set(results["tables"]) == {"oracle", "estimated"}
    for mode, rows in results["tables"].items():
        assert list(rows) == ["pretrained", "adapted", "adapted+kpt"]
        for name, row in rows.items():
            o = row["overall"]
            assert o["frames"] == 8 and set(row["clips"]) == set(results["clips"])
            for key in ("surface_mm", "per_joint_mm", "recon_mm", "pa_mpjpe_mm", "accel_mm"):
                assert math.isfinite(o[key]) and 0.0 < o[key] < 10_000.0, (mode, name, key)
            assert o["pa_mpjpe_mm"] <= o["per_joint_mm"] + 1e-6  # the alignment can only help
            assert 0 <= o["limb_frames"] <= o["frames"]
            if o["limb_frames"]:
                assert math.isfinite(o["pa_limbs_mm"]) and 0.0 < o["pa_limbs_mm"] < 10_000.0
        assert rows["adapted"]["overall"] != rows["pretrained"]["overall"]  # adaptation changed the network
    mp = results["mediapipe"]["overall"]
    assert 0 <= mp["limb_frames"] <= 8 and mp["per_joint_mm"] is None
    assert (mp["pa_limbs_mm"] is None) == (mp["limb_frames"] == 0)
    text = (out / "real_motion.md").read_text()
    assert "### Real motion, oracle inputs" in text and "### Per clip, estimated inputs" in text
    assert f"| {MEDIAPIPE_ROW} (reference) |" in text and "| 00_a_walk | a_walk.bvh | 4-7 | 30 | cmu |" in text
    assert "PARTIAL" not in text and "left_shoulder, right_shoulder" in text
    saved = json.loads((out / "real_motion_config.json").read_text())["config"]
    assert [(v["name"], v["objective"]["losses"]) for v in saved["variants"]] == [("adapted", ["kpt", "seg", "motion"]), ("adapted+kpt", ["kpt"])]
    capsys.readouterr()

    # a rerun keeps the rendered clips (same windows); bad options are one-line errors
    assert main(args[:-4] + ["--inputs", "oracle", "--no-real-motion-mediapipe"]) == 0
    assert "mediapipe" not in json.loads((out / "real_motion.json").read_text())
    capsys.readouterr()
    assert main(["bench", "--out", str(tmp_path / "x"), "--real-motion-variant", "a=kpt"]) == 2
    assert "needs --real-motion" in capsys.readouterr().err
    assert main(args[:7] + ["--real-motion-variant", "oops"]) == 2
    assert "NAME=LOSSES" in capsys.readouterr().err
    assert main(args[:7] + ["--real-motion-frames", "400"]) == 2
    assert "longer than every BVH file" in capsys.readouterr().err


@pytest.mark.anny
@pytest.mark.slow
@pytest.mark.skipif(not SHARED_MOCAP.is_dir(), reason="../shared/mocap is not here")
def test_every_shared_file_gives_a_window(body):
    from selfmocap.synth.mocap import BvhMotion, anny_target_skeleton, list_bvh_files

    files = list_bvh_files(SHARED_MOCAP)
    source = BvhMotion(files, anny_target_skeleton(body))
    windows = choose_windows(source, 30, 30.0, "middle", 0)
    assert [p for p, _ in windows] == files and all(f >= 0 for _, f in windows)
