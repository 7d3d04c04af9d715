"""Predicted meshes drawn over images: a flat-shaded silhouette-accurate overlay by ray casting."""

from __future__ import annotations

import numpy as np

from selfmocap.geometry.camera import back_project
from selfmocap.render.raycast import rasterize
from selfmocap.render.shading import vertex_normals


def render_overlay(
    image: np.ndarray,
    vertices_cam: np.ndarray,
    faces: np.ndarray,
    focal: float,
    principal: tuple[float, float],
    colour: tuple[float, float, float] = (0.55, 0.75, 1.0),
    alpha: float = 0.75,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a mesh over ``image`` (H, W, 3) uint8, lit from the camera (headlight Lambert).

    Args:
        vertices_cam: (V, 3) camera-space vertices; faces: (F, 3).
        focal, principal: the image's pinhole camera.

    Returns:
        The blended image (H, W, 3) uint8 and the mesh's silhouette (H, W) bool.
    """
    h, w = image.shape[:2]
    frag = rasterize(vertices_cam, faces, focal, principal, h, w)
    mask = frag.mask
    out = image.copy()
    if mask.any():
        normals = vertex_normals(vertices_cam, faces)
        fid = frag.face_id[mask]
        n = np.einsum("nc,ncd->nd", frag.bary[mask], normals[faces[fid]])  # n pixels, c corners, d xyz
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-9
        rows, cols = np.nonzero(mask)
        xy = back_project(np.stack([cols + 0.5, rows + 0.5], 1), 1.0, focal, np.asarray(principal))
        ray = np.concatenate([xy, np.ones((len(xy), 1))], 1)
        ray /= np.linalg.norm(ray, axis=1, keepdims=True)
        lambert = np.abs((n * ray).sum(1))[:, None]
        shaded = 255 * np.asarray(colour) * (0.25 + 0.75 * lambert)
        out[mask] = (alpha * shaded + (1 - alpha) * out[mask]).clip(0, 255).astype(np.uint8)
    return out, mask
