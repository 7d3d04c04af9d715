"""Every skeleton family the shipped bone map knows, matched without a hand-written map.

Each fixture is a tiny hand-written BVH (one or two frames) naming its joints like that family;
the last test loads every file of the shared mocap folder (skipped where it is absent).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import roma
import torch

from selfmocap.synth.mocap import load_bone_map, read_bvh, resolve_bone_map
from selfmocap.synth.mocap.bone_map import BoneMapError, symmetric
from selfmocap.synth.mocap.bvh import BvhClip, read_bvh_header

SHARED_MOCAP = Path(__file__).resolve().parents[3] / "shared" / "mocap"

#: A BVH skeleton written as nested (name, offset, children) tuples; a joint without children gets
#: an End Site. ``six``: every joint gets 6 channels (Bandai), else only the root.
def _bvh(root, six: bool = False, frames: int = 2) -> str:
    lines: list[str] = ["HIERARCHY"]
    count = 0

    def joint(node, depth: int, kind: str) -> None:
        nonlocal count
        name, offset, children = node
        pad = "  " * depth
        count += 6 if (six or kind == "ROOT") else 3
        channels = ("CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"
                    if six or kind == "ROOT" else "CHANNELS 3 Zrotation Xrotation Yrotation")
        lines.extend([f"{pad}{kind} {name}", f"{pad}{{", f"{pad}  OFFSET {offset[0]} {offset[1]} {offset[2]}", f"{pad}  {channels}"])
        if children:
            for child in children:
                joint(child, depth + 1, "JOINT")
        else:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 -5 0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    joint(root, 0, "ROOT")
    lines.extend(["MOTION", f"Frames: {frames}", "Frame Time: 0.033333"])
    lines.extend(" ".join(["0"] * count) for _ in range(frames))
    return "\n".join(lines) + "\n"


def _leg(names, side: float):
    hip, knee, ankle, *toe = names
    tail = [(toe[0], (0, -5, 10), [])] if toe else []
    return (hip, (side * 10, 0, 0), [(knee, (0, -45, 0), [(ankle, (0, -45, 0), tail)])])


def _arm(names, side: float):
    collar, shoulder, elbow, wrist = names
    return (collar, (side * 5, 10, 0), [(shoulder, (side * 15, 0, 0), [(elbow, (side * 30, 0, 0), [(wrist, (side * 25, 0, 0), [])])])])


def _body(root, spine, neck_head, arms, legs, root_parent=None, extra_head=()):
    """Root, a spine chain carrying neck/head and both arms, both legs under the root."""
    head_chain = (neck_head[-1], (0, 10, 0), list(extra_head))
    for name in reversed(neck_head[:-1]):
        head_chain = (name, (0, 10, 0), [head_chain])
    top = (spine[-1], (0, 15, 0), [head_chain, _arm(arms[0], 1), _arm(arms[1], -1)])
    for name in reversed(spine[:-1]):
        top = (name, (0, 15, 0), [top])
    node = (root, (0, 90, 0), [top, _leg(legs[0], 1), _leg(legs[1], -1)])
    return (root_parent, (0, 0, 0), [node]) if root_parent else node


def _sides(fmt_l, fmt_r, parts):
    return [[fmt_l.format(p) for p in parts], [fmt_r.format(p) for p in parts]]


FAMILIES = {
    "cmu": _body("Hips", ["LowerBack", "Spine", "Spine1"], ["Neck", "Neck1", "Head"],
                 _sides("Left{}", "Right{}", ["Shoulder", "Arm", "ForeArm", "Hand"]),
                 _sides("Left{}", "Right{}", ["UpLeg", "Leg", "Foot", "ToeBase"])),
    "motionbuilder": _body("mixamorig:Hips", ["mixamorig:Spine", "mixamorig:Spine1", "mixamorig:Spine2"],
                           ["mixamorig:Neck", "mixamorig:Head"],
                           _sides("mixamorig:Left{}", "mixamorig:Right{}", ["Shoulder", "Arm", "ForeArm", "Hand"]),
                           _sides("mixamorig:Left{}", "mixamorig:Right{}", ["UpLeg", "Leg", "Foot", "ToeBase"])),
    "biovision": _body("Hips", ["Ab", "Chest"], ["Neck", "Head"],
                       _sides("Left{}", "Right{}", ["Collar", "Shoulder", "Elbow", "Wrist"]),
                       _sides("Left{}", "Right{}", ["Hip", "Knee", "Ankle", "Toes"])),
    "bandai": _body("Hips", ["Spine", "Chest"], ["Neck", "Head"],
                    _sides("{}_L", "{}_R", ["Shoulder", "UpperArm", "LowerArm", "Hand"]),
                    _sides("{}_L", "{}_R", ["UpperLeg", "LowerLeg", "Foot", "Toes"]), root_parent="joint_Root"),
    "makehuman": _body("hip", ["abdomen", "chest"], ["neck", "neck1", "head"],
                       _sides("l{}", "r{}", ["collar", "shoulder", "elbow", "hand"]),
                       [["lhip", "lknee", "lfoot", "toe1-1.l"], ["rhip", "rknee", "rfoot", "toe1-1.r"]],
                       extra_head=[("__jaw", (0, -2, 3), [("jaw", (0, -2, 3), [])]), ("eye.l", (3, 3, 5), []), ("eye.r", (-3, 3, 5), [])]),
    "game": _body("pelvis", ["spine01", "spine02", "spine03"], ["neck", "head"],
                  _sides("{}_L", "{}_R", ["clavicle", "upperarm", "lowerarm", "hand"]),
                  _sides("{}_L", "{}_R", ["thigh", "calf", "foot", "toes"])),
    "smpl": _body("Pelvis", ["Spine1", "Spine2", "Spine3"], ["Neck", "Head"],
                  _sides("L_{}", "R_{}", ["Collar", "Shoulder", "Elbow", "Wrist"]),
                  _sides("L_{}", "R_{}", ["Hip", "Knee", "Ankle", "Foot"])),
}


def _wrap_makehuman_buttocks(tree):
    """MakeHuman puts a short ``lbuttock`` joint between the hip (root) and the thigh (``lhip``)."""
    name, offset, children = tree
    wrapped = []
    for child in children:
        if child[0] in ("lhip", "rhip"):
            side = child[0][0]
            child = (f"{side}buttock", (0, 0, 0), [child])
        wrapped.append(child)
    return (name, offset, wrapped)


FAMILIES["makehuman"] = _wrap_makehuman_buttocks(FAMILIES["makehuman"])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_matches_its_profile(tmp_path, family, caplog):
    path = tmp_path / f"{family}.bvh"
    path.write_text(_bvh(FAMILIES[family], six=family == "bandai"))
    clip = read_bvh(path)
    with caplog.at_level(logging.INFO, logger="selfmocap.synth.mocap.bone_map"):
        resolved = resolve_bone_map(load_bone_map(), clip.skeleton, str(path))
    assert resolved.profile == family
    assert f"bone-map profile '{family}'" in caplog.text
    assert symmetric(resolved.joints, clip.skeleton)
    names = clip.skeleton.names
    mapped = {b: names[j] for b, j in resolved.joints.items()}
    assert {"root", "head", "upperarm01.L", "lowerarm01.R", "upperleg01.L", "lowerleg01.R", "foot.L"} <= set(mapped)
    if family in ("biovision", "makehuman", "smpl"):  # "Shoulder" is the upper arm, "Hip" the thigh
        assert mapped["upperarm01.L"].lower().removeprefix("l_").removeprefix("left").lstrip("l") == "shoulder"
        assert mapped["upperleg01.R"].lower().removeprefix("r_").removeprefix("right").lstrip("r") == "hip"
    if family == "bandai":  # the translated Hips, not the fixed joint_Root
        assert mapped["root"] == "Hips"
    if family == "makehuman":
        assert "__jaw" in resolved.unused and "lbuttock" in resolved.unused


def test_per_joint_six_channels_translate_the_joints(tmp_path):
    """Bandai-style files: position channels on every joint set that joint's local translation."""
    text = _bvh(FAMILIES["bandai"], six=True, frames=1).splitlines()
    values = text[-1].split()
    values[6:9] = ["1", "2", "3"]  # Hips' translation (joint_Root's six come first)
    text[-1] = " ".join(values)
    path = tmp_path / "six.bvh"
    path.write_text("\n".join(text) + "\n")
    clip = read_bvh(path)
    hips = clip.skeleton.names.index("Hips")
    np.testing.assert_allclose(clip.translations[0, hips], [1, 2, 3])
    spine = clip.skeleton.names.index("Spine")
    np.testing.assert_allclose(clip.translations[0, spine], [0, 0, 0])  # its channels (zeros) replace the offset


def test_an_unknown_skeleton_keeps_the_clear_error(tmp_path):
    odd = _body("Base", ["Torso"], ["Noggin"], _sides("a{}", "b{}", ["1", "2", "3", "4"]), _sides("c{}", "d{}", ["1", "2", "3", "4"]))
    path = tmp_path / "odd.bvh"
    path.write_text(_bvh(odd))
    with pytest.raises(BoneMapError, match="--motion-map"):
        resolve_bone_map(load_bone_map(), read_bvh_header(path).skeleton, str(path))


EXPECTED_SHARED = {"bandai": "bandai", "cmu-01-01-mblab.bvh": "game", "assimp_Boxing_Toes.bvh": "biovision",
                   "mocapbank_crouch.bvh": "biovision", "mocapnet_makehuman_CMU_05_01.bvh": "makehuman"}


@pytest.mark.skipif(not SHARED_MOCAP.is_dir(), reason="../shared/mocap is absent")
def test_every_shared_file_loads_without_a_map():
    files = sorted(SHARED_MOCAP.rglob("*.bvh"))
    assert files
    bone_map = load_bone_map()
    for path in files:
        resolved = resolve_bone_map(bone_map, read_bvh_header(path).skeleton, str(path))
        expected = EXPECTED_SHARED.get(path.parent.name if path.parent.name == "bandai" else path.name)
        assert expected is None or resolved.profile == expected, path


def test_rebasing_the_rest_pose_keeps_the_motion(tmp_path):
    from selfmocap.synth.mocap.bvh import forward_kinematics, rebase_rest, rest_is_standing

    path = tmp_path / "game.bvh"
    path.write_text(_bvh(FAMILIES["game"], frames=3))
    clip = read_bvh(path)
    rng = np.random.default_rng(0)
    rot = roma.rotvec_to_rotmat(torch.from_numpy(0.4 * rng.normal(size=clip.rotations.shape[:2] + (3,)))).numpy()
    clip = BvhClip(clip.path, clip.skeleton, clip.translations, rot, clip.fps)
    rebased = rebase_rest(clip, 1)
    np.testing.assert_allclose(forward_kinematics(rebased)[1], forward_kinematics(clip)[1], atol=1e-9)
    np.testing.assert_allclose(rebased.rotations[1], np.tile(np.eye(3), (len(clip.skeleton.names), 1, 1)), atol=1e-9)
    names = clip.skeleton.names
    args = ((names.index("thigh_L"), names.index("thigh_R")), names.index("head"), (names.index("foot_L"), names.index("foot_R")))
    assert rest_is_standing(clip.skeleton, *args)


@pytest.mark.skipif(not (SHARED_MOCAP / "bandai").is_dir(), reason="../shared/mocap/bandai is absent")
def test_a_bandai_file_retargets_from_its_first_frame(body):
    from selfmocap.synth.mocap import anny_target_skeleton, retarget
    from selfmocap.synth.mocap.bvh import rest_is_standing
    from selfmocap.synth.mocap.verify import joint_residual

    clip = read_bvh(SHARED_MOCAP / "bandai" / "dataset-1_walk_active_001.bvh")
    resolved = resolve_bone_map(load_bone_map(), clip.skeleton)
    j = resolved.joints
    assert not rest_is_standing(clip.skeleton, (j["upperleg01.L"], j["upperleg01.R"]), j["head"], (j["foot.L"], j["foot.R"]))
    target = anny_target_skeleton(body)
    ret = retarget(clip, resolved, target)
    res = joint_residual(clip, resolved, ret, target, body, body.default_shape, frames=np.arange(0, clip.num_frames, 10))
    assert np.nanmean(res.mean_mm) < 80.0  # measured 62 (146 before the rest pose was rebased)
