"""Real-image 3D annotation files as SPIN and mmpose ship them (Human3.6M, MPI-INF-3DHP, 3DPW).

One ``.npz`` per dataset split, one row per annotated image (``docs/evaluation.md``):

| key | shape | meaning |
|---|---|---|
| ``imgname`` | (N,) str | the image's path relative to the dataset root (mmpose: the file name) |
| ``S`` | (N, J, 4) | camera-space 3D joints ``x, y, z`` in metres (x right, y down, z forward) and a confidence (0 = not annotated) |
| ``part`` | (N, J', 3) | 2D joints in pixels and a visibility (read, not scored) |
| ``center``, ``scale`` | (N, 2), (N,) | the person's box (read, not scored) |

``S`` comes in one of the joint orders of :data:`JOINT_ORDERS`: SPIN's 24 (LSP's 14, then MPII,
Human3.6M and COCO face extras), Human3.6M's 17 or MPI-INF-3DHP's 17 test joints. A 24-joint file
is SPIN's order; the two 17-joint orders are told apart by where their ``root`` lies (each
order's root is the midpoint of its own two hips, to the millimetre in the datasets'
annotations), or given with ``--joint-order``.

Only the 12 limb joints (:data:`LIMB_JOINTS`) are compared with a capture: they are the ones the
body model's keypoints (COCO's) and every dataset share by meaning. Their exact positions still
differ by a few centimetres between skeletons (a dataset's hip is a joint centre, COCO's hip a
surface landmark): a floor under any error, stated in ``docs/evaluation.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np

from selfmocap.errors import UserError
from selfmocap.body.metrics import LIMB_KEYPOINT_NAMES

JointOrder = Literal["auto", "spin24", "h36m17", "mpi_inf_3dhp17"]

#: Each annotation joint order, named like :data:`~selfmocap.body.names.KEYPOINT_NAMES` where the
#: joint is one of ours (``left_`` is the subject's left).
JOINT_ORDERS: Final[dict[str, tuple[str, ...]]] = {
    # SPIN's 24 (constants.JOINT_NAMES[25:]): LSP's 14, MPII's pelvis and thorax, H36M's spine, jaw
    # and head, COCO's face
    "spin24": (
        "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
        "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
        "neck", "head_top", "root", "thorax", "spine", "jaw", "head",
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    ),
    # Human3.6M's 17 (mmpose configs/_base_/datasets/h36m.py)
    "h36m17": (
        "root", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
        "spine", "thorax", "neck", "head",
        "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
    ),
    # MPI-INF-3DHP's 17 test joints (mmpose configs/_base_/datasets/mpi_inf_3dhp.py)
    "mpi_inf_3dhp17": (
        "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist",
        "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle",
        "left_hip", "left_knee", "left_ankle", "root", "spine", "head",
    ),
}

#: The joints compared (:data:`~selfmocap.body.metrics.LIMB_KEYPOINT_NAMES`).
LIMB_JOINTS: Final[tuple[str, ...]] = LIMB_KEYPOINT_NAMES
#: Index of the left and right hip in :data:`LIMB_JOINTS` (the root of the root alignment is their midpoint).
LIMB_HIPS: Final[tuple[int, int]] = (LIMB_JOINTS.index("left_hip"), LIMB_JOINTS.index("right_hip"))
REQUIRED_KEYS: Final[tuple[str, ...]] = ("imgname", "S", "part", "center", "scale")
#: A 17-joint order whose root lies further than this from its hips' midpoint (median over rows) is not the file's order.
ROOT_TOLERANCE_M: Final[float] = 0.02


def limb_index(order: str) -> tuple[int, ...]:
    """Index of each :data:`LIMB_JOINTS` joint in joint order ``order``."""
    names = JOINT_ORDERS[order]
    return tuple(names.index(n) for n in LIMB_JOINTS)


@dataclass(frozen=True)
class Annotations:
    """The 3D truth of N annotated images, reduced to the limb joints.

    Attributes:
        imgname: (N,) the images' names as the file gives them.
        joints: (N, 12, 3) float64 camera-space limb joints in metres, order :data:`LIMB_JOINTS`.
        annotated: (N, 12) bool, limb joints with a confidence > 0 (the others are not scored).
        joint_order: the order ``S`` was read in (a key of :data:`JOINT_ORDERS`).
        sources: the files read.
    """

    imgname: tuple[str, ...]
    joints: np.ndarray
    annotated: np.ndarray
    joint_order: str
    sources: tuple[Path, ...]

    def __len__(self) -> int:
        return len(self.imgname)


def _root_offset(joints: np.ndarray, order: str) -> float:
    """Median distance (m) of order ``order``'s root from the midpoint of its hips."""
    names = JOINT_ORDERS[order]
    mid = (joints[:, names.index("left_hip")] + joints[:, names.index("right_hip")]) / 2
    return float(np.median(np.linalg.norm(joints[:, names.index("root")] - mid, axis=-1)))


def detect_joint_order(joints: np.ndarray, where: str) -> str:
    """The joint order of (N, J, 3) joints: SPIN's for 24, the 17-joint order whose root is its hips' midpoint."""
    if joints.shape[1] == 24:
        return "spin24"
    fits = [o for o in ("h36m17", "mpi_inf_3dhp17") if _root_offset(joints, o) < ROOT_TOLERANCE_M]
    if len(fits) != 1:
        raise UserError(f"{where}: cannot tell whether its 17 joints are Human3.6M's or MPI-INF-3DHP's order; "
                        "give --joint-order h36m17 or --joint-order mpi_inf_3dhp17")
    return fits[0]


def _read_one(path: Path, joint_order: JointOrder) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    try:
        with np.load(path, allow_pickle=False) as z:
            values = {k: z[k] for k in z.files if k in REQUIRED_KEYS}
    except (OSError, ValueError, EOFError) as err:
        raise UserError(f"{path} is not a readable annotation npz ({str(err).splitlines()[0]}); give SPIN's or mmpose's "
                        "annotation file") from None
    missing = [k for k in REQUIRED_KEYS if k not in values]
    if missing:
        hint = " (a file of SMPL parameters without 3D joints, e.g. SPIN's 3DPW: compute S from them first)" if "S" in missing else ""
        raise UserError(f"{path} lacks the keys {', '.join(missing)}{hint}; an annotation npz holds "
                        f"{', '.join(REQUIRED_KEYS)} (docs/evaluation.md)")
    names, s = values["imgname"], values["S"]
    if names.ndim != 1 or names.dtype.kind not in "US" or len(names) == 0:
        raise UserError(f"{path}: imgname must be a non-empty (N,) array of strings, got {names.shape} {names.dtype}")
    n = len(names)
    if s.ndim != 3 or s.shape[0] != n or s.shape[1] not in (17, 24) or s.shape[2] != 4 or s.dtype.kind not in "fiu":
        raise UserError(f"{path}: S must be ({n}, 24 or 17, 4) numbers (x, y, z in metres and a confidence), got {s.shape} {s.dtype}")
    for key, want in (("part", 3), ("center", 2), ("scale", 1)):
        v = values[key]
        if len(v) != n or (key == "part" and (v.ndim != 3 or v.shape[2] != 3)) or (key == "center" and v.shape[1:] != (2,)):
            raise UserError(f"{path}: {key} has shape {v.shape}, which does not fit {n} rows of imgname")
    joints = s[..., :3].astype(np.float64)
    conf = s[..., 3] > 0
    finite = np.isfinite(joints).all(axis=-1)
    if not finite[conf].all():
        raise UserError(f"{path}: S holds NaN or Inf coordinates on annotated joints; fix or drop those rows")
    order = detect_joint_order(np.where(finite[..., None], joints, 0.0), str(path)) if joint_order == "auto" else joint_order
    if len(JOINT_ORDERS[order]) != s.shape[1]:
        raise UserError(f"{path}: S has {s.shape[1]} joints, joint order {order} has {len(JOINT_ORDERS[order])}; "
                        "give the file's --joint-order (or auto)")
    idx = list(limb_index(order))
    return names.astype(str), np.where(conf[:, idx, None], joints[:, idx], 0.0), conf[:, idx], order


def annotation_files(path: Path) -> list[Path]:
    """``path`` itself, or the ``*.npz`` files of a folder."""
    path = Path(path).expanduser()
    if path.is_dir():
        files = sorted(path.glob("*.npz"))
        if not files:
            raise UserError(f"{path} holds no .npz annotation file; give SPIN's or mmpose's npz or a folder of them")
        return files
    if not path.is_file():
        raise UserError(f"--annotations {path} does not exist; give an annotation npz or a folder of them")
    return [path]


def read_annotations(path: Path, joint_order: JointOrder = "auto") -> Annotations:
    """Read one annotation npz, or every ``*.npz`` of a folder (one joint order for all).

    Raises:
        UserError: one line naming the file and the problem (missing keys, wrong shapes,
            non-finite joints, an undetectable or inconsistent joint order, a repeated image name).
    """
    files = annotation_files(path)
    parts = [_read_one(f, joint_order) for f in files]
    orders = sorted({p[3] for p in parts})
    if len(orders) > 1:
        raise UserError(f"the files of {path} use different joint orders ({', '.join(orders)}); evaluate them one at a time")
    imgname = tuple(n for p in parts for n in p[0])
    seen: set[str] = set()
    for name in imgname:
        if name in seen:
            raise UserError(f"image {name} is annotated twice in {path}; keep one row per image")
        seen.add(name)
    return Annotations(imgname=imgname, joints=np.concatenate([p[1] for p in parts]),
                       annotated=np.concatenate([p[2] for p in parts]), joint_order=orders[0], sources=tuple(files))
