"""Ray casting against a triangle mesh in camera space, through Intel Embree.

Conventions: camera space is OpenCV's (x right, y down, z forward), the camera centre is the
origin, and pixels are continuous with pixel (row i, column j) centred at ``(j + 0.5, i + 0.5)``
(see :mod:`selfmocap.geometry.camera`). A ray is ``origin + t * direction``; directions need not
be unit vectors, and ``t`` is measured in units of the direction. Primary rays use directions
with ``z = 1``, so their ``t`` is the camera-space depth of the hit.

A :class:`RayCaster` holds the Embree scene (a BVH) of one mesh state. Building it is the
expensive part (about 11 ms of BVH build for the 27k-triangle Anny mesh on one core, plus a
numpy copy into Embree's buffers), so build it once per mesh state and pass it to
:func:`rasterize` and :func:`~selfmocap.render.visibility.face_visibility` alike.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from embreex import rtcore, rtcore_scene
from embreex.mesh_construction import TriangleMesh

from selfmocap.render import embree_buffers


@dataclass(frozen=True)
class Fragments:
    """What the primary ray through each pixel centre hits first.

    Attributes:
        face_id: (H, W) int32 index of the hit face, -1 for background.
        bary: (H, W, 3) float32 barycentric weights of the hit point on the face's corners
            (v0, v1, v2); zero for background.
        depth: (H, W) float32 camera-space z of the hit, zero for background.
    """

    face_id: np.ndarray
    bary: np.ndarray
    depth: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool, true where a face covers the pixel centre."""
        return self.face_id >= 0


@dataclass(frozen=True)
class RayHits:
    """First hits of N rays.

    Attributes:
        face_id: (N,) int32 index of the first face hit, -1 for a miss.
        bary: (N, 3) float32 barycentric weights of the hit on the face's corners (v0, v1, v2).
        t: (N,) float32 ray parameter of the hit (``hit = origin + t * direction``); the ray's
            ``t_max`` for a miss.
    """

    face_id: np.ndarray
    bary: np.ndarray
    t: np.ndarray


@functools.cache
def _device() -> rtcore.EmbreeDevice:
    """One Embree device per process: creating one starts a thread pool, so share it."""
    return rtcore.EmbreeDevice()


class RayCaster:
    """Embree scene of one triangle mesh state; answers first-hit queries.

    Args:
        vertices: (V, 3) vertex positions (camera space for the renderers here).
        faces: (F, 3) integer vertex indices of each triangle.
        fast_fill: fill Embree's buffers with numpy (:mod:`~selfmocap.render.embree_buffers`)
            instead of embreex's ``TriangleMesh``; the scene and its hits are the same, the
            build about 4x faster. False is the reference the tests compare with.

    Attributes:
        vertices: (V, 3) float32 copy the scene was built from.
        faces: (F, 3) uint32 copy the scene was built from.
    """

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, *, fast_fill: bool = True):
        vertices = np.ascontiguousarray(vertices, dtype=np.float32)
        faces = np.ascontiguousarray(faces, dtype=np.uint32)
        if vertices.ndim != 2 or vertices.shape[1] != 3:
            raise ValueError(f"vertices must be (V, 3), got {vertices.shape}")
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise ValueError(f"faces must be (F, 3), got {faces.shape}")
        if faces.size and faces.max() >= len(vertices):
            raise ValueError(f"faces index vertex {faces.max()} of only {len(vertices)}")
        if not np.isfinite(vertices).all():
            raise ValueError("vertices must be finite")
        self.vertices = vertices
        self.faces = faces
        # The robust flag makes hits watertight on shared edges (no pinholes between triangles).
        self._scene = rtcore_scene.EmbreeScene(_device(), robust=True)
        if fast_fill and len(vertices) and len(faces) and embree_buffers.available(_device()):
            # the same Embree calls as TriangleMesh, buffers filled by numpy (4x faster build)
            embree_buffers.attach_triangle_mesh(self._scene, vertices, faces)
        else:
            TriangleMesh(self._scene, vertices, faces)
        # Embree builds the BVH lazily on the first query; do it now so that build time is
        # paid (and measured) here.
        self._scene.run(np.zeros((1, 3), np.float32), np.ones((1, 3), np.float32))

    def matches(self, vertices: np.ndarray, faces: np.ndarray) -> bool:
        """Whether this scene was built from ``vertices`` (V, 3) and ``faces`` (F, 3)."""
        return (
            vertices.shape == self.vertices.shape
            and faces.shape == self.faces.shape
            and np.array_equal(np.asarray(vertices, np.float32), self.vertices)
            and np.array_equal(faces, self.faces)
        )

    def cast(
        self, origins: np.ndarray, directions: np.ndarray, t_max: float | np.ndarray = np.inf
    ) -> RayHits:
        """First hit of each ray ``origins + t * directions`` with ``0 <= t <= t_max``.

        Args:
            origins: (N, 3) ray origins.
            directions: (N, 3) ray directions (any length, not zero).
            t_max: scalar or (N,) largest ``t`` searched; a smaller bound prunes the search.
        """
        origins = np.ascontiguousarray(origins, dtype=np.float32)
        directions = np.ascontiguousarray(directions, dtype=np.float32)
        if origins.ndim != 2 or origins.shape[1] != 3 or directions.shape != origins.shape:
            raise ValueError(
                f"origins and directions must both be (N, 3), got {origins.shape}, {directions.shape}"
            )
        tfar = np.empty(len(origins), np.float32)
        tfar[:] = np.minimum(t_max, np.finfo(np.float32).max)
        out = self._scene.run(origins, directions, dists=tfar, output=1)
        face_id = out["primID"]  # -1 (RTC_INVALID_GEOMETRY_ID as int32) for a miss
        # Embree's (u, v) weigh v1 and v2: hit = (1 - u - v) v0 + u v1 + v v2.
        bary = np.stack([1.0 - out["u"] - out["v"], out["u"], out["v"]], axis=-1)
        bary[face_id < 0] = 0.0
        return RayHits(face_id=face_id, bary=bary, t=out["tfar"])


def pixel_ray_directions(
    focal: float, principal: tuple[float, float], height: int, width: int
) -> np.ndarray:
    """(H, W, 3) float32 directions through the pixel centres, scaled to ``z = 1``.

    Inverts ``u = f x / z + cx``, ``v = f y / z + cy`` at ``(u, v) = (j + 0.5, i + 0.5)``.
    """
    cols = (np.arange(width, dtype=np.float32) + 0.5 - principal[0]) / focal
    rows = (np.arange(height, dtype=np.float32) + 0.5 - principal[1]) / focal
    directions = np.ones((height, width, 3), np.float32)
    directions[..., 0] = cols[None, :]
    directions[..., 1] = rows[:, None]
    return directions


def rasterize(
    vertices_cam: np.ndarray,
    faces: np.ndarray,
    focal: float,
    principal: tuple[float, float],
    height: int,
    width: int,
    *,
    caster: RayCaster | None = None,
) -> Fragments:
    """Cast a primary ray from the camera centre through every pixel centre.

    Args:
        vertices_cam: (V, 3) camera-space vertices.
        faces: (F, 3) triangle vertex indices.
        focal: focal length f in pixels.
        principal: principal point (cx, cy) in pixels.
        height, width: image size H, W.
        caster: the scene of this very mesh state, to reuse it (built here when None).

    Returns:
        :class:`Fragments` of shape (H, W).
    """
    if not (focal > 0 and height > 0 and width > 0):
        raise ValueError(f"need focal > 0 and a non-empty image, got f={focal}, {height}x{width}")
    caster = _caster_for(vertices_cam, faces, caster)
    directions = pixel_ray_directions(focal, principal, height, width).reshape(-1, 3)
    hits = caster.cast(np.zeros_like(directions), directions)
    face_id = hits.face_id.reshape(height, width)
    depth = np.where(face_id >= 0, hits.t.reshape(height, width), np.float32(0.0))
    return Fragments(face_id=face_id, bary=hits.bary.reshape(height, width, 3), depth=depth)


def _caster_for(vertices: np.ndarray, faces: np.ndarray, caster: RayCaster | None) -> RayCaster:
    """The given caster after checking it is this mesh's, or a new one."""
    if caster is None:
        return RayCaster(vertices, faces)
    if not caster.matches(vertices, faces):
        raise ValueError("caster was built from another mesh state than vertices_cam/faces")
    return caster
