"""Joint limits of the 19 articulated Anny bones, as boxes of intrinsic XYZ Euler angles.

A pose (``(..., 19, 3)`` axis-angle, Anny ``local-ref``: each bone's rotation relative to its
parent in Anny's world-aligned rest axes, x = subject's left, y = back, z = up) is limited per bone
by ranges ``lower <= (X, Y, Z) <= upper`` of the intrinsic XYZ Euler angles
(``roma.rotmat_to_euler("XYZ", .)``, ``R = Rx(X) Ry(Y) Rz(Z)``) of the bone's rotation expressed in
the bone's *limit frame* ``F``: ``R_limit = F^T R F``, i.e. the axis-angle vector is rotated by
``F^T``. ``F`` is the identity (the local-ref axes themselves) for every bone except

* the shoulders (``upperarm01``): ``F = [x, -z, y]``, so X is flexion/extension about the
  left-right axis, Y (the middle angle, the one that must stay inside +-90 deg) is humeral
  rotation about the vertical, and Z is ab/adduction about the back axis. Flexion and
  abduction both reach about 170 deg, so neither may be the middle angle.
* the elbows and wrists (``lowerarm01``, ``wrist``): the local-ref axes turned about the back axis
  by the rest arm's 42 deg of abduction (Anny's A-pose), so X is the elbow's hinge axis
  (perpendicular to the rest upper arm and forearm), Y runs down the rest upper arm, Z is the
  back axis. Without this the one-way elbow hinge would be diagonal in Euler space.

Right-side frames are the left-side ones mirrored (``F_R = S F_L S``, ``S = diag(1, -1, -1)``) and
right-side ranges are the left-side ones with Y and Z negated and swapped, so a mirrored pose has
mirrored angles ``(X, -Y, -Z)``.

Sign conventions, measured on the model (``docs/motion.md`` has the full table); left side:

======================  ===========================  ===========================  =========================
bone                    +X                           +Y                           +Z
======================  ===========================  ===========================  =========================
spine, neck, head       flex forward                 bend to the left             turn to the left
clavicle                axial spin                   depress (shrug is -Y)        retract (protract is -Z)
shoulder                extend (flex forward is -X)  rotate internally            adduct (abduct is -Z)
elbow                   extend (flex is -X)          swing about upper arm        swing in frontal plane
hip                     extend (flex is -X)          adduct (abduct is -Y)        rotate externally
knee                    flex                         (locked)                     (locked)
ankle                   plantarflex                  invert                       toe in/out
======================  ===========================  ===========================  =========================

The numbers (degrees, :data:`LEFT_LIMITS_DEG`) are round values inside the active ranges of
motion of healthy adults (AAOS / Kapandji style tables: hip flexion 120, extension 30,
abduction 45, adduction 30, rotation 40-45; knee flexion 0-150; ankle dorsiflexion 20-25,
plantarflexion 50; shoulder flexion 170, extension 60, abduction 170-180, rotation 70-90; elbow
0-145; thoracolumbar flexion 90 / extension 45 / lateral bend 45 / rotation 50 split over three
segments; cervical flexion 65 / extension 65 / lateral 45 / rotation 75 split over neck and head),
shifted to Anny's rest pose where it is not neutral: the rest upper arm is abducted 42 deg and the
rest elbow flexed 42 deg. Twist of the knee and elbow is locked to a few degrees. A box of Euler
angles ignores couplings (e.g. adduction past the side is only possible with the arm in front);
the limits are a plausibility prior, not a collision model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
import roma
import torch

from selfmocap.body.names import ANNY_ARTICULATED_BONES

#: A torch tensor or a numpy array; functions return the type they are given.
ArrayT = TypeVar("ArrayT", torch.Tensor, np.ndarray)

#: Abduction of Anny's rest (A-pose) upper arm from the vertical, and flexion of its rest elbow.
REST_ARM_ABDUCTION_DEG: Final[float] = 42.0
REST_ELBOW_FLEXION_DEG: Final[float] = 42.0

#: Left-side (and midline) ranges in degrees: bone base name -> ((X lo, X hi), (Y lo, Y hi), (Z lo, Z hi)).
LEFT_LIMITS_DEG: Final[dict[str, tuple[tuple[float, float], ...]]] = {
    "spine05": ((-15, 35), (-15, 15), (-10, 10)),  # lumbar
    "spine03": ((-15, 30), (-15, 15), (-20, 20)),
    "spine01": ((-15, 25), (-15, 15), (-20, 20)),
    "neck01": ((-35, 35), (-25, 25), (-40, 40)),
    "head": ((-30, 30), (-20, 20), (-35, 35)),
    "clavicle": ((-10, 10), (-30, 10), (-20, 20)),
    "upperarm01": ((-170, 60), (-80, 80), (-135, 80)),
    "lowerarm01": ((-105, 40), (-8, 8), (-8, 8)),
    "wrist": ((-60, 60), (-40, 40), (-25, 25)),
    "upperleg01": ((-120, 30), (-45, 30), (-40, 45)),
    "lowerleg01": ((0, 150), (-3, 3), (-5, 5)),
    "foot": ((-25, 50), (-20, 30), (-20, 20)),
}

_MIRROR = np.diag([1.0, -1.0, -1.0])


def _base(bone: str) -> tuple[str, bool]:
    """``"wrist.R"`` -> ``("wrist", True)``."""
    return bone.split(".")[0], bone.endswith(".R")


def _left_frame(base: str) -> np.ndarray:
    """(3, 3) limit frame of a left-side or midline bone; columns are its X, Y, Z in local-ref axes."""
    if base == "upperarm01":
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    if base in ("lowerarm01", "wrist"):
        a = math.radians(REST_ARM_ABDUCTION_DEG)
        x = [math.cos(a), 0.0, math.sin(a)]
        y = [math.sin(a), 0.0, -math.cos(a)]
        return np.array([x, y, [0.0, 1.0, 0.0]]).T
    return np.eye(3)


@dataclass(frozen=True)
class JointLimits:
    """Per-bone boxes of intrinsic XYZ Euler angles in per-bone limit frames.

    Attributes:
        lower: (19, 3) radians, in :data:`ANNY_ARTICULATED_BONES` order.
        upper: (19, 3) radians, ``upper >= lower``.
        frames: (19, 3, 3) rotation per bone whose columns are the limit axes in local-ref axes.
    """

    lower: np.ndarray
    upper: np.ndarray
    frames: np.ndarray

    def __post_init__(self) -> None:
        n = len(ANNY_ARTICULATED_BONES)
        if self.lower.shape != (n, 3) or self.upper.shape != (n, 3) or self.frames.shape != (n, 3, 3):
            raise ValueError(f"JointLimits needs lower/upper ({n}, 3) and frames ({n}, 3, 3)")
        if np.any(self.upper < self.lower):
            raise ValueError("JointLimits: upper < lower")
        if np.any(np.abs(self.lower[:, 1]) >= math.pi / 2) or np.any(np.abs(self.upper[:, 1]) >= math.pi / 2):
            raise ValueError("JointLimits: the middle (Y) angle must stay inside (-90, 90) degrees")
        for a in (self.lower, self.upper, self.frames):
            a.setflags(write=False)


def build_anny_limits(table: dict[str, tuple[tuple[float, float], ...]] = LEFT_LIMITS_DEG) -> JointLimits:
    """Expand a left-side degree table to all 19 bones (mirroring the right side)."""
    lower, upper, frames = [], [], []
    for bone in ANNY_ARTICULATED_BONES:
        base, right = _base(bone)
        lo, hi = np.radians(np.array(table[base], dtype=np.float64).T)  # (3,), (3,)
        frame = _left_frame(base)
        if right:
            lo, hi = np.where([True, False, False], lo, -hi), np.where([True, False, False], hi, -lo)
            frame = _MIRROR @ frame @ _MIRROR
        lower.append(lo)
        upper.append(hi)
        frames.append(frame)
    return JointLimits(np.stack(lower), np.stack(upper), np.stack(frames))


#: The default limits of the Anny body.
ANNY_JOINT_LIMITS: Final[JointLimits] = build_anny_limits()


def _check_pose(pose: torch.Tensor) -> None:
    n = len(ANNY_ARTICULATED_BONES)
    if pose.ndim < 2 or pose.shape[-2:] != (n, 3):
        raise ValueError(f"pose must have shape (..., {n}, 3), got {tuple(pose.shape)}")


def _frames(limits: JointLimits, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(limits.frames, dtype=like.dtype, device=like.device)


def _torch_pose_to_euler(pose: torch.Tensor, limits: JointLimits) -> torch.Tensor:
    _check_pose(pose)
    # einsum legend: j bone, i/k xyz; rotating the axis-angle vector by F^T conjugates the rotation.
    local = torch.einsum("jki,...jk->...ji", _frames(limits, pose), pose)
    return roma.unitquat_to_euler("XYZ", roma.rotvec_to_unitquat(local))


def _torch_euler_to_pose(euler: torch.Tensor, limits: JointLimits) -> torch.Tensor:
    _check_pose(euler)
    local = roma.unitquat_to_rotvec(roma.euler_to_unitquat("XYZ", euler))
    return torch.einsum("jik,...jk->...ji", _frames(limits, euler), local)


def _bounds(limits: JointLimits, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    kw = {"dtype": like.dtype, "device": like.device}
    return torch.tensor(limits.lower, **kw), torch.tensor(limits.upper, **kw)


def pose_to_euler(pose: ArrayT, limits: JointLimits = ANNY_JOINT_LIMITS) -> ArrayT:
    """(..., 19, 3) axis-angle -> (..., 19, 3) intrinsic XYZ Euler angles in the limit frames."""
    if isinstance(pose, np.ndarray):
        return _torch_pose_to_euler(torch.from_numpy(pose), limits).numpy()
    return _torch_pose_to_euler(pose, limits)


def euler_to_pose(euler: ArrayT, limits: JointLimits = ANNY_JOINT_LIMITS) -> ArrayT:
    """(..., 19, 3) Euler angles in the limit frames -> (..., 19, 3) axis-angle.

    The inverse of :func:`pose_to_euler` for middle (Y) angles inside (-90, 90) degrees.
    """
    if isinstance(euler, np.ndarray):
        return _torch_euler_to_pose(torch.from_numpy(euler), limits).numpy()
    return _torch_euler_to_pose(euler, limits)


def clamp_pose(pose: ArrayT, limits: JointLimits = ANNY_JOINT_LIMITS) -> ArrayT:
    """Project a pose into the limits by clipping its Euler angles.

    Args:
        pose: (..., 19, 3) axis-angle (torch tensor or numpy array).
    Returns:
        (..., 19, 3) axis-angle of the same type and dtype; poses inside the limits come back
        unchanged up to rounding, and ``clamp_pose`` is idempotent.
    """
    if isinstance(pose, np.ndarray):
        return clamp_pose(torch.from_numpy(pose), limits).numpy()
    euler = _torch_pose_to_euler(pose, limits)
    lower, upper = _bounds(limits, pose)
    return _torch_euler_to_pose(torch.minimum(torch.maximum(euler, lower), upper), limits)


def limit_violation(pose: ArrayT, limits: JointLimits = ANNY_JOINT_LIMITS) -> ArrayT:
    """Joint-limit penalty: sum over bones and axes of the squared excess of the Euler angles.

    ``sum_j,a relu(lower - e)^2 + relu(e - upper)^2`` (radians squared). Zero inside the limits,
    positive outside, differentiable in torch (a pose prior). The Euler angles, hence the
    gradient, are singular only where a middle angle is exactly +-90 deg, far outside every range.

    Args:
        pose: (..., 19, 3) axis-angle (torch tensor or numpy array).
    Returns:
        (...,) penalty of the same type.
    """
    if isinstance(pose, np.ndarray):
        return limit_violation(torch.from_numpy(pose), limits).numpy()
    euler = _torch_pose_to_euler(pose, limits)
    lower, upper = _bounds(limits, pose)
    excess = torch.relu(lower - euler) + torch.relu(euler - upper)
    return excess.square().sum(dim=(-2, -1))
