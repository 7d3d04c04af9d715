"""How far mediapipe's world landmarks are from the truth on synthetic clips, by alignment.

For every frame where mediapipe finds the person, the 12 limb joints of its world landmarks and
of the true keypoints in camera space are centred on the hips, then compared after
(a) a scale only (the orientation in the camera counts), (b) a turn about the vertical and a scale,
(c) a full similarity (PA-MPJPE). (a) against (c) says how much of mediapipe's orientation can be
trusted, which the ``world3d`` term's ``scale`` alignment relies on (docs/losses.md). Run it on
development clips, never on an evaluation split:

    selfmocap synth --out /tmp/dev --split train --clips 8 --frames 30 --seed 7
    python benchmarks/bench_mediapipe_world.py /tmp/dev
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import roma
import torch

from selfmocap.cues.mediapipe import world_landmarks
from selfmocap.bench.real_motion import limb_pa_mpjpe
from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.data.clip import list_clips
from selfmocap.body.metrics import LIMB_KEYPOINTS
from selfmocap.geometry.camera import Camera, to_camera_space

HIPS = [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]


def _scaled_error(p: np.ndarray, q: np.ndarray) -> float:
    """Mean distance (mm) after the least-squares scale of centred ``p`` onto centred ``q``."""
    s = (p * q).sum() / (p * p).sum()
    return float(np.linalg.norm(s * p - q, axis=1).mean() * 1000)


#: Turns about the vertical (camera y) searched for the yaw+scale row, 2 degrees apart.
YAWS = roma.euler_to_rotmat("y", torch.deg2rad(torch.arange(-180.0, 180.0, 2.0, dtype=torch.float64))[:, None]).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path, help="folder of synthetic clips (selfmocap synth)")
    args = parser.parse_args()
    idx = list(LIMB_KEYPOINTS)
    errors: dict[str, list[float]] = {"scale": [], "yaw+scale": [], "similarity": []}
    for clip in list_clips(args.clips):
        labels = clip.labels
        cam = Camera.from_array(torch.from_numpy(labels.camera).double())
        true = to_camera_space(torch.from_numpy(labels.keypoints3d).double(), cam).numpy()
        found = world_landmarks([clip.rgb(t) for t in range(len(clip))])
        frames = np.flatnonzero(found[:, :, 3].sum(1) > 0)
        for t in frames:
            p = found[t, :, :3].astype(np.float64)
            p, q = (p - p[HIPS].mean(0))[idx], (true[t] - true[t][HIPS].mean(0))[idx]
            errors["scale"].append(_scaled_error(p, q))
            errors["yaw+scale"].append(min(_scaled_error(p @ turn.T, q) for turn in YAWS))
        errors["similarity"].extend(limb_pa_mpjpe(found[frames, :, :3], true[frames]).tolist())
    for name, v in errors.items():
        print(f"{name:>10}: mean {np.mean(v):6.1f} mm, median {np.median(v):6.1f} mm over {len(v)} frames")


if __name__ == "__main__":
    main()
