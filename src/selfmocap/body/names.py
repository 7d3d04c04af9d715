"""Joint, bone and keypoint orders (every index into a joint or keypoint axis comes from here) and
each body model's axes in the body frame."""

from __future__ import annotations

from typing import Final

import numpy as np

#: Anny bones that are articulated: the subset playing SMPL's 23 non-root joints. The global
#: orientation of the body is not a bone rotation here: it is the camera rotation R of Eq. 3
#: (the paper predicts both, which is redundant). Fingers, toes, face, the twist bones
#: (``upperarm02``, ``lowerarm02``, ``upperleg02``, ``lowerleg02``) and the intermediate
#: spine/neck bones stay at rest.
ANNY_ARTICULATED_BONES: Final[tuple[str, ...]] = (
    "spine05",  # lower back, child of the root (SMPL spine1)
    "spine03",  # mid back (SMPL spine2)
    "spine01",  # upper back (SMPL spine3)
    "neck01",
    "head",
    "clavicle.L",
    "upperarm01.L",  # shoulder joint
    "lowerarm01.L",  # elbow
    "wrist.L",
    "clavicle.R",
    "upperarm01.R",
    "lowerarm01.R",
    "wrist.R",
    "upperleg01.L",  # hip joint
    "lowerleg01.L",  # knee
    "foot.L",  # ankle
    "upperleg01.R",
    "lowerleg01.R",
    "foot.R",
)

#: Names of the 3D joints returned by the body layer: the root, then one per articulated bone
#: (the bone's head, i.e. its rotation centre).
JOINT_NAMES: Final[tuple[str, ...]] = (
    "pelvis",
    "spine1",
    "spine2",
    "spine3",
    "neck",
    "head",
    "left_collar",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_collar",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_hip",
    "right_knee",
    "right_ankle",
)

#: Parent of each joint in :data:`JOINT_NAMES` (-1 for the root).
JOINT_PARENTS: Final[tuple[int, ...]] = (
    -1, 0, 1, 2, 3, 4,
    3, 6, 7, 8,
    3, 10, 11, 12,
    0, 14, 15,
    0, 17, 18,
)

#: The 17 COCO keypoints followed by the 6 foot points of the COCO-WholeBody / OpenPose-25 foot
#: set, in the order of Anny's keypoint regressor.
KEYPOINT_NAMES: Final[tuple[str, ...]] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_big_toe",
    "right_big_toe",
    "left_small_toe",
    "right_small_toe",
    "left_heel",
    "right_heel",
)
NUM_COCO_KEYPOINTS: Final[int] = 17

#: Pairs drawn when keypoints are shown as a skeleton.
KEYPOINT_EDGES: Final[tuple[tuple[int, int], ...]] = (
    (0, 1), (0, 2), (1, 3), (2, 4),
    (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12),
    (11, 13), (13, 15), (12, 14), (14, 16),
    (15, 17), (15, 19), (15, 21), (16, 18), (16, 20), (16, 22),
)

#: Index of each keypoint's left/right mirror (for horizontal-flip augmentation).
KEYPOINT_FLIP: Final[tuple[int, ...]] = tuple(
    KEYPOINT_NAMES.index(n.replace("left_", "@").replace("right_", "left_").replace("@", "right_"))
    for n in KEYPOINT_NAMES
)

#: SMPL's 24 joints in the order of its kinematic tree (``kintree_table``), named like
#: :data:`JOINT_NAMES` where the two skeletons share a joint. Joint 0 is the root; joints 1-23 are
#: SMPL's pose joints (axis-angle ``pose[3:72]``).
SMPL_JOINT_NAMES: Final[tuple[str, ...]] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)

#: Parent of each joint in :data:`SMPL_JOINT_NAMES` (-1 for the root): SMPL's ``kintree_table[0]``.
SMPL_JOINT_PARENTS: Final[tuple[int, ...]] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)

#: SMPL-X's 22 body joints: SMPL's first 22 (SMPL's ``left_hand``/``right_hand`` do not exist in
#: SMPL-X, whose hands are fingers). Joint 0 is the root, joints 1-21 SMPL-X's ``body_pose``.
SMPLX_BODY_JOINT_NAMES: Final[tuple[str, ...]] = SMPL_JOINT_NAMES[:22]
#: SMPL-X's 55 joints in the order of its ``kintree_table`` (smplx's ``joint_names.JOINT_NAMES[:55]``):
#: the body, then jaw and eyes, then 15 finger joints per hand (three per finger, base first).
SMPLX_JOINT_NAMES: Final[tuple[str, ...]] = (
    *SMPLX_BODY_JOINT_NAMES,
    "jaw", "left_eye_smplhf", "right_eye_smplhf",
    *(f"{side}_{finger}{k}" for side in ("left", "right") for finger in ("index", "middle", "pinky", "ring", "thumb")
      for k in (1, 2, 3)),
)
#: Parent of each joint in :data:`SMPLX_JOINT_NAMES` (-1 for the root): SMPL-X's ``kintree_table[0]``.
#: Jaw and eyes hang from the head, each finger's base from its wrist.
SMPLX_JOINT_PARENTS: Final[tuple[int, ...]] = (
    *SMPL_JOINT_PARENTS[:22],
    15, 15, 15,
    *(
        (SMPL_JOINT_NAMES.index(f"{name.split('_')[0]}_wrist") if name.endswith("1") else i - 1)
        for i, name in enumerate(SMPLX_JOINT_NAMES[25:], start=25)
    ),
)

#: Joint names per body model (root first), for code that must know a body's skeleton without
#: loading it (e.g. the flip augmentation of clips that record their body model).
BODY_JOINT_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "anny": JOINT_NAMES, "smpl": SMPL_JOINT_NAMES, "smplx": SMPLX_BODY_JOINT_NAMES,
}

#: Rotation taking Anny's axes (x left, y back, z up) to the body frame (x left, y down, z back).
ANNY_TO_BODY: Final[np.ndarray] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
#: Rotation taking SMPL's and SMPL-X's axes (x left, y up, z forward) to the body frame: 180
#: degrees about x.
SMPL_TO_BODY: Final[np.ndarray] = np.diag([1.0, -1.0, -1.0])


def swap_side(name: str) -> str:
    """The left/right mirror of a joint, bone or keypoint name (``left_x`` <-> ``right_x``,
    ``x.L`` <-> ``x.R``); names on the midline come back unchanged."""
    for a, b in (("left_", "right_"), (".L", ".R")):
        if a in name:
            return name.replace(a, b)
        if b in name:
            return name.replace(b, a)
    return name


def mirror_index(names: tuple[str, ...]) -> tuple[int, ...]:
    """Index of each name's left/right mirror in ``names`` (itself on the midline)."""
    return tuple(names.index(swap_side(n)) for n in names)


#: Index of each articulated Anny bone's left/right mirror.
BONE_FLIP: Final[tuple[int, ...]] = mirror_index(ANNY_ARTICULATED_BONES)


def pose_flip_index(body_model: str) -> tuple[int, ...]:
    """Index of each pose joint's left/right mirror for the body model called ``body_model``."""
    if body_model not in BODY_JOINT_NAMES:
        raise ValueError(f"no joint names known for body model {body_model!r}")
    return tuple(i - 1 for i in mirror_index(BODY_JOINT_NAMES[body_model])[1:])
