"""`selfmocap evaluate --annotations --capture` on hand-made annotation files and captures: the joint
maps, frame matching by name, PA-MPJPE and root-aligned errors against slow obvious references,
one-line errors for bad files; and, where ``../shared/real3d`` is present, the four MPI-INF-3DHP
frames (their truth as a capture scores zero; a real capture of them, slow)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.cli import main
from selfmocap.data.predictions import ClipPrediction, write_prediction
from selfmocap.errors import UserError
from selfmocap.eval.annotations import JOINT_ORDERS, LIMB_JOINTS, detect_joint_order, read_annotations
from selfmocap.body.metrics import LIMB_KEYPOINTS
from selfmocap.eval.config import RealConfig
from selfmocap.eval.real import MEDIAPIPE_WORLD_KEY, CapturedFrame, evaluate_real, limb_errors, match_frames
from selfmocap.export import captured_motion, write_motion_npz
from selfmocap.geometry.camera import euler_to_rotmat

REAL3D = Path(__file__).resolve().parents[3] / "shared" / "real3d" / "mpi_inf_3dhp"


# ----------------------------------------------------------------------------- slow references

def _procrustes_reference(pred: np.ndarray, target: np.ndarray) -> float:
    """PA-MPJPE (mm) of one frame by the textbook SVD (Umeyama), written out."""
    mp, mt = pred.mean(0), target.mean(0)
    p, t = pred - mp, target - mt
    u, s, vt = np.linalg.svd(t.T @ p)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, 1.0, d])
    rotation = u @ fix @ vt
    scale = (s * np.diag(fix)).sum() / (p ** 2).sum()
    aligned = scale * p @ rotation.T + mt
    return float(np.mean([np.linalg.norm(aligned[k] - target[k]) for k in range(len(target))]) * 1000)


def _root_aligned_reference(pred: np.ndarray, target: np.ndarray) -> list[float]:
    """Per-joint distances (mm) after subtracting each skeleton's hip midpoint, joint by joint."""
    lh, rh = LIMB_JOINTS.index("left_hip"), LIMB_JOINTS.index("right_hip")
    root_p, root_t = (pred[lh] + pred[rh]) / 2, (target[lh] + target[rh]) / 2
    return [float(np.linalg.norm((pred[k] - root_p) - (target[k] - root_t)) * 1000) for k in range(len(LIMB_JOINTS))]


# ----------------------------------------------------------------------------- fixtures

def _skeleton(n: int, seed: int) -> dict[str, np.ndarray]:
    """N random camera-space skeletons (name -> (N, 3)) about 3 m in front of the camera, with a
    root exactly between the hips (as the datasets have it)."""
    rng = np.random.default_rng(seed)
    names = {name for order in JOINT_ORDERS.values() for name in order}
    joints = {name: rng.normal(0, 0.4, (n, 3)) + [0.0, 0.0, 3.0] for name in sorted(names)}
    joints["root"] = (joints["left_hip"] + joints["right_hip"]) / 2
    return joints


def _write_annotations(path: Path, joints: dict[str, np.ndarray], names: list[str], order: str, conf: np.ndarray | None = None,
                       drop: str | None = None) -> Path:
    n = len(names)
    s = np.stack([joints[j] for j in JOINT_ORDERS[order]], axis=1)
    c = np.ones(s.shape[:2]) if conf is None else conf
    arrays = {"imgname": np.array(names), "S": np.concatenate([s, c[..., None]], axis=-1),
              "part": np.zeros((n, s.shape[1], 3)), "center": np.zeros((n, 2)), "scale": np.ones(n)}
    arrays.pop(drop, None)
    np.savez(path, **arrays)
    return path


def _fake_capture(body, out: Path, images: Path, names: list[str], euler: np.ndarray, *, detected=None,
                  world=None, adapted_offset: float | None = None) -> tuple[Path, np.ndarray]:
    """A capture folder as ``selfmocap capture IMAGES --out OUT`` leaves it (motion.npz from the
    exporter's builder and writer, run.json, an adapted prediction), T frames of a lightly posed
    body seen with cameras of Euler angles ``euler`` (T, 3). Returns the folder and the (T, 12, 3)
    limb keypoints in the camera's orientation, ``R X``. ``world(limbs)`` gives mediapipe's
    (T, 12, 4) landmarks to keep."""
    t = len(names)
    images.mkdir(parents=True, exist_ok=True)
    for name in names:
        cv2.imwrite(str(images / name), np.zeros((8, 8, 3), np.uint8))
    pose = np.random.default_rng(1).normal(0, 0.2, (t, body.num_pose_joints, 3))
    camera = np.zeros((t, 9))
    camera[:, 0], camera[:, 1:4], camera[:, 6], camera[:, 7:9] = 500.0, euler, 4.0, 4.0
    motion = captured_motion(body, pose, np.asarray(body.default_shape, np.float32).reshape(-1), camera, fps=30.0, image_size=(8, 8),
                             detected=None if detected is None else np.asarray(detected, bool))
    rotation = euler_to_rotmat(torch.from_numpy(motion.camera[:, 1:4]).double()).numpy()
    limbs = np.einsum("tij,tkj->tki", rotation, motion.keypoints3d[:, list(LIMB_KEYPOINTS)].astype(np.float64))
    extra = {}
    if world is not None:
        mp = np.zeros((t, len(KEYPOINT_NAMES), 4), np.float32)
        mp[:, list(LIMB_KEYPOINTS)] = world(limbs)
        extra[MEDIAPIPE_WORLD_KEY] = mp
    out.mkdir(parents=True, exist_ok=True)
    write_motion_npz(out / "motion.npz", motion, extra=extra)
    if adapted_offset is not None:
        write_prediction(out / "predictions" / "adapted", images.name, ClipPrediction(
            pose=motion.pose, shape=np.repeat(motion.shape[None], t, 0), camera=motion.camera, joints3d=motion.joints3d,
            keypoints3d=motion.keypoints3d + adapted_offset, keypoints2d=motion.keypoints2d, valid=np.ones(t, bool)))
    files = sorted(p.name for p in images.iterdir())
    (out / "run.json").write_text(json.dumps({
        "method": "capture", "summary": {"clip_id": images.name},
        "video": {"source": str(images), "kind": "images", "source_indices": [files.index(n) for n in names]},
    }))
    return out, limbs


def _annotate(path: Path, limbs: np.ndarray, names: list[str], order: str, seed: int, conf: np.ndarray | None = None) -> Path:
    """An annotation file whose limb joints are ``limbs`` (N, 12, 3) in camera space (3 m away), the
    other joints random, the root between the hips."""
    joints = _skeleton(len(limbs), seed)
    for k, name in enumerate(LIMB_JOINTS):
        joints[name] = limbs[:, k] + [0.0, 0.0, 3.0]
    joints["root"] = (joints["left_hip"] + joints["right_hip"]) / 2
    return _write_annotations(path, joints, names, order, conf)


@pytest.fixture
def scene(tmp_path, body):
    """Annotations of 4 images (MPI-INF-3DHP order), 3 of them captured; the truth is the
    capture's limbs plus a known per-joint error."""
    names = ["a_0001.jpg", "a_0002.jpg", "a_0003.jpg", "b_0001.jpg"]
    euler = np.random.default_rng(3).uniform(-1, 1, (3, 3))
    cap, pred = _fake_capture(body, tmp_path / "cap", tmp_path / "frames", names[:3], euler, adapted_offset=0.01)
    truth = pred + np.random.default_rng(2).normal(0, 0.05, pred.shape)
    truth = np.concatenate([truth, truth[:1] * 0.5])  # the fourth image is not captured
    ann = _annotate(tmp_path / "ann.npz", truth, names, "mpi_inf_3dhp17", seed=0)
    return ann, cap, truth[:3], pred, names


# ----------------------------------------------------------------------------- joint maps

@pytest.mark.parametrize("order", sorted(JOINT_ORDERS))
def test_every_order_maps_the_same_limb_joints(tmp_path, order):
    truth = _skeleton(3, seed=4)
    ann = read_annotations(_write_annotations(tmp_path / "a.npz", truth, ["x.jpg", "y.jpg", "z.jpg"], order))
    assert ann.joint_order == order  # auto-detected: 24 joints, or the 17-joint order whose root is between its hips
    np.testing.assert_array_equal(ann.joints, np.stack([truth[j] for j in LIMB_JOINTS], axis=1))
    assert ann.annotated.all()


def test_joint_orders_name_the_limb_joints_once():
    assert len(LIMB_JOINTS) == 12 and set(LIMB_JOINTS) <= set(KEYPOINT_NAMES)
    for order, names in JOINT_ORDERS.items():
        assert len(set(names)) == len(names) == (24 if order == "spin24" else 17), order
        assert set(LIMB_JOINTS) <= set(names), order


def test_ambiguous_17_joint_order_asks_for_it():
    joints = np.random.default_rng(0).normal(size=(5, 17, 3))  # no root between any hips
    with pytest.raises(UserError, match="--joint-order"):
        detect_joint_order(joints, "f.npz")


# ----------------------------------------------------------------------------- errors

def test_limb_errors_match_the_slow_references():
    rng = np.random.default_rng(5)
    target = rng.normal(0, 0.4, (6, 12, 3))
    pred = target @ np.linalg.qr(rng.normal(size=(3, 3)))[0].T * 0.9 + rng.normal(0, 0.05, target.shape) + 1.0
    annotated = np.ones((6, 12), bool)
    annotated[1, [4, 5]] = False  # wrists not annotated: scored on the other 10
    annotated[2, 9] = False
    errors = limb_errors(torch.from_numpy(pred), torch.from_numpy(target), torch.from_numpy(annotated))
    for f in range(6):
        keep = annotated[f]
        assert errors.pa_mpjpe_mm[f].item() == pytest.approx(_procrustes_reference(pred[f][keep], target[f][keep]), rel=1e-6)
        per_joint = _root_aligned_reference(pred[f], target[f])
        assert errors.per_joint_mm[f].item() == pytest.approx(np.mean([d for d, k in zip(per_joint, keep) if k]), rel=1e-9)
        got = errors.joint_mm[f].numpy()
        np.testing.assert_allclose(got[keep], np.array(per_joint)[keep], rtol=1e-9)
        assert np.isnan(got[~keep]).all()


def test_limb_errors_are_zero_for_the_truth_up_to_a_similarity_and_translation():
    target = torch.from_numpy(np.random.default_rng(6).normal(0, 0.4, (2, 12, 3)))
    assert torch.allclose(limb_errors(target + 5.0, target).per_joint_mm, torch.zeros(2, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(limb_errors(2 * target + 5.0, target).pa_mpjpe_mm, torch.zeros(2, dtype=torch.float64), atol=1e-6)


def test_evaluate_scores_a_capture_against_the_references(scene):
    ann, cap, limbs, pred, names = scene  # limbs: the truth, pred: the capture's
    summary = evaluate_real(RealConfig(annotations=ann, capture=cap))
    assert summary.annotated == 4 and summary.not_captured == 1 and len(summary.frames) == 3
    assert [f.imgname for f in summary.frames] == names[:3]
    capture = summary.methods["capture"]
    assert capture.frames == 3
    assert capture.pa_mpjpe_mm == pytest.approx(np.mean([_procrustes_reference(pred[f], limbs[f]) for f in range(3)]), rel=1e-6)
    per_joint = np.array([_root_aligned_reference(pred[f], limbs[f]) for f in range(3)])
    assert capture.per_joint_mm == pytest.approx(per_joint.mean(), rel=1e-6)
    assert list(capture.joint_mm) == list(LIMB_JOINTS)
    np.testing.assert_allclose(list(capture.joint_mm.values()), per_joint.mean(axis=0), rtol=1e-6)
    # the adapted prediction differs by a body-frame translation only: the same numbers
    assert summary.methods["adapted"].per_joint_mm == pytest.approx(capture.per_joint_mm, rel=1e-6)
    assert "mediapipe" not in summary.methods and summary.mediapipe_source is None


def test_wrong_camera_rotation_counts_in_the_root_aligned_error_only(tmp_path, body):
    names = ["f1.png", "f2.png"]
    cap, pred = _fake_capture(body, tmp_path / "cap", tmp_path / "imgs", names, np.array([[0.1, 0.2, 0.3], [-0.2, 0.5, 0.0]]))
    truth = pred @ euler_to_rotmat(torch.tensor([0.0, 0.3, 0.0], dtype=torch.float64)).numpy().T  # the body turned by 0.3 rad
    ann = _annotate(tmp_path / "a.npz", truth, names, "h36m17", seed=7)
    capture = evaluate_real(RealConfig(annotations=ann, capture=cap)).methods["capture"]
    assert capture.pa_mpjpe_mm == pytest.approx(0.0, abs=1e-3)
    expected = np.mean([_root_aligned_reference(pred[f], truth[f]) for f in range(2)])
    assert capture.per_joint_mm == pytest.approx(expected, rel=1e-5) and expected > 10


def test_undetected_frames_and_mediapipe_from_the_capture(tmp_path, body):
    names = ["1.jpg", "2.jpg", "3.jpg"]
    noise = np.random.default_rng(9).normal(0, 0.03, (3, 12, 3))

    def mediapipe(limbs):  # its own scale and origin, nobody found in the last frame
        world = np.concatenate([(limbs + noise) * 0.8 + 0.1, np.full((3, 12, 1), 0.9)], axis=-1)
        world[2] = 0.0
        return world

    cap, pred = _fake_capture(body, tmp_path / "cap", tmp_path / "imgs", names, np.zeros((3, 3)),
                              detected=[True, False, True], world=mediapipe)
    ann = _annotate(tmp_path / "a.npz", pred, names, "spin24", seed=8)
    summary = evaluate_real(RealConfig(annotations=ann, capture=cap))
    assert summary.methods["capture"].frames == 2 and summary.methods["capture"].left_out == 1
    assert summary.methods["capture"].pa_mpjpe_mm == pytest.approx(0.0, abs=1e-3)
    mp = summary.methods["mediapipe"]
    assert summary.mediapipe_source == "capture" and mp.frames == 2 and mp.left_out == 1 and mp.per_joint_mm is None
    assert mp.pa_mpjpe_mm == pytest.approx(np.mean([_procrustes_reference(pred[f] + noise[f], pred[f]) for f in range(2)]), rel=1e-4)


def test_frames_match_by_name_and_by_folders():
    rows = ("S1/Seq1/video_0/frame_000001.jpg", "S2/Seq1/video_0/frame_000001.jpg", "TS1_0001.jpg")
    frames = [CapturedFrame(Path("c"), 0, Path("/d/S2/Seq1/video_0/frame_000001.jpg")),  # the folders decide
              CapturedFrame(Path("c"), 1, Path("/elsewhere/frame_000001.jpg")),  # ambiguous: two rows have this name
              CapturedFrame(Path("c"), 2, Path("/flat/TS1_0001.jpg"))]  # unique name: matched without folders
    matched = match_frames(rows, frames)
    assert {r: f.index for r, f in matched.items()} == {1: 0, 2: 2}


def test_moved_images_are_found_with_images_root(scene, tmp_path):
    ann, cap, *_ = scene
    (tmp_path / "moved").mkdir()
    shutil.move(str(tmp_path / "frames"), str(tmp_path / "moved" / "frames"))
    with pytest.raises(UserError, match="--images-root"):
        evaluate_real(RealConfig(annotations=ann, capture=cap))
    assert len(evaluate_real(RealConfig(annotations=ann, capture=cap, images_root=tmp_path / "moved")).frames) == 3


# ----------------------------------------------------------------------------- bad input

def _run(args: list[str], capsys) -> tuple[int, str]:
    rc = main(["evaluate", *map(str, args)])
    return rc, capsys.readouterr().err.strip()


@pytest.mark.parametrize("problem", ["missing S", "wrong shape", "no match", "not npz", "only one flag", "no flag", "decompose",
                                     "video capture"])
def test_bad_input_is_one_line(scene, tmp_path, capsys, problem):
    ann, cap, *_ = scene
    truth = _skeleton(2, seed=10)
    if problem == "missing S":
        args = ["--annotations", _write_annotations(tmp_path / "b.npz", truth, ["x.jpg", "y.jpg"], "h36m17", drop="S"), "--capture", cap]
        expect = "lacks the keys S"
    elif problem == "wrong shape":
        bad = tmp_path / "b.npz"
        np.savez(bad, imgname=np.array(["x.jpg"]), S=np.zeros((1, 17, 3)), part=np.zeros((1, 17, 3)), center=np.zeros((1, 2)), scale=np.ones(1))
        args, expect = ["--annotations", bad, "--capture", cap], "S must be (1, 24 or 17, 4)"
    elif problem == "no match":
        args = ["--annotations", _write_annotations(tmp_path / "b.npz", truth, ["x.jpg", "y.jpg"], "h36m17"), "--capture", cap]
        expect = "no captured frame"
    elif problem == "not npz":
        (tmp_path / "b.npz").write_text("hello")
        args, expect = ["--annotations", tmp_path / "b.npz", "--capture", cap], "not a readable annotation npz"
    elif problem == "only one flag":
        args, expect = ["--annotations", ann], "give both --annotations"
    elif problem == "no flag":
        args, expect = [], "give either --pred and --data"
    elif problem == "decompose":
        args, expect = ["--annotations", ann, "--capture", cap, "--decompose"], "--decompose needs the synthetic ground truth"
    else:
        info = json.loads((cap / "run.json").read_text())
        info["video"]["kind"] = "video"
        (cap / "run.json").write_text(json.dumps(info))
        args, expect = ["--annotations", ann, "--capture", cap], "capture the folder of annotated images"
    rc, err = _run(args, capsys)
    assert rc == 2 and expect in err and len(err.splitlines()) == 1, err


def test_json_file(scene, tmp_path, capsys):
    ann, cap, *_ = scene
    assert main(["evaluate", "--annotations", str(ann), "--capture", str(cap), "--json", str(tmp_path / "r.json")]) == 0
    out = json.loads((tmp_path / "r.json").read_text())
    assert out["joints"] == list(LIMB_JOINTS) and out["joint_order"] == "mpi_inf_3dhp17"
    assert set(out["methods"]) == {"capture", "adapted"} and out["methods"]["capture"]["frames"] == 3
    assert set(out["frames"]) == {"a_0001.jpg", "a_0002.jpg", "a_0003.jpg"}
    assert "PA-MPJPE" in capsys.readouterr().out


# ----------------------------------------------------------------------------- ../shared/real3d

needs_real3d = pytest.mark.skipif(not REAL3D.is_dir(), reason="../shared/real3d is not present")


@needs_real3d
def test_shared_frames_read_with_the_documented_order():
    """The four MPI-INF-3DHP frames: the order is detected, and the limb joints are the columns of
    S that ../shared/real3d/README.md names (mmpose's order)."""
    ann = read_annotations(REAL3D)
    assert ann.joint_order == "mpi_inf_3dhp17" and len(ann) == 4
    readme = {"left_shoulder": 5, "right_shoulder": 2, "left_elbow": 6, "right_elbow": 3, "left_wrist": 7, "right_wrist": 4,
              "left_hip": 11, "right_hip": 8, "left_knee": 12, "right_knee": 9, "left_ankle": 13, "right_ankle": 10}
    rows = {}
    for f in sorted(REAL3D.glob("*.npz")):
        with np.load(f) as z:
            rows.update({str(n): s for n, s in zip(z["imgname"], z["S"])})
    for k, name in enumerate(ann.imgname):
        s = rows[name]
        assert np.linalg.norm(s[14, :3] - (s[8, :3] + s[11, :3]) / 2) < 1e-6  # root between the hips
        for j, joint in enumerate(LIMB_JOINTS):
            assert ann.annotated[k, j] == (s[readme[joint], 3] > 0)
            if ann.annotated[k, j]:
                np.testing.assert_array_equal(ann.joints[k, j], s[readme[joint], :3])
    assert ann.annotated.sum() == 4 * 12 - 2  # one frame's wrists are not annotated


@needs_real3d
@pytest.mark.slow
def test_shared_frames_captured(tmp_path):
    """Capture each of the four frames alone (docs/evaluation.md), then evaluate: every frame is
    matched and scored, with plausible errors (a body, not garbage)."""
    for image in sorted(REAL3D.glob("*.jpg")):
        folder = tmp_path / "frames" / image.stem
        folder.mkdir(parents=True)
        shutil.copy(image, folder / image.name)
        subprocess.run([sys.executable, "-m", "selfmocap.cli", "capture", str(folder), "--out", str(tmp_path / "caps" / image.stem),
                        "--no-overlay", "--max-size", "256"], check=True, capture_output=True)
    summary = evaluate_real(RealConfig(annotations=REAL3D, capture=tmp_path / "caps"))
    assert len(summary.frames) == 4 and summary.methods["capture"].frames == 4
    for method in ("capture", "pretrained"):
        assert 20 < summary.methods[method].pa_mpjpe_mm < 400 and math.isfinite(summary.methods[method].per_joint_mm)
