"""BVH (Biovision hierarchy) export of a captured motion.

Layout (``docs/exports.md``):

* ``HIERARCHY``: the body model's joints by name (``body.joint_names``), depth first. ``OFFSET``s
  are the rest skeleton at the captured shape (zero pose) in the world frame's axes (y up, x the
  subject's left, z the subject's front at rest), in **centimetres**: the unit of most BVH files
  (MotionBuilder, Mixamo, the CMU conversions) and of the BVH importers' defaults in Unity and
  Unreal; Blender imports with ``Scale = 0.01``. Leaf joints end in a cosmetic ``End Site``.
* The root has 6 channels ``Xposition Yposition Zposition Zrotation Xrotation Yrotation`` (its
  world position and rotation); every other joint has the 3 rotation channels ``Zrotation
  Xrotation Yrotation``: its local rotation is ``Rz(z) Rx(x) Ry(y)`` (intrinsic ZXY, degrees),
  the usual BVH order. Rest rotations are identity, so the channels are the pose itself.
* ``MOTION``: one line per video frame, ``Frame Time`` = 1 / fps. Angles are unwrapped over time
  (no 360-degree jumps); ZXY angles are singular where the middle (X) angle is +-90 degrees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import roma
import torch

from selfmocap.io import write_bytes
from selfmocap.export.motion import CapturedMotion
from selfmocap.export.skeleton import forward_kinematics, leaf_end_sites, rest_pose, world_motion

#: Metres -> BVH units.
BVH_UNITS_PER_METRE = 100.0
#: Rotation channel order: local rotation = Rz(z) Rx(x) Ry(y).
ROTATION_ORDER = "ZXY"


def rotations_to_bvh_euler(rotations: np.ndarray) -> np.ndarray:
    """(T, J, 3, 3) rotations -> (T, J, 3) intrinsic ZXY angles in degrees, in channel order
    (Z, X, Y), unwrapped over time."""
    euler = roma.rotmat_to_euler(ROTATION_ORDER, torch.as_tensor(rotations, dtype=torch.float64), degrees=True)
    return np.unwrap(euler.numpy(), period=360.0, axis=0)


def bvh_euler_to_rotations(euler: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rotations_to_bvh_euler`: (..., 3) ZXY degrees -> (..., 3, 3)."""
    return roma.euler_to_rotmat(ROTATION_ORDER, torch.as_tensor(euler, dtype=torch.float64), degrees=True).numpy()


def write_bvh(path: str | Path, motion: CapturedMotion, body) -> Path:
    """Write ``motion`` as a BVH file (module docstring) atomically; return ``path``.

    Args:
        motion: the captured motion (T frames).
        body: its body model (rest skeleton at ``motion.shape``, joint names, skinning weights
            for the end sites).
    """
    if motion.body_model != body.name:
        raise ValueError(f"motion is for body model {motion.body_model!r}, got {body.name!r}")
    rest = rest_pose(body, motion.shape)
    world = world_motion(motion, body)
    euler = rotations_to_bvh_euler(world.rotations)  # (T, J, 3)
    ends = leaf_end_sites(rest, body.skinning_weights().detach().cpu().double().numpy())
    scale = BVH_UNITS_PER_METRE
    offsets = rest.offsets * scale
    order = rest.depth_first_order()
    children: dict[int, list[int]] = {j: [] for j in order}
    for c, p in enumerate(rest.joint_parents):
        if p >= 0:
            children[p].append(c)

    def vec(v: np.ndarray) -> str:
        return " ".join(f"{x:.6f}" for x in np.round(v, 6) + 0.0)  # + 0.0: no "-0.000000"

    lines = ["HIERARCHY"]

    def joint_block(j: int, depth: int) -> None:
        pad = "  " * depth
        keyword = "ROOT" if rest.joint_parents[j] < 0 else "JOINT"
        lines.append(f"{pad}{keyword} {rest.joint_names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {vec(offsets[j])}")
        if rest.joint_parents[j] < 0:
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
        else:
            lines.append(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation")
        for c in children[j]:
            joint_block(c, depth + 1)
        if not children[j]:
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET {vec(ends[j] * scale)}")
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    roots = [j for j in order if rest.joint_parents[j] < 0]
    if len(roots) != 1:
        raise ValueError(f"BVH needs exactly one root joint, the body model has {len(roots)}")
    joint_block(roots[0], 0)
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    position = world.root_position * scale
    for t in range(motion.num_frames):
        values = [position[t]] + [euler[t, j] for j in order]
        lines.append(vec(np.concatenate(values)))
    return write_bytes(path, ("\n".join(lines) + "\n").encode())


def bvh_joint_positions(motion: CapturedMotion, body) -> np.ndarray:
    """(T, J, 3) world joint positions the BVH file encodes, metres (forward kinematics of the
    rest skeleton with the exported rotations): what an importer should reproduce."""
    positions, _ = forward_kinematics(rest_pose(body, motion.shape), world_motion(motion, body))
    return positions
