"""Tiny clips with consistent labels (random poses through the body model, a plausible camera) and
noise images with the projected person painted in, for tests that must not wait for `synth`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from selfmocap.data.clip import ClipWriter
from selfmocap.data.records import ClipLabels, ClipMeta
from selfmocap.geometry.camera import Camera, euler_to_rotmat, project


def write_fake_clips(root: Path, body, clips: int = 2, frames: int = 4, size: int = 96, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for c in range(clips):
        pose = torch.tensor(rng.normal(0, 0.25, (frames, 19, 3)), dtype=torch.float32)
        shape = torch.tensor(rng.uniform(0.2, 0.8, 6), dtype=torch.float32)
        euler = torch.tensor(rng.uniform([-0.2, -np.pi, -0.1], [0.2, np.pi, 0.1], (frames, 3)), dtype=torch.float32)
        camera = Camera(
            focal=torch.full((frames,), 1.3 * size),
            rotation=euler_to_rotmat(euler),
            trans=torch.tensor(rng.uniform(-0.3, 0.3, (frames, 2)), dtype=torch.float32),
            depth=torch.tensor(rng.uniform(3.0, 4.5, frames), dtype=torch.float32),
            principal=torch.full((frames, 2), size / 2),
        )
        with torch.no_grad():
            out = body(pose, shape[None])
            kp2d = project(out.keypoints, camera).numpy()
            verts2d = project(out.vertices, camera).numpy()
        inside = ((kp2d >= 0) & (kp2d < size)).all(-1)
        writer = ClipWriter(root, f"fake_{c:03d}")
        for t in range(frames):
            mask = np.zeros((size, size), bool)
            ij = np.floor(verts2d[t]).astype(int)
            ok = ((ij >= 0) & (ij < size)).all(-1)
            mask[ij[ok, 1], ij[ok, 0]] = True
            rgb = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            rgb[mask] = (200, 60, 40)
            writer.write_frame(t, rgb, mask, None)
        labels = ClipLabels(
            pose=pose.numpy(), shape=shape.numpy(), camera=camera.as_array().numpy(),
            keypoints2d=np.concatenate([kp2d, inside[..., None]], -1).astype(np.float32),
            keypoints3d=out.keypoints.numpy(), joints3d=out.joints.numpy(),
        )
        meta = ClipMeta(clip_id=f"fake_{c:03d}", split="train", seed=seed, num_frames=frames, fps=30.0, width=size,
                        height=size, body_model="anny", motion_family="random", background="noise", palette="train",
                        degraded_mask=False)
        writer.write_clip(meta, labels, np.zeros((frames, size, size)), np.zeros((frames - 1, size, size, 2)),
                          np.zeros((frames - 1, size, size), bool))
        writer.commit()
    return root
