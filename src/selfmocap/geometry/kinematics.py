"""Forward kinematics of a joint tree (numpy), the one used by the BVH reader and the exporters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def forward_kinematics(
    parents: Sequence[int], rotations: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World rotations and positions of every joint in every frame::

        G_j = G_parent R_j,   P_j = P_parent + G_parent t_j   (a root: G_j = R_j, P_j = t_j)

    Args:
        parents: (J,) parent of each joint, -1 for a root; parents come before their children.
        rotations: (T, J, 3, 3) local rotations ``R_j``.
        offsets: (J, 3) or (T, J, 3) ``t_j``: each joint's offset from its parent in the parent's
            frame; a root's is its world position.

    Returns:
        rotations (T, J, 3, 3) ``G`` and positions (T, J, 3) ``P``.
    """
    t, j = rotations.shape[:2]
    if rotations.shape[2:] != (3, 3) or offsets.shape[-2:] != (j, 3) or len(parents) != j:
        raise ValueError(f"need rotations (T, J, 3, 3), offsets (J, 3) or (T, J, 3) and J parents; got "
                         f"{rotations.shape}, {offsets.shape} and {len(parents)}")
    # einsum legend: t frames, i/k xyz; an offset is (3,) or, per frame, (T, 3)
    spec = "tik,k->ti" if offsets.ndim == 2 else "tik,tk->ti"
    rot = np.empty((t, j, 3, 3))
    pos = np.empty((t, j, 3))
    for c, p in enumerate(parents):
        if p < 0:
            rot[:, c] = rotations[:, c]
            pos[:, c] = offsets[..., c, :]
        else:
            rot[:, c] = rot[:, p] @ rotations[:, c]
            pos[:, c] = pos[:, p] + np.einsum(spec, rot[:, p], offsets[..., c, :])
    return rot, pos
