"""Real motion capture as a motion source: BVH files read with bvhio (:mod:`.bvh`), bone maps from
their skeletons to the articulated Anny bones (:mod:`.bone_map`, ``maps/default.json``),
retargeting (:mod:`.retarget`), windows resampled to the clip rate (:mod:`.source`) and the
check against the BVH's own kinematics (:mod:`.verify`). ``docs/motion.md`` describes them.
"""

from selfmocap.synth.mocap.bone_map import DEFAULT_MAP_PATH, BoneMap, ResolvedMap, load_bone_map, resolve_bone_map
from selfmocap.synth.mocap.bvh import BvhClip, BvhSkeleton, forward_kinematics, read_bvh, read_bvh_header
from selfmocap.synth.mocap.retarget import RetargetedMotion, TargetSkeleton, anny_target_skeleton, retarget
from selfmocap.synth.mocap.source import BvhMotion, MotionInputError, list_bvh_files, motion_from_window

__all__ = [
    "DEFAULT_MAP_PATH",
    "BoneMap",
    "BvhClip",
    "BvhMotion",
    "BvhSkeleton",
    "MotionInputError",
    "ResolvedMap",
    "RetargetedMotion",
    "TargetSkeleton",
    "anny_target_skeleton",
    "forward_kinematics",
    "list_bvh_files",
    "load_bone_map",
    "motion_from_window",
    "read_bvh",
    "read_bvh_header",
    "resolve_bone_map",
    "retarget",
]
