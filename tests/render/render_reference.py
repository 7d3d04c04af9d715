"""Slow, obvious references for :mod:`selfmocap.render` (also loaded by benchmarks/bench_render.py).

``paper_first_hits`` is the paper's section 4 "Ray casting" test, written out literally over all
(ray, facet) pairs in PyTorch; ``python_rasterize_triangle`` is a per-pixel pure-Python
rasterizer of one triangle with perspective-correct barycentrics.
"""

from __future__ import annotations

import numpy as np
import torch

#: The paper's parallelism threshold on |<d, N>|.
PARALLEL_EPS = 1e-8


def paper_first_hits(
    directions: torch.Tensor,
    vertices: torch.Tensor,
    faces: torch.Tensor,
    chunk: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """First facet hit by rays cast from the origin, by testing every facet (section 4).

    A facet (v0, v1, v2) with unit normal N is hit by the ray r = (0, d), d a unit vector, when
    (1) it is not parallel to the ray, ``|<d, N>| > 1e-8``; (2) it is not behind the ray, the
    plane hit ``t = <N, v0> / <N, d>`` (Eq. 8, ``p = t d``) is positive; (3) p lies on the
    inner side of all three edges: ``((vj - vi) x (p - vi))`` has the sign of N for the edges
    (v0, v1), (v1, v2), (v2, v0). Among hit facets the nearest (smallest t) wins.

    Args:
        directions: (R, 3) ray directions (normalised here).
        vertices: (V, 3) vertices, same dtype.
        faces: (F, 3) int64 triangle indices.
        chunk: rays per batch; memory is O(chunk * F).

    Returns:
        face: (R,) int64 index of the nearest facet hit, -1 for none.
        t: (R,) distance along the unit ray to it (inf for none).
    """
    d_all = directions / directions.norm(dim=-1, keepdim=True)
    v0, v1, v2 = vertices[faces].unbind(dim=1)  # (F, 3) each
    normal = torch.linalg.cross(v1 - v0, v2 - v0)
    normal = normal / normal.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    face_out, t_out = [], []
    for d in d_all.split(chunk):
        d = d[:, None, :]  # (r, 1, 3) against (F, 3): every ray with every facet
        n_dot_d = (normal * d).sum(-1)  # (r, F)
        not_parallel = n_dot_d.abs() > PARALLEL_EPS
        t = (normal * v0).sum(-1) / torch.where(not_parallel, n_dot_d, torch.ones_like(n_dot_d))
        in_front = t > 0
        p = t[..., None] * d  # (r, F, 3) Eq. 8 with x = 0
        inside = torch.ones_like(in_front)
        for vi, vj in ((v0, v1), (v1, v2), (v2, v0)):
            side = (torch.linalg.cross((vj - vi).expand_as(p), p - vi) * normal).sum(-1)
            inside &= side >= 0
        hit = not_parallel & in_front & inside
        t = torch.where(hit, t, torch.full_like(t, torch.inf))
        t_min, face = t.min(dim=1)
        face_out.append(torch.where(torch.isfinite(t_min), face, -1))
        t_out.append(t_min)
    return torch.cat(face_out), torch.cat(t_out)


def paper_face_visibility(
    vertices: torch.Tensor, faces: torch.Tensor, query: torch.Tensor | None = None, chunk: int = 256
) -> torch.Tensor:
    """(Q,) bool visibility of the facets ``query`` (default all) by :func:`paper_first_hits`."""
    if query is None:
        query = torch.arange(len(faces))
    centroids = vertices[faces[query]].mean(dim=1)
    first, _ = paper_first_hits(centroids, vertices, faces, chunk)
    return first == query


def python_rasterize_triangle(
    triangle: np.ndarray, focal: float, principal: tuple[float, float], height: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rasterize one camera-space triangle (3, 3) pixel by pixel, the textbook way.

    Project the corners (u = f x / z + cx), take 2D barycentrics of each pixel centre
    (j + 0.5, i + 0.5) from edge functions, keep the pixel when all are >= 0, then correct for
    perspective: ``b_k = (b2d_k / z_k) / sum_m (b2d_m / z_m)``, ``depth = 1 / sum_m (b2d_m / z_m)``.

    Returns: mask (H, W) bool, bary (H, W, 3), depth (H, W), all float64, zeros off the triangle.
    """
    corners = [(focal * x / z + principal[0], focal * y / z + principal[1]) for x, y, z in triangle]
    z = [float(c[2]) for c in triangle]

    def edge(a, b, p):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])

    area = edge(corners[0], corners[1], corners[2])
    mask = np.zeros((height, width), bool)
    bary = np.zeros((height, width, 3))
    depth = np.zeros((height, width))
    for i in range(height):
        for j in range(width):
            p = (j + 0.5, i + 0.5)
            b2d = [
                edge(corners[1], corners[2], p) / area,
                edge(corners[2], corners[0], p) / area,
                edge(corners[0], corners[1], p) / area,
            ]
            if min(b2d) < 0:
                continue
            inv_depth = sum(b / zk for b, zk in zip(b2d, z, strict=True))
            mask[i, j] = True
            depth[i, j] = 1.0 / inv_depth
            bary[i, j] = [b / zk / inv_depth for b, zk in zip(b2d, z, strict=True)]
    return mask, bary, depth
