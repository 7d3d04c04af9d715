"""One mesh file per frame (OBJ or PLY), in the world frame of :mod:`selfmocap.export.world`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
import trimesh

from selfmocap.io import write_bytes
from selfmocap.export.motion import CapturedMotion

MeshFormat = Literal["obj", "ply"]


def mesh_file_name(t: int, num_frames: int, fmt: MeshFormat) -> str:
    """``frame_000042.obj``: zero-padded to 6 digits (more for longer videos), 0-based frame index."""
    width = max(6, len(str(max(num_frames - 1, 0))))
    return f"frame_{t:0{width}d}.{fmt}"


def write_meshes(
    out_dir: str | Path, motion: CapturedMotion, body, fmt: MeshFormat = "obj", *, batch: int = 32
) -> list[Path]:
    """Write the body mesh of every frame to ``out_dir/frame_XXXXXX.{obj,ply}`` (metres, world
    frame: y up, the ground at y = 0, ``motion.world``). Frames without a detection are
    written too (the motion has parameters for them); ``motion.npz``'s ``detected`` says which.
    Each file is written atomically. Returns the paths in frame order.

    Args:
        fmt: ``"obj"`` (text, vertices and faces) or ``"ply"`` (binary).
        batch: frames per body-model call.
    """
    if fmt not in ("obj", "ply"):
        raise ValueError(f"mesh format must be 'obj' or 'ply', got {fmt!r}")
    if motion.body_model != body.name:
        raise ValueError(f"motion is for body model {motion.body_model!r}, got {body.name!r}")
    placed = motion.placed()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    faces = body.faces.cpu().numpy()
    dtype = body.default_shape.dtype
    shape = torch.as_tensor(np.asarray(motion.shape), dtype=dtype)[None]
    paths = []
    for start in range(0, motion.num_frames, batch):
        stop = min(start + batch, motion.num_frames)
        with torch.no_grad():
            vertices = body(torch.as_tensor(motion.pose[start:stop], dtype=dtype), shape).vertices.double().numpy()
        world = placed.points_at(slice(start, stop), vertices)
        for t in range(start, stop):
            mesh = trimesh.Trimesh(world[t - start].astype(np.float32), faces, process=False)
            data = mesh.export(file_type=fmt, **({"include_normals": False} if fmt == "obj" else {}))
            path = out_dir / mesh_file_name(t, motion.num_frames, fmt)
            paths.append(write_bytes(path, data.encode() if isinstance(data, str) else data))
    return paths
