"""Bone maps: which joint of a motion-capture skeleton drives which articulated Anny bone.

A map file (JSON, ``maps/default.json`` ships with selfmocap; a user passes their own with
``selfmocap synth --motion-map FILE``) holds *profiles*, one per naming convention (CMU,
MotionBuilder/Mixamo, CMU ASF, game/MB-Lab, SMPL). A profile maps ``"root"`` and names of
:data:`~selfmocap.body.names.ANNY_ARTICULATED_BONES` to source joint names (one name or a list of
alternatives; the first one present wins). Names match without regard to case or to a namespace
prefix (``mixamorig:LeftArm`` matches ``LeftArm``). ``"tips"`` optionally name, for the end bones
(hands, feet, head), the source joint where that segment ends (e.g. the toes for a foot): its
direction aligns the rest poses of that bone.

For each file the profile mapping the most bones wins among those that map every
:data:`REQUIRED_BONES`, preferring on a tie in required bones a profile whose left and right
chains have the same topology (:func:`symmetric`: each mapped left joint as deep below the root
as its right mirror); the chosen joints must nest like the Anny chain (a knee below its hip). The
shipped map has profiles for CMU (and its cgspeed/Xia variants), MotionBuilder/Mixamo, Biovision,
Bandai-Namco, MakeHuman, CMU ASF, MB-Lab/game and SMPL skeletons; the matched profile is logged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from selfmocap.body.names import ANNY_ARTICULATED_BONES, JOINT_PARENTS
from selfmocap.synth.mocap.bvh import BvhSkeleton

_LOG = logging.getLogger(__name__)

#: The map shipped with selfmocap.
DEFAULT_MAP_PATH: Final[Path] = Path(__file__).resolve().parent / "maps" / "default.json"
#: Target names a profile may map: the root, then the articulated bones.
TARGET_BONES: Final[tuple[str, ...]] = ("root",) + ANNY_ARTICULATED_BONES
#: Bones every file must map (the rest stay at rest, i.e. follow their parent, when unmapped).
REQUIRED_BONES: Final[tuple[str, ...]] = (
    "root",
    "head",
    "upperleg01.L",
    "lowerleg01.L",
    "foot.L",
    "upperleg01.R",
    "lowerleg01.R",
    "foot.R",
    "upperarm01.L",
    "lowerarm01.L",
    "upperarm01.R",
    "lowerarm01.R",
)
#: Bones that end a chain, for which a map may name a tip joint.
END_BONES: Final[tuple[str, ...]] = ("head", "wrist.L", "wrist.R", "foot.L", "foot.R")


class BoneMapError(ValueError):
    """A map file that cannot be used, or a skeleton no profile fits (one-line message)."""


@dataclass(frozen=True)
class MapProfile:
    """One naming convention.

    Attributes:
        name: profile name (recorded in the clips made with it).
        description: which skeletons it is for and what it drops.
        bones: target bone -> source joint name alternatives.
        tips: end bone -> source joint name alternatives marking where that segment ends.
    """

    name: str
    description: str
    bones: dict[str, tuple[str, ...]]
    tips: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class BoneMap:
    """The profiles of one map file."""

    path: Path
    profiles: tuple[MapProfile, ...]


@dataclass(frozen=True)
class ResolvedMap:
    """A profile applied to one skeleton.

    Attributes:
        profile: name of the profile used.
        joints: target bone -> index of its source joint (mapped bones only).
        tips: end bone -> index of the source joint where its segment ends.
        unused: source joints that drive no bone (fingers, toes, twist bones, extra spine
            segments, ...): their rotations fold into the next mapped bone below them, or are dropped.
    """

    profile: str
    joints: dict[str, int]
    tips: dict[str, int]
    unused: tuple[str, ...]


def normalize_name(name: str) -> str:
    """Case- and namespace-insensitive key: ``"mixamorig:LeftArm"`` -> ``"leftarm"``."""
    return name.rsplit(":", 1)[-1].strip().lower()


def _alternatives(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise BoneMapError(f"{where}: expected a joint name or a list of joint names, got {value!r}")
    return tuple(value)


def _profile(raw, where: str, default_name: str) -> MapProfile:
    if not isinstance(raw, dict) or not isinstance(raw.get("bones"), dict):
        raise BoneMapError(f"{where}: a profile needs a \"bones\" object (Anny bone -> source joint names)")
    name = str(raw.get("name", default_name))
    unknown = [k for k in raw["bones"] if k not in TARGET_BONES]
    if unknown:
        raise BoneMapError(f"{where}: unknown Anny bones {unknown}; use 'root' or one of {', '.join(ANNY_ARTICULATED_BONES)}")
    tips = raw.get("tips", {})
    if not isinstance(tips, dict) or any(k not in END_BONES for k in tips):
        raise BoneMapError(f"{where}: \"tips\" may only name the end bones {', '.join(END_BONES)}")
    return MapProfile(
        name=name,
        description=str(raw.get("description", "")),
        bones={k: _alternatives(v, f"{where} bone {k}") for k, v in raw["bones"].items()},
        tips={k: _alternatives(v, f"{where} tip {k}") for k, v in tips.items()},
    )


def load_bone_map(path: str | Path | None = None) -> BoneMap:
    """Read a map file (the shipped :data:`DEFAULT_MAP_PATH` when ``path`` is None).

    The file is ``{"profiles": [{"name", "description", "bones": {...}, "tips": {...}}, ...]}`` or
    a single profile ``{"bones": {...}, "tips": {...}}`` (named after the file).
    """
    path = Path(path) if path is not None else DEFAULT_MAP_PATH
    try:
        raw = json.loads(path.read_text())
    except OSError as err:
        raise BoneMapError(f"cannot read bone map {path}: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise BoneMapError(f"bone map {path} is not valid JSON: {err.msg} at line {err.lineno}") from None
    if isinstance(raw, dict) and "profiles" in raw:
        items = raw["profiles"]
        if not isinstance(items, list) or not items:
            raise BoneMapError(f"bone map {path}: \"profiles\" must be a non-empty list")
        profiles = tuple(_profile(p, f"bone map {path} profile {i}", f"{path.stem}-{i}") for i, p in enumerate(items))
    else:
        profiles = (_profile(raw, f"bone map {path}", path.stem),)
    return BoneMap(path, profiles)


def _find(alternatives: tuple[str, ...], index: dict[str, int]) -> int | None:
    for name in alternatives:
        found = index.get(normalize_name(name))
        if found is not None:
            return found
    return None


def _apply(profile: MapProfile, skeleton: BvhSkeleton) -> tuple[dict[str, int], dict[str, int]]:
    index: dict[str, int] = {}
    for i, name in enumerate(skeleton.names):
        index.setdefault(normalize_name(name), i)  # first in file order on a clash
    joints = {b: j for b, alts in profile.bones.items() if (j := _find(alts, index)) is not None}
    tips = {b: j for b, alts in profile.tips.items() if b in joints and (j := _find(alts, index)) is not None}
    return joints, tips


def _check_nesting(joints: dict[str, int], tips: dict[str, int], skeleton: BvhSkeleton, profile: str) -> None:
    """Each mapped bone's joint must lie below the joint of its nearest mapped Anny ancestor."""
    names = TARGET_BONES  # JOINT_NAMES order: root, then the articulated bones
    for i, bone in enumerate(names[1:], start=1):
        if bone not in joints:
            continue
        parent = JOINT_PARENTS[i]
        while parent > 0 and names[parent] not in joints:
            parent = JOINT_PARENTS[parent]
        above = joints[names[parent]]
        if joints[bone] == above or not skeleton.is_descendant(joints[bone], above):
            raise BoneMapError(
                f"profile {profile!r} maps {bone} to {skeleton.names[joints[bone]]!r}, which is not below "
                f"{skeleton.names[above]!r} ({names[parent]}); fix the map"
            )
    for bone, tip in tips.items():
        if tip == joints[bone] or not skeleton.is_descendant(tip, joints[bone]):
            raise BoneMapError(
                f"profile {profile!r}: tip {skeleton.names[tip]!r} of {bone} is not below {skeleton.names[joints[bone]]!r}; fix the map"
            )


def _depth(skeleton: BvhSkeleton, joint: int) -> int:
    depth = 0
    while skeleton.parents[joint] >= 0:
        joint = skeleton.parents[joint]
        depth += 1
    return depth


def symmetric(joints: dict[str, int], skeleton: BvhSkeleton) -> bool:
    """Whether every mapped ``*.L`` bone's joint lies as deep below the root as its ``*.R`` mirror
    and the two are different joints (left/right chains of the same length)."""
    for bone, left in joints.items():
        if bone.endswith(".L") and (right := joints.get(bone[:-2] + ".R")) is not None:
            if left == right or _depth(skeleton, left) != _depth(skeleton, right):
                return False
    return True


def resolve_bone_map(bone_map: BoneMap, skeleton: BvhSkeleton, source: str = "the BVH file") -> ResolvedMap:
    """Pick the profile that maps the most bones of ``skeleton`` (and all :data:`REQUIRED_BONES`).

    Raises:
        BoneMapError: no profile maps every required bone (the message lists what the closest one
            misses), or the mapped joints do not nest like the Anny chain.
    """
    best: tuple[int, int, MapProfile, dict, dict] | None = None
    for order, profile in enumerate(bone_map.profiles):
        joints, tips = _apply(profile, skeleton)
        score = (sum(b in joints for b in REQUIRED_BONES), int(symmetric(joints, skeleton)), len(joints) + len(tips))
        if best is None or score > best[:3]:
            best = (*score, profile, joints, tips)
    assert best is not None
    _, _, _, profile, joints, tips = best
    missing = [b for b in REQUIRED_BONES if b not in joints]
    if missing:
        shown = ", ".join(skeleton.names[:10]) + (", ..." if len(skeleton.names) > 10 else "")
        raise BoneMapError(
            f"{source}: no profile of bone map {bone_map.path.name} fits this skeleton (closest, {profile.name!r}, "
            f"finds no joint for {', '.join(missing)}; the file's joints: {shown}); write a map naming this "
            f"file's joints for those Anny bones (start from {DEFAULT_MAP_PATH}, see docs/motion.md) and pass it "
            "with --motion-map FILE"
        )
    _check_nesting(joints, tips, skeleton, profile.name)
    used = set(joints.values()) | set(tips.values())
    unused = tuple(n for i, n in enumerate(skeleton.names) if i not in used)
    _LOG.info("%s: bone-map profile %r (%d bones, %d tips; %d source joints unused)%s", source, profile.name,
              len(joints), len(tips), len(unused), "" if symmetric(joints, skeleton) else "; left/right chains differ")
    return ResolvedMap(profile.name, joints, tips, unused)
