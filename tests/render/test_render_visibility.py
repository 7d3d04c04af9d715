"""Embree visibility against the paper's brute-force three-condition test on occluding meshes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh
from render_reference import paper_face_visibility

from selfmocap.render import RayCaster, face_visibility, vertex_visibility


def _reference(
    vertices: np.ndarray, faces: np.ndarray, query: np.ndarray | None = None
) -> np.ndarray:
    q = None if query is None else torch.from_numpy(query)
    return paper_face_visibility(
        torch.from_numpy(np.asarray(vertices, np.float64)), torch.from_numpy(np.asarray(faces)), q
    ).numpy()


def _placed(mesh: trimesh.Trimesh, euler=(0.0, 0.0, 0.0), at=(0.0, 0.0, 3.0)) -> trimesh.Trimesh:
    transform = trimesh.transformations.euler_matrix(*euler)
    transform[:3, 3] = at
    return mesh.copy().apply_transform(transform)


def _concat(*meshes: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray]:
    mesh = trimesh.util.concatenate(meshes)
    return mesh.vertices.astype(np.float32), mesh.faces


def _front_facing(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(F,) faces whose outward normal points towards the camera centre."""
    tri = vertices[faces].astype(np.float64)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return (normal * tri.mean(1)).sum(-1) < 0


def test_two_spheres_one_behind_the_other():
    # Off-axis and turned: on a mirror-symmetric setup, centroid rays of back faces pass exactly
    # through shared edges of front faces, and the reference's (not watertight) edge tests let
    # some slip through the crack; Embree's robust mode does not.
    front = _placed(
        trimesh.creation.icosphere(subdivisions=3, radius=0.4),
        euler=(0.1, 0.2, 0.3),
        at=(0.013, -0.021, 3.0),
    )
    back = _placed(trimesh.creation.icosphere(subdivisions=2, radius=0.35), at=(0.3, 0.1, 4.2))
    vertices, faces = _concat(front, back)
    visible = face_visibility(vertices, faces)
    np.testing.assert_array_equal(visible, _reference(vertices, faces))
    # a convex sphere alone sees exactly its front-facing faces; behind the front one, fewer
    n_front = len(front.faces)
    facing = _front_facing(vertices, faces)
    np.testing.assert_array_equal(visible[:n_front], facing[:n_front])
    hidden = facing[n_front:] & ~visible[n_front:]
    assert 0 < hidden.sum() < facing[n_front:].sum()


def test_torus_occludes_itself():
    torus = trimesh.creation.torus(
        major_radius=0.5, minor_radius=0.15, major_sections=32, minor_sections=12
    )
    vertices, faces = _concat(_placed(torus, euler=(1.2, 0.3, 0.0), at=(0.1, 0.0, 2.5)))
    visible = face_visibility(vertices, faces)
    np.testing.assert_array_equal(visible, _reference(vertices, faces))
    assert (_front_facing(vertices, faces) & ~visible).any()  # the near ring hides the far one


def test_body_like_figure_with_an_arm_across_the_torso():
    torso = _placed(
        trimesh.creation.capsule(height=0.5, radius=0.17, count=(16, 16)),
        euler=(np.pi / 2, 0.05, 0.0),
        at=(0.012, 0.004, 3.0),
    )
    arm = _placed(
        trimesh.creation.capsule(height=0.45, radius=0.05, count=(12, 12)),
        euler=(np.pi / 2, 0.0, 0.0),
        at=(0.0, 0.0, 2.7),
    )
    arm.apply_transform(trimesh.transformations.rotation_matrix(1.1, [0, 0, 1], point=[0, 0, 2.7]))
    head = _placed(trimesh.creation.icosphere(subdivisions=2, radius=0.11), at=(0.0, -0.5, 3.0))
    vertices, faces = _concat(torso, arm, head)
    visible = face_visibility(vertices, faces)
    np.testing.assert_array_equal(visible, _reference(vertices, faces))
    torso_faces = slice(0, len(torso.faces))
    assert (_front_facing(vertices, faces)[torso_faces] & ~visible[torso_faces]).any()


def test_vertex_visibility_is_the_union_of_visible_faces():
    front = _placed(trimesh.creation.icosphere(subdivisions=2, radius=0.4), at=(0.0, 0.0, 3.0))
    back = _placed(trimesh.creation.icosphere(subdivisions=2, radius=0.3), at=(0.2, 0.0, 4.0))
    vertices, faces = _concat(front, back)
    caster = RayCaster(vertices, faces)
    faces_visible = face_visibility(vertices, faces, caster=caster)
    expected = np.array([faces_visible[(faces == v).any(1)].any() for v in range(len(vertices))])
    visible = vertex_visibility(vertices, faces, caster=caster)
    assert visible.shape == (len(vertices),) and visible.dtype == bool
    np.testing.assert_array_equal(visible, expected)
    np.testing.assert_array_equal(visible, vertex_visibility(vertices, faces))


@pytest.mark.anny
def test_anny_matches_the_paper_reference_on_a_sample_of_facets(anny_mesh):
    """All 27k facets occlude, 400 random ones are checked (the full mesh is the benchmark's)."""
    vertices, faces = anny_mesh
    visible = face_visibility(vertices, faces)
    query = np.random.default_rng(0).choice(len(faces), 400, replace=False)
    np.testing.assert_array_equal(visible[query], _reference(vertices, faces, query))
    assert 0.3 < visible.mean() < 0.7
