"""Small BVH files written by the tests, in the CMU channel layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import roma
import torch


def zxy_degrees(rotations: np.ndarray) -> np.ndarray:
    """(..., 3, 3) local rotations -> (..., 3) the BVH channels ``Zrotation Xrotation Yrotation``
    in degrees (intrinsic: R = Rz Rx Ry)."""
    return roma.rotmat_to_euler("ZXY", torch.from_numpy(np.asarray(rotations, dtype=np.float64)), degrees=True).numpy()


def write_bvh(path: Path, names, parents, offsets, euler, root_positions, *, frame_time: float = 1 / 30,
              end_site=(0.0, 1.0, 0.0), decimals: int = 9) -> Path:
    """A BVH file: root channels ``Xposition Yposition Zposition Zrotation Xrotation Yrotation``, the
    others ``Zrotation Xrotation Yrotation`` (the CMU order).

    Args: names (N,), parents (N,) parents first, offsets (N, 3), euler (T, N, 3) degrees
    (:func:`zxy_degrees`), root_positions (T, 3); ``end_site`` is every leaf's End Site offset.
    Numbers are written with ``decimals`` decimals, the frame time with 9.
    """
    children = {i: [c for c, p in enumerate(parents) if p == i] for i in range(len(names))}
    number = lambda v: f"{v:.{decimals}f}"  # noqa: E731
    lines = ["HIERARCHY"]
    order: list[int] = []  # joints as written, depth first: the order of the frame values

    def joint(i: int, depth: int) -> None:
        order.append(i)
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if parents[i] < 0 else 'JOINT'} {names[i]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {' '.join(number(v) for v in offsets[i])}")
        channels = "Zrotation Xrotation Yrotation"
        lines.append(f"{pad}  CHANNELS " + (f"6 Xposition Yposition Zposition {channels}" if parents[i] < 0 else f"3 {channels}"))
        for c in children[i]:
            joint(c, depth + 1)
        if not children[i]:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {' '.join(number(v) for v in end_site)}", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    joint(0, 0)
    lines += ["MOTION", f"Frames: {len(euler)}", f"Frame Time: {frame_time:.9f}"]
    for t in range(len(euler)):
        values = list(root_positions[t]) + [v for j in order for v in euler[t, j]]
        lines.append(" ".join(number(v) for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path
