"""Facet and vertex visibility by ray casting (the paper's section 3.1 and section 4).

"Ray casting boils down to detecting the first mesh facet to intersect with the straight line
from the image projected position of the center of a facet to its 3D point. If the intercepted
facet is the same as the one which the ray is cast from, we denote that facet as visible [...]
Vertices that construct these visible facets are treated as visible."

All rays start at the camera centre (the origin of camera space) and aim at a facet's centroid
``c``; with direction ``c`` the facet itself lies at ``t = 1``, so the search stops just past it.
Embree finds the first hit; the brute-force version of the paper's three-condition test lives
in the tests (``tests/render/render_reference.py``) and agrees with this one.
"""

from __future__ import annotations

import numpy as np

from selfmocap.render.raycast import RayCaster, _caster_for

#: Search rays up to ``t = 1 + T_SLACK`` (just past the facet's own centroid at ``t = 1``).
T_SLACK = 1e-3


def face_visibility(
    vertices_cam: np.ndarray, faces: np.ndarray, *, caster: RayCaster | None = None
) -> np.ndarray:
    """(F,) bool: the first facet hit by the ray from the camera centre to a facet's centroid
    is that facet.

    Args:
        vertices_cam: (V, 3) camera-space vertices.
        faces: (F, 3) triangle vertex indices.
        caster: the scene of this very mesh state, to reuse it (built here when None).
    """
    caster = _caster_for(vertices_cam, faces, caster)
    v, f = caster.vertices, caster.faces
    centroids = (v[f[:, 0]] + v[f[:, 1]] + v[f[:, 2]]) / np.float32(3.0)
    hits = caster.cast(np.zeros_like(centroids), centroids, t_max=1.0 + T_SLACK)
    return hits.face_id == np.arange(len(centroids))


def vertex_visibility(
    vertices_cam: np.ndarray, faces: np.ndarray, *, caster: RayCaster | None = None
) -> np.ndarray:
    """(V,) bool: the vertex is a corner of at least one visible facet (:func:`face_visibility`).

    Args:
        vertices_cam: (V, 3) camera-space vertices.
        faces: (F, 3) triangle vertex indices.
        caster: the scene of this very mesh state, to reuse it (built here when None).
    """
    visible_faces = face_visibility(vertices_cam, faces, caster=caster)
    visible = np.zeros(len(vertices_cam), dtype=bool)
    visible[np.asarray(faces)[visible_faces].ravel()] = True
    return visible
