"""Lambertian shading of rasterized fragments into a synthetic RGB frame.

``rgb = albedo * (ambient + colour * max(0, <n, l>))`` per pixel, with ``albedo`` looked up in the
clip's region textures at the pixel's interpolated UV, ``n`` the barycentric blend of smooth
(area-weighted) vertex normals, and ``l`` the light direction; composited over a background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selfmocap.render.raycast import Fragments
from selfmocap.render.texture import Appearance, PaletteName, sample_texture


@dataclass(frozen=True)
class Light:
    """A directional light plus ambient light, in camera space.

    Attributes:
        direction: (3,) float32 unit vector from the surface towards the light.
        colour: (3,) float32 RGB intensity of the directional light.
        ambient: (3,) float32 RGB intensity of the ambient light.
    """

    direction: np.ndarray
    colour: np.ndarray
    ambient: np.ndarray


@dataclass(frozen=True)
class LightPalette:
    """Distribution of lights. The direction towards the light, before normalisation, is
    ``(x, -up, -1)``: ``x`` sideways, ``up`` upwards (camera y is down), ``-1`` towards the camera.

    Attributes:
        sideways: (low, high) range of ``x``.
        upward: (low, high) range of ``up``.
        intensity: (low, high) directional light intensity.
        ambient: (low, high) ambient light intensity.
        tint: largest relative colour shift of both lights.
        coloured: tint along a random colour axis (else the warm <-> cool axis).
    """

    sideways: tuple[float, float]
    upward: tuple[float, float]
    intensity: tuple[float, float]
    ambient: tuple[float, float]
    tint: float
    coloured: bool


LIGHT_PALETTES: dict[PaletteName, LightPalette] = {
    "train": LightPalette(
        sideways=(-1.0, 1.0),
        upward=(-0.2, 1.0),
        intensity=(0.55, 0.9),
        ambient=(0.25, 0.5),
        tint=0.12,
        coloured=False,
    ),
    # harsher and coloured: grazing side light, low ambient, strong random tint
    "shift": LightPalette(
        sideways=(-2.5, 2.5),
        upward=(-0.8, 2.0),
        intensity=(0.75, 1.1),
        ambient=(0.1, 0.3),
        tint=0.3,
        coloured=True,
    ),
}


def sample_light(rng: np.random.Generator, palette: PaletteName = "train") -> Light:
    """A light from the camera's side of the subject, plus ambient light, from ``palette``."""
    if palette not in LIGHT_PALETTES:
        raise ValueError(f"light palette must be one of {sorted(LIGHT_PALETTES)}, got {palette!r}")
    pal = LIGHT_PALETTES[palette]
    direction = np.array([rng.uniform(*pal.sideways), -rng.uniform(*pal.upward), -1.0])
    if pal.coloured:
        axis = rng.normal(size=3)
        axis -= axis.mean()
        axis /= np.abs(axis).max()
    else:
        axis = np.array([1.0, 0.0, -1.0])  # warm <-> cool
    tint = 1.0 + rng.uniform(-pal.tint, pal.tint) * axis
    return Light(
        direction=(direction / np.linalg.norm(direction)).astype(np.float32),
        colour=(rng.uniform(*pal.intensity) * tint).astype(np.float32),
        ambient=(rng.uniform(*pal.ambient) * tint).astype(np.float32),
    )


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) unit smooth normals: the area-weighted sum of the incident faces' normals
    (``(v1 - v0) x (v2 - v0)``, outward for a counter-clockwise-from-outside winding).

    Args:
        vertices: (V, 3) positions.
        faces: (F, 3) triangle vertex indices.
    """
    v0, v1, v2 = (vertices[faces[:, k]] for k in range(3))
    face_normals = np.cross(v1 - v0, v2 - v0)  # length = 2 * area: area weighting for free
    corners = faces.ravel()
    summed = np.stack(
        [
            np.bincount(corners, np.repeat(face_normals[:, c], 3), minlength=len(vertices))
            for c in range(3)
        ],
        axis=1,
    )
    return (summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-12)).astype(
        np.float32
    )


def shade(
    fragments: Fragments,
    vertices_cam: np.ndarray,
    faces: np.ndarray,
    appearance: Appearance,
    light: Light,
    background: np.ndarray,
) -> np.ndarray:
    """Shade the body over ``background``.

    Args:
        fragments: (H, W) fragments of the mesh below (:func:`~selfmocap.render.raycast.rasterize`).
        vertices_cam: (V, 3) camera-space vertices.
        faces: (F, 3) triangle vertex indices, the ones ``appearance`` was built for.
        appearance: the clip's :class:`~selfmocap.render.texture.Appearance`.
        light: the clip's (or frame's) :class:`Light`.
        background: (H, W, 3) uint8 image.

    Returns:
        (H, W, 3) uint8 image: the background where ``fragments.mask`` is false.
    """
    height, width = fragments.face_id.shape
    if background.shape != (height, width, 3) or background.dtype != np.uint8:
        raise ValueError(
            f"background must be ({height}, {width}, 3) uint8, got {background.shape} {background.dtype}"
        )
    if len(appearance.face_region) != len(faces):
        raise ValueError(
            f"appearance is for {len(appearance.face_region)} faces, mesh has {len(faces)}"
        )
    mask = fragments.mask
    face = fragments.face_id[mask]  # (N,) foreground pixels
    bary = fragments.bary[mask]  # (N, 3)
    # einsum legend: n pixels, k face corners, c coordinates
    normal = np.einsum("nk,nkc->nc", bary, vertex_normals(vertices_cam, faces)[faces[face]])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    uv = np.einsum("nk,nkc->nc", bary, appearance.uv[appearance.face_uv[face]])
    albedo = sample_texture(appearance.textures, appearance.face_region[face], uv)
    lambert = np.maximum(normal @ light.direction, 0.0)[:, None]
    rgb = albedo * (light.ambient + light.colour * lambert)
    image = background.copy()
    image[mask] = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return image
