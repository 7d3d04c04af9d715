"""BVH motion capture as a motion source: parsing and forward kinematics against bvhio's own scene
graph, bone maps, retargeting (exact on a skeleton built from Anny's own, segment directions on a
T-pose skeleton, residuals on real CMU data when ``../shared/mocap`` is present), resampling,
windows, and ``selfmocap synth --motions``.

The small BVH files are written by the tests themselves (``tests/tiny_bvh.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import roma
import torch
from tiny_bvh import write_bvh, zxy_degrees

from selfmocap.body.limits import ANNY_JOINT_LIMITS, clamp_pose, euler_to_pose, pose_to_euler
from selfmocap.body.names import ANNY_ARTICULATED_BONES, ANNY_TO_BODY, JOINT_PARENTS
from selfmocap.cli import main
from selfmocap.errors import UserError
from selfmocap.data import list_clips
from selfmocap.synth.mocap import (
    BvhMotion,
    MotionInputError,
    anny_target_skeleton,
    forward_kinematics,
    load_bone_map,
    read_bvh,
    resolve_bone_map,
    retarget,
)
from selfmocap.synth.mocap.bone_map import TARGET_BONES, BoneMapError
from selfmocap.synth.mocap.bvh import BvhSkeleton, drop_frames, leading_calibration_frames
from selfmocap.synth.mocap.retarget import AXIAL_BONES, SEGMENT_CHILD, SPINE_SHARES, RetargetedMotion
from selfmocap.synth.mocap.source import motion_from_window, resample
from selfmocap.synth.mocap.verify import joint_residual

SHARED_MOCAP = Path(__file__).resolve().parents[2].parent / "shared" / "mocap"
CMU_FILE = SHARED_MOCAP / "cmu-01-01-mblab.bvh"
#: CMU (MotionBuilder-release) names of the Anny joints, then two tips per side.
CMU_NAMES = {
    "root": "Hips", "spine05": "LowerBack", "spine03": "Spine", "spine01": "Spine1", "neck01": "Neck", "head": "Head",
    **{f"{b}.{s}": f"{side}{n}" for s, side in (("L", "Left"), ("R", "Right")) for b, n in (
        ("clavicle", "Shoulder"), ("upperarm01", "Arm"), ("lowerarm01", "ForeArm"), ("wrist", "Hand"),
        ("upperleg01", "UpLeg"), ("lowerleg01", "Leg"), ("foot", "Foot"))},
}
TIPS = {"wrist.L": "LeftHandMiddle1", "wrist.R": "RightHandMiddle1", "foot.L": "LeftToeBase", "foot.R": "RightToeBase"}
#: File axes of the CMU release (Y up, subject facing +Z, x to the subject's left) -> Anny axes.
Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def anny_like_skeleton(target, tpose: bool = False):
    """CMU-named BVH skeleton (centimetres, Y up) whose joints are the target's rest joints; with
    ``tpose``, the arms are raised sideways to horizontal (same bone lengths)."""
    names = [CMU_NAMES[b] for b in TARGET_BONES] + [TIPS[b] for b in TIPS]
    parents = list(JOINT_PARENTS) + [TARGET_BONES.index(b) for b in TIPS]
    points = np.concatenate([target.heads, np.stack([target.tips[b] for b in TIPS])])
    offsets = np.array([points[i] - (points[p] if p >= 0 else 0) for i, p in enumerate(parents)])
    if tpose:
        for side, sign in (("L", 1.0), ("R", -1.0)):
            chain = [f"lowerarm01.{side}", f"wrist.{side}"]
            for b in chain:
                i = TARGET_BONES.index(b)
                offsets[i] = sign * np.array([np.linalg.norm(offsets[i]), 0.0, 0.0])
            i = names.index(TIPS[f"wrist.{side}"])
            offsets[i] = sign * np.array([np.linalg.norm(offsets[i]), 0.0, 0.0])
    return names, parents, 100.0 * offsets @ Y_UP  # rows: Y_UP^T x, Anny axes -> file axes


def random_pose(rng: np.random.Generator, frames: int) -> np.ndarray:
    """(T, 19, 3) poses well inside the limits whose elbows and knees are pure hinges, moving
    smoothly from one random pose to another."""
    lo, hi = ANNY_JOINT_LIMITS.lower, ANNY_JOINT_LIMITS.upper
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    start = mid + 0.7 * half * rng.uniform(-1, 1, size=(len(ANNY_ARTICULATED_BONES), 3))
    step = 0.03 * half * rng.uniform(-1, 1, size=(len(ANNY_ARTICULATED_BONES), 3))  # a few deg per frame
    euler = start + np.arange(frames)[:, None, None] * step
    for b in ("lowerarm01.L", "lowerarm01.R", "lowerleg01.L", "lowerleg01.R"):
        euler[:, ANNY_ARTICULATED_BONES.index(b), 1:] = 0.0
    pose = euler_to_pose(euler)
    trunk = rng.uniform(-0.3, 0.3, size=3) + np.arange(frames)[:, None] * rng.uniform(-0.02, 0.02, size=3)
    for bone, share in SPINE_SHARES.items():  # the spine bends as retargeting spreads a trunk rotation
        pose[:, ANNY_ARTICULATED_BONES.index(bone)] = share * trunk
    return pose


def _rotmat(rotvec: np.ndarray) -> np.ndarray:
    return roma.rotvec_to_rotmat(torch.from_numpy(np.ascontiguousarray(rotvec, dtype=np.float64))).numpy()


def _write_anny_motion(path: Path, target, pose: np.ndarray, root_rot: np.ndarray, root_pos: np.ndarray) -> Path:
    """BVH of the Anny-like skeleton playing local-ref ``pose`` with root rotation (Anny axes)."""
    names, parents, offsets = anny_like_skeleton(target)
    t = len(pose)
    local = np.tile(np.eye(3), (t, len(names), 1, 1))
    local[:, 0] = Y_UP.T @ root_rot @ Y_UP
    local[:, 1 : len(TARGET_BONES)] = Y_UP.T @ _rotmat(pose) @ Y_UP
    return write_bvh(path, names, parents, offsets, zxy_degrees(local), 100.0 * root_pos @ Y_UP)


@pytest.fixture(scope="module")
def target(body):
    return anny_target_skeleton(body)


@pytest.fixture(scope="module")
def anny_motion(tmp_path_factory, target):
    """A BVH playing known in-limit Anny poses: (path, pose (T, 19, 3), root rotation (T, 3, 3) Anny axes)."""
    rng = np.random.default_rng(0)
    pose = random_pose(rng, 6)
    turn = np.linspace(0.0, 1.0, 6)[:, None] * np.array([0.2, 0.5, 0.1])
    root = _rotmat(rng.normal(scale=0.6, size=3) + turn)
    trans = rng.normal(scale=0.3, size=3) + np.linspace(0.0, 0.5, 6)[:, None] * np.array([0.0, -1.0, 0.0])
    path = tmp_path_factory.mktemp("bvh") / "anny_like.bvh"
    return _write_anny_motion(path, target, pose, root, trans), pose, root


# ---------------------------------------------------------------------------------------------
# Parsing and forward kinematics


def _bvhio_world_positions(path: Path, frames) -> np.ndarray:
    import bvhio

    root = bvhio.readAsHierarchy(str(path))
    out = []
    for f in frames:
        root.loadPose(f)
        out.append([list(joint.PositionWorld) for joint, _, _ in root.layout()])
    return np.array(out)


def test_forward_kinematics_matches_bvhio(anny_motion):
    path = anny_motion[0]
    clip = read_bvh(path)
    assert clip.num_frames == 6 and clip.fps == 30.0
    assert clip.skeleton.names[:3] == ("Hips", "LowerBack", "Spine")
    _, pos = forward_kinematics(clip)
    reference = _bvhio_world_positions(path, range(6))
    assert np.abs(pos - reference).max() < 1e-3  # centimetres; bvhio computes in float32


@pytest.mark.skipif(not CMU_FILE.is_file(), reason="../shared/mocap is absent")
@pytest.mark.slow  # a whole CMU file through bvhio
def test_forward_kinematics_matches_bvhio_on_cmu():
    clip = read_bvh(CMU_FILE)
    assert clip.num_frames == 553 and clip.fps == 24.0
    frames = [0, 100, 400]
    assert np.abs(forward_kinematics(clip)[1][frames] - _bvhio_world_positions(CMU_FILE, frames)).max() < 1e-5
    assert leading_calibration_frames(clip) == 2  # the CMU release's T-pose frames


@pytest.mark.parametrize(
    "text, problem",
    [
        ("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n", "no MOTION"),  # truncated: bvhio would loop forever
        ("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 3 Xrotation Yrotation Zrotation\n  End Site\n"
         "  {\n    OFFSET 0 1 0\n  }\n}\nMOTION\nFrames: 2\nFrame Time: 0.1\n1 2 3\n", "declares 2 frames but holds 1"),
        ("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0\n}\nMOTION\nFrames: 0\nFrame Time: 0.1\n", "Offset must be a 3-part"),
    ],
)
def test_unreadable_file_is_a_one_line_error(tmp_path, target, text, problem):
    bad = tmp_path / "bad.bvh"
    bad.write_text(text)
    with pytest.raises(MotionInputError) as err:
        BvhMotion([bad], target)
    assert "bad.bvh" in str(err.value) and problem in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------
# Bone maps


def _skeleton(names: list[str], parents: list[int]) -> BvhSkeleton:
    n = len(names)
    return BvhSkeleton(tuple(names), tuple(parents), np.zeros((n, 3)), np.full((n, 3), np.nan))


def _chain(names: list[str]) -> BvhSkeleton:
    return _skeleton(names, [-1] + list(range(len(names) - 1)))


def _humanoid(names: dict[str, str]) -> BvhSkeleton:
    order = [names[b] for b in TARGET_BONES]
    return _skeleton(order, list(JOINT_PARENTS))


def test_profiles_are_chosen_by_the_names():
    bone_map = load_bone_map()
    cmu = resolve_bone_map(bone_map, _humanoid(CMU_NAMES))
    assert cmu.profile == "cmu" and len(cmu.joints) == 20
    mixamo = {b: f"mixamorig:{n}" for b, n in CMU_NAMES.items()}
    mixamo.update(spine05="mixamorig:Spine", spine03="mixamorig:Spine1", spine01="mixamorig:Spine2")
    resolved = resolve_bone_map(bone_map, _humanoid(mixamo))
    assert resolved.profile == "motionbuilder" and resolved.joints["spine01"] == 3
    game = {b: n for b, n in zip(TARGET_BONES, (
        "pelvis", "spine01", "spine02", "spine03", "neck", "head",
        "clavicle_L", "upperarm_L", "lowerarm_L", "hand_L", "clavicle_R", "upperarm_R", "lowerarm_R", "hand_R",
        "thigh_L", "calf_L", "foot_L", "thigh_R", "calf_R", "foot_R"))}
    assert resolve_bone_map(bone_map, _humanoid(game)).profile == "game"


def test_unknown_skeleton_names_the_missing_bones():
    with pytest.raises(BoneMapError) as err:
        resolve_bone_map(load_bone_map(), _chain(["Hips", "Torso", "Noggin"]), "odd.bvh")
    message = str(err.value)
    assert "\n" not in message and "odd.bvh" in message and "--motion-map" in message
    missing = message.split("finds no joint for")[1].split(";")[0]
    assert "upperleg01.L" in missing and "head" in missing and "root" not in missing  # Hips is found


def test_a_user_map_maps_odd_names(tmp_path):
    odd = {b: f"j_{i}" for i, b in enumerate(TARGET_BONES)}
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"bones": odd}))
    resolved = resolve_bone_map(load_bone_map(path), _humanoid(odd))
    assert resolved.profile == "odd" and resolved.joints == {b: i for i, b in enumerate(TARGET_BONES)}
    path.write_text(json.dumps({"bones": {"elbow": "x"}}))
    with pytest.raises(BoneMapError, match="unknown Anny bones"):
        load_bone_map(path)


def test_mapped_joints_must_nest_like_the_chain():
    swapped = dict(CMU_NAMES, **{"lowerleg01.L": "RightLeg", "lowerleg01.R": "LeftLeg"})
    skeleton = _humanoid(CMU_NAMES)
    names = list(skeleton.names)
    i, j = names.index("LeftLeg"), names.index("RightLeg")
    names[i], names[j] = names[j], names[i]  # the knees' names swapped: not below their hips
    with pytest.raises(BoneMapError, match="not below"):
        resolve_bone_map(load_bone_map(), _skeleton(names, list(JOINT_PARENTS)))
    assert swapped  # the mapping itself is the default one


# ---------------------------------------------------------------------------------------------
# Retargeting


def test_retargeting_anny_s_own_skeleton_is_exact(anny_motion, target, body):
    """A BVH made from Anny's rest joints playing known poses retargets to those very poses, and
    the body's joints land on the BVH's own forward kinematics."""
    path, pose, root = anny_motion
    with torch.no_grad():
        rest = body(torch.zeros(1, 19, 3), body.default_shape[None]).joints[0].double().numpy()
    assert np.allclose(rest @ ANNY_TO_BODY, target.heads, atol=1e-5)  # the target is the body's rest skeleton
    clip = read_bvh(path)
    resolved = resolve_bone_map(load_bone_map(), clip.skeleton)
    ret = retarget(clip, resolved, target)
    assert np.allclose(ret.axes, Y_UP)
    assert ret.leg_scale == pytest.approx(0.01, rel=1e-6)  # centimetres
    got, want = _rotmat(ret.pose), _rotmat(pose)
    assert np.degrees(roma.rotmat_geodesic_distance(torch.from_numpy(got), torch.from_numpy(want)).numpy()).max() < 1e-3
    assert np.allclose(ret.root_rotation, ANNY_TO_BODY @ root @ ANNY_TO_BODY.T, atol=1e-6)
    res = joint_residual(clip, resolved, ret, target, body, body.default_shape)
    assert res.scale == pytest.approx(0.01, rel=1e-6)
    assert res.mean_mm_unclamped.max() < 0.05 and res.max_mm.max() < 0.05  # float32 body model


def _target_fk(target, pose: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Slow reference forward kinematics of the target's joints for a local-ref pose (Anny axes)."""
    rot = _rotmat(pose)
    world = [root] + [None] * len(ANNY_ARTICULATED_BONES)
    points = [np.zeros((len(pose), 3))] + [None] * len(ANNY_ARTICULATED_BONES)
    for i in range(1, len(TARGET_BONES)):
        p = JOINT_PARENTS[i]
        world[i] = world[p] @ rot[:, i - 1]
        points[i] = points[p] + np.einsum("tij,j->ti", world[p], target.heads[i] - target.heads[p])
    return np.stack(points, axis=1)


def test_limb_segments_follow_a_t_pose_source(tmp_path, target):
    """Rest poses differ (T-pose source, A-pose Anny) and the source moves freely: every limb
    segment still points exactly along its source segment before the limits; at the source's rest
    the arms are horizontal."""
    names, parents, offsets = anny_like_skeleton(target, tpose=True)
    rng = np.random.default_rng(1)
    frames = 5
    local = _rotmat(rng.normal(scale=0.5, size=(frames, len(names), 3)))
    local[0] = np.eye(3)  # frame 0: the rest T-pose
    path = write_bvh(tmp_path / "tpose.bvh", names, parents, offsets, zxy_degrees(local), np.zeros((frames, 3)))
    clip = read_bvh(path)
    resolved = resolve_bone_map(load_bone_map(), clip.skeleton)
    ret = retarget(clip, resolved, target)
    root = ANNY_TO_BODY.T @ ret.root_rotation @ ANNY_TO_BODY  # back to Anny axes
    joints = _target_fk(target, ret.pose, root)
    _, source = forward_kinematics(clip)
    source = source @ Y_UP.T
    names = list(clip.skeleton.names)  # the file's order
    checked = 0
    for bone, child in SEGMENT_CHILD.items():
        if bone in AXIAL_BONES or child is None:
            continue
        a = joints[:, TARGET_BONES.index(child)] - joints[:, TARGET_BONES.index(bone)]
        b = source[:, names.index(CMU_NAMES[child])] - source[:, names.index(CMU_NAMES[bone])]
        cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
        assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1e-3, bone
        checked += 1
    assert checked == 10
    for side, sign in (("L", 1.0), ("R", -1.0)):
        arm = joints[0, TARGET_BONES.index(f"wrist.{side}")] - joints[0, TARGET_BONES.index(f"upperarm01.{side}")]
        assert np.allclose(arm / np.linalg.norm(arm), [sign, 0, 0], atol=1e-6)


def test_elbows_and_knees_come_out_as_hinges(tmp_path, target):
    """Whatever twist the source gives the upper arm or thigh and whatever axis it bends the elbow
    about, a bent elbow or knee comes out as a pure flexion about its hinge axis, on the side the
    limits allow (not a hyperextension)."""
    names, parents, offsets = anny_like_skeleton(target, tpose=True)
    rng = np.random.default_rng(2)
    frames = 8
    local = np.tile(np.eye(3), (frames, len(names), 1, 1))

    def set_rotation(bone: str, rotvec: np.ndarray) -> None:
        local[:, names.index(CMU_NAMES[bone])] = _rotmat(rotvec)

    bend = rng.uniform(0.6, 1.8, size=(frames, 1))  # 34 to 103 deg: past the hinge-twist blend
    for side in ("L", "R"):
        set_rotation(f"upperarm01.{side}", rng.normal(scale=0.8, size=(frames, 3)))
        axis = np.array([0.0, 0.0, 1.0]) if side == "L" else np.array([0.3, 0.0, -1.0]) / np.hypot(0.3, 1.0)
        set_rotation(f"lowerarm01.{side}", axis * bend)
        set_rotation(f"upperleg01.{side}", np.array([-0.4, 0.0, 0.0]) + rng.normal(scale=0.3, size=(frames, 3)))
        set_rotation(f"lowerleg01.{side}", np.array([1.0, 0.0, 0.0]) * bend)  # file x: the knee's axis
    path = write_bvh(tmp_path / "hinges.bvh", names, parents, offsets, zxy_degrees(local), np.zeros((frames, 3)))
    clip = read_bvh(path)
    ret = retarget(clip, resolve_bone_map(load_bone_map(), clip.skeleton), target)
    euler = pose_to_euler(ret.pose)
    for bone in ("lowerarm01.L", "lowerarm01.R", "lowerleg01.L", "lowerleg01.R"):
        k = ANNY_ARTICULATED_BONES.index(bone)
        assert np.abs(euler[:, k, 1:]).max() < 1e-6, bone
        lo, hi = ANNY_JOINT_LIMITS.lower[k, 0], ANNY_JOINT_LIMITS.upper[k, 0]
        assert ((euler[:, k, 0] > lo) & (euler[:, k, 0] < hi)).all(), bone


@pytest.mark.skipif(not CMU_FILE.is_file(), reason="../shared/mocap is absent")
def test_cmu_residuals(target, body):
    """Real mocap (CMU 01-01 on an MB-Lab skeleton): limb segments exact before the limits; the
    joint residuals stay within the bounds measured by benchmarks/bench_retarget.py (+ margin)."""
    clip = read_bvh(CMU_FILE)
    clip = drop_frames(clip, leading_calibration_frames(clip))
    resolved = resolve_bone_map(load_bone_map(), clip.skeleton)
    assert resolved.profile == "game" and len(resolved.joints) == 20
    ret = retarget(clip, resolved, target)
    res = joint_residual(clip, resolved, ret, target, body, body.default_shape, frames=np.arange(0, clip.num_frames, 10))
    limbs = [res.joint_names.index(n) for n in ("left_knee", "right_knee", "left_ankle", "right_ankle",
                                                 "left_shoulder", "left_elbow", "left_wrist", "right_elbow", "right_wrist")]
    assert np.nanmax(res.chain_angle_deg[limbs]) < 1e-3
    legs = [res.joint_names.index(n) for n in ("left_hip", "right_hip", "left_knee", "right_knee")]
    assert res.mean_mm[legs].max() < 15.0  # measured 8.8
    assert res.mean_mm.mean() < 65.0  # measured 55
    assert res.mean_mm_unclamped.mean() < 60.0  # measured 53


# ---------------------------------------------------------------------------------------------
# Resampling, windows and the motion source


def _toy_retargeted(frames: int = 5, fps: float = 10.0) -> RetargetedMotion:
    rng = np.random.default_rng(3)
    return RetargetedMotion(
        pose=0.3 * rng.normal(size=(frames, 19, 3)),
        root_rotation=_rotmat(0.3 * rng.normal(size=(frames, 3))),
        root_position=rng.normal(size=(frames, 3)),
        fps=fps, axes=np.eye(3), leg_scale=1.0, profile="toy",
    )


def test_resample_copies_at_the_source_rate_and_slerps_between():
    ret = _toy_retargeted()
    same = resample(ret, 1, 3, ret.fps)
    assert np.allclose(_rotmat(same.pose), _rotmat(ret.pose[1:4]), atol=1e-9)
    assert np.allclose(same.root_position, ret.root_position[1:4]) and same.first_frame == 1
    double = resample(ret, 0, 9, 2 * ret.fps)
    half = double.pose[1::2]  # halfway between consecutive source frames
    a, b, mid = (torch.from_numpy(_rotmat(x)) for x in (ret.pose[:-1], ret.pose[1:], half))
    assert torch.allclose(roma.rotmat_geodesic_distance(a, mid), roma.rotmat_geodesic_distance(mid, b), atol=1e-9)
    assert torch.allclose(2 * roma.rotmat_geodesic_distance(a, mid), roma.rotmat_geodesic_distance(a, b), atol=1e-9)
    assert np.allclose(double.root_position[1::2], (ret.root_position[:-1] + ret.root_position[1:]) / 2)


def test_a_window_starts_facing_forward_at_the_origin():
    motion = motion_from_window(_toy_retargeted(), 1, 4, 10.0, "bvh:toy")
    forward = _rotmat(motion.root_orient[0].astype(np.float64)) @ np.array([0.0, 0.0, -1.0])
    assert abs(forward[0]) < 1e-6 and forward[2] < 0  # heading 0 (pitch and roll kept)
    assert np.allclose(motion.root_trans[0, [0, 2]], 0.0, atol=1e-6)
    assert np.allclose(clamp_pose(motion.pose), motion.pose, atol=1e-5)  # inside the limits


def test_motion_source_is_deterministic_and_records_its_window(anny_motion, target):
    source = BvhMotion([anny_motion[0]], target)
    a = source.sample(np.random.default_rng(7), 3, 30.0)
    b = source.sample(np.random.default_rng(7), 3, 30.0)
    assert np.array_equal(a.pose, b.pose) and a.window == b.window
    assert a.family == "bvh:anny_like.bvh" and a.window.bone_map == "cmu"
    assert a.window.first_frame in (0, 1, 2, 3) and a.window.last_frame == a.window.first_frame + 2
    slow = source.sample(np.random.default_rng(7), 5, 60.0)  # 5 frames at 60 fps span 2 source frames
    assert slow.window.last_frame - slow.window.first_frame == 2
    with pytest.raises(MotionInputError, match="lower --frames"):
        source.sample(np.random.default_rng(0), 7, 30.0)


def test_leading_calibration_frames_are_dropped(tmp_path, target):
    names, parents, offsets = anny_like_skeleton(target)
    rng = np.random.default_rng(4)
    local = np.tile(_rotmat(0.1 * rng.normal(size=(len(names), 3))), (6, 1, 1, 1))  # a still pose
    positions = np.zeros((6, 3))
    local[:2] = np.eye(3)  # two frames of rest pose far from where the motion starts
    positions[:2] = [500.0, 0.0, 0.0]
    clip = read_bvh(write_bvh(tmp_path / "calib.bvh", names, parents, offsets, zxy_degrees(local), positions))
    assert leading_calibration_frames(clip) == 2
    assert leading_calibration_frames(drop_frames(clip, 2)) == 0


# ---------------------------------------------------------------------------------------------
# The command


def test_synth_with_motions(tmp_path, anny_motion, capsys):
    out = tmp_path / "data"
    args = ["synth", "--out", str(out), "--split", "test", "--clips", "1", "--frames", "3", "--size", "64",
            "--motions", str(anny_motion[0])]
    assert main(args) == 0
    (clip,) = list_clips(out)
    assert clip.meta.motion_family == "bvh:anny_like.bvh"
    assert clip.meta.motion_window.file == str(anny_motion[0]) and clip.meta.motion_window.source_fps == 30.0
    assert clip.labels.pose.shape == (3, 19, 3)
    capsys.readouterr()
    bad_map = tmp_path / "map.json"
    bad_map.write_text("{not json")
    assert main(args[:2] + [str(tmp_path / "other")] + args[3:] + ["--motion-map", str(bad_map)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not valid JSON" in err and "\n" not in err
    assert main(["synth", "--out", str(tmp_path / "x"), "--split", "test", "--clips", "1",
                 "--motions", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert issubclass(MotionInputError, UserError)
