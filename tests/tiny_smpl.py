"""Tiny SMPL-format models for tests (SMPL and SMPL-X themselves cannot ship): SMPL's 24 joints,
or SMPL-X's 55 (body, jaw, eyes, three joints per finger), with their kinematic trees and a
human-like T-pose skeleton, a few hundred vertices as closed tubes around the bones and a capsule
head, so that ray casting, silhouettes and projections behave like a person's.

Run ``python tests/tiny_smpl.py OUT.npz [smplx]`` to write one by hand; tests call
:func:`write_tiny_smpl` (``smplx=True`` for SMPL-X).
Keys and layouts are SMPL's (``v_template``, ``shapedirs``, ``posedirs``, ``J_regressor``,
``weights``, ``kintree_table``, ``f``); coordinates are SMPL's (y up, facing +z, x to the
subject's left), ground at y = 0.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

from selfmocap.body.names import SMPL_JOINT_NAMES, SMPL_JOINT_PARENTS, SMPLX_JOINT_NAMES, SMPLX_JOINT_PARENTS

#: Rest joints (metres), a T-pose.
REST_JOINTS = np.array([
    [0.0, 0.95, 0.0],     # pelvis
    [0.09, 0.87, 0.0],    # left_hip
    [-0.09, 0.87, 0.0],   # right_hip
    [0.0, 1.06, -0.01],   # spine1
    [0.10, 0.50, 0.01],   # left_knee
    [-0.10, 0.50, 0.01],  # right_knee
    [0.0, 1.19, 0.0],     # spine2
    [0.11, 0.09, -0.03],  # left_ankle
    [-0.11, 0.09, -0.03], # right_ankle
    [0.0, 1.25, 0.01],    # spine3
    [0.12, 0.03, 0.09],   # left_foot
    [-0.12, 0.03, 0.09],  # right_foot
    [0.0, 1.47, -0.01],   # neck
    [0.07, 1.39, 0.0],    # left_collar
    [-0.07, 1.39, 0.0],   # right_collar
    [0.0, 1.56, 0.03],    # head
    [0.18, 1.42, -0.01],  # left_shoulder
    [-0.18, 1.42, -0.01], # right_shoulder
    [0.44, 1.42, -0.02],  # left_elbow
    [-0.44, 1.42, -0.02], # right_elbow
    [0.69, 1.42, -0.01],  # left_wrist
    [-0.69, 1.42, -0.01], # right_wrist
    [0.77, 1.42, -0.01],  # left_hand
    [-0.77, 1.42, -0.01], # right_hand
])
SIDES = 8  # vertices per ring


def _smplx_rest_joints() -> np.ndarray:
    """(55, 3) SMPL-X rest joints: SMPL's first 22, the jaw and eyes, and flat fingers along x."""
    joints = {n: REST_JOINTS[i] for i, n in enumerate(SMPL_JOINT_NAMES[:22])}
    joints["jaw"] = np.array([0.0, 1.52, 0.04])
    for side, s in (("left", 1.0), ("right", -1.0)):
        joints[f"{side}_eye_smplhf"] = np.array([s * 0.032, 1.62, 0.08])
        wrist = joints[f"{side}_wrist"]
        for finger, base, step in (("index", (0.09, 0.0, 0.025), (0.03, 0.0, 0.0)), ("middle", (0.095, 0.0, 0.005), (0.032, 0.0, 0.0)),
                                   ("pinky", (0.08, 0.0, -0.035), (0.022, 0.0, 0.0)), ("ring", (0.09, 0.0, -0.015), (0.03, 0.0, 0.0)),
                                   ("thumb", (0.03, -0.01, 0.035), (0.02, 0.0, 0.02))):
            for k in (1, 2, 3):
                joints[f"{side}_{finger}{k}"] = wrist + np.multiply((s, 1.0, 1.0), np.add(base, np.multiply(k - 1, step)))
    return np.stack([joints[n] for n in SMPLX_JOINT_NAMES])


#: SMPL-X rest joints (metres), a T-pose with flat hands, in ``SMPLX_JOINT_NAMES`` order.
SMPLX_REST_JOINTS = _smplx_rest_joints()


def _tubes() -> list[tuple[int, int | None, np.ndarray, tuple[float, float]]]:
    """(joint, child joint or None, end point, (radius across, radius front-back)) per tube."""
    j = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}
    tubes = []
    for a, b, r in (("pelvis", "spine1", (0.15, 0.10)), ("spine1", "spine2", (0.14, 0.09)),
                    ("spine2", "spine3", (0.15, 0.10)), ("spine3", "neck", (0.16, 0.10)),
                    ("neck", "head", (0.05, 0.05))):
        tubes.append((j[a], j[b], REST_JOINTS[j[b]], r))
    tubes.append((j["head"], None, REST_JOINTS[j["head"]] + [0.0, 0.2, 0.0], (0.085, 0.1)))
    for side in ("left", "right"):
        s = 1.0 if side == "left" else -1.0
        for a, b, r in (("pelvis", "hip", 0.08), ("hip", "knee", 0.07), ("knee", "ankle", 0.05), ("ankle", "foot", 0.04),
                        ("spine3", "collar", 0.05), ("collar", "shoulder", 0.05), ("shoulder", "elbow", 0.05),
                        ("elbow", "wrist", 0.04), ("wrist", "hand", 0.035)):
            a = a if a in ("pelvis", "spine3") else f"{side}_{a}"
            tubes.append((j[a], j[f"{side}_{b}"], REST_JOINTS[j[f"{side}_{b}"]], (r, r)))
        tubes.append((j[f"{side}_foot"], None, REST_JOINTS[j[f"{side}_foot"]] + [0.0, -0.01, 0.08], (0.035, 0.02)))
        tubes.append((j[f"{side}_hand"], None, REST_JOINTS[j[f"{side}_hand"]] + [s * 0.09, 0.0, 0.0], (0.03, 0.015)))
    return tubes


def _smplx_tubes() -> list[tuple[int, int | None, np.ndarray, tuple[float, float]]]:
    """SMPL-X's tubes: SMPL's without the hand joints, plus palm, finger, jaw and eye tubes."""
    j = {n: i for i, n in enumerate(SMPLX_JOINT_NAMES)}
    smpl = {i: j.get(n) for i, n in enumerate(SMPL_JOINT_NAMES)}
    tubes = []
    for joint, child, end, r in _tubes():
        if "hand" in SMPL_JOINT_NAMES[joint] or (child is not None and "hand" in SMPL_JOINT_NAMES[child]):
            continue
        tubes.append((smpl[joint], None if child is None else smpl[child], end, r))
    rest = SMPLX_REST_JOINTS
    tubes.append((j["jaw"], None, rest[j["jaw"]] + [0.0, -0.03, 0.06], (0.04, 0.02)))
    for side in ("left", "right"):
        eye = j[f"{side}_eye_smplhf"]
        tubes.append((eye, None, rest[eye] + [0.0, 0.0, 0.015], (0.012, 0.012)))
        wrist = j[f"{side}_wrist"]
        tubes.append((wrist, j[f"{side}_middle1"], rest[j[f"{side}_middle1"]], (0.04, 0.015)))  # the palm
        for finger in ("index", "middle", "pinky", "ring", "thumb"):
            chain = [j[f"{side}_{finger}{k}"] for k in (1, 2, 3)]
            for a, b in zip(chain, chain[1:]):
                tubes.append((a, b, rest[b], (0.008, 0.008)))
            tubes.append((chain[2], None, rest[chain[2]] + (rest[chain[2]] - rest[chain[1]]), (0.007, 0.007)))
    return tubes


def build_tiny_smpl(seed: int = 0, num_betas: int = 10, smplx: bool = False) -> dict[str, np.ndarray]:
    """The model's arrays, keyed like SMPL's (``smplx``: SMPL-X's) files."""
    if smplx:
        return _build(SMPLX_REST_JOINTS, SMPLX_JOINT_PARENTS, _smplx_tubes(), seed, num_betas)
    return _build(REST_JOINTS, SMPL_JOINT_PARENTS, _tubes(), seed, num_betas)


def _build(rest, parents, tubes, seed: int, num_betas: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    verts, faces, weights, rows = [], [], [], {}
    n = len(parents)
    for joint, child, end, (ra, rb) in tubes:
        start = rest[joint]
        d = end - start
        d /= np.linalg.norm(d)
        ref = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        e1 = np.cross(d, ref)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(d, e1)  # (e1, e2, d) right-handed
        base = len(verts)
        angles = np.linspace(0, 2 * np.pi, SIDES, endpoint=False)
        for k, t in enumerate((0.0, 0.5, 1.0)):
            centre = start + t * (end - start)
            for a in angles:
                verts.append(centre + ra * np.cos(a) * e1 + rb * np.sin(a) * e2)
                w = np.zeros(n)
                w[joint] = 1.0 if t == 0.5 else 0.7
                if t == 0.0 and parents[joint] >= 0:
                    w[parents[joint]] = 0.3
                elif t == 1.0:
                    w[child if child is not None else joint] += 0.3
                weights.append(w)
        rows.setdefault(joint, list(range(base, base + SIDES)))  # ring 0 is centred on the joint
        caps = []
        for centre, ring in ((start - 0.3 * min(ra, rb) * d, 0), (end + 0.3 * min(ra, rb) * d, 2)):
            caps.append(len(verts))
            verts.append(centre)
            weights.append(weights[base + ring * SIDES])
        for k in range(2):
            for i in range(SIDES):
                a, b = base + k * SIDES + i, base + k * SIDES + (i + 1) % SIDES
                c, e = b + SIDES, a + SIDES
                faces += [(a, b, c), (a, c, e)]
        for i in range(SIDES):
            a, b = base + i, base + (i + 1) % SIDES
            faces.append((caps[0], b, a))
            faces.append((caps[1], a + 2 * SIDES, b + 2 * SIDES))
    v = np.array(verts)
    regressor = np.zeros((n, len(v)))
    for joint, idx in rows.items():
        regressor[joint, idx] = 1.0 / len(idx)
    assert (regressor.sum(1) > 0).all(), "every joint starts a tube"
    # Smooth shape blend shapes: a random linear deformation field about the pelvis per beta,
    # left/right symmetric like SMPL's (x is not mixed with y, z).
    mats = rng.normal(0.0, 0.03, size=(num_betas, 3, 3))
    mats[:, 0, 1:] = mats[:, 1:, 0] = 0.0
    shapedirs = np.einsum("kij,vj->vik", mats, v - rest[0])
    posedirs = rng.normal(0.0, 0.002, size=(len(v), 3, 9 * (n - 1)))
    kintree = np.array([[4294967295, *parents[1:]], list(range(n))], dtype=np.int64)
    return {
        "v_template": v,
        "shapedirs": shapedirs,
        "posedirs": posedirs,
        "J_regressor": regressor,
        "weights": np.array(weights) / np.array(weights).sum(1, keepdims=True),
        "kintree_table": kintree,
        "f": np.array(faces, dtype=np.int64),
    }


def write_tiny_smpl(path: str | Path, seed: int = 0, smplx: bool = False, **extra) -> Path:
    """Write the tiny model (``smplx``: the SMPL-X one) to ``path`` (``.npz``, or ``.pkl`` with a
    scipy.sparse J_regressor as in SMPL's files); ``extra`` arrays are added (e.g. ``keypoint_regressor``)."""
    path = Path(path)
    arrays = {**build_tiny_smpl(seed, smplx=smplx), **extra}
    if path.suffix == ".pkl":
        from scipy.sparse import csc_matrix

        arrays["J_regressor"] = csc_matrix(arrays["J_regressor"])
        with open(path, "wb") as fh:
            pickle.dump(arrays, fh, protocol=2)
    else:
        np.savez(path, **arrays)
    return path


if __name__ == "__main__":
    print(write_tiny_smpl(sys.argv[1] if len(sys.argv) > 1 else "tiny_smpl.npz", smplx=sys.argv[2:] == ["smplx"]))
