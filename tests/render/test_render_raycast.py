"""Embree ray casting against analytic sphere, plane and box hits and a pure-Python rasterizer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh
from render_reference import paper_first_hits, python_rasterize_triangle

from selfmocap.render import Fragments, RayCaster, face_visibility, pixel_ray_directions, rasterize

FOCAL, PRINCIPAL, HEIGHT, WIDTH = 60.0, (20.0, 17.0), 36, 40
FLOAT_TOL = 2e-5  # float32 Embree vs float64 maths, metres at ~3 m


def _rays(focal=FOCAL, principal=PRINCIPAL, height=HEIGHT, width=WIDTH) -> np.ndarray:
    return pixel_ray_directions(focal, principal, height, width).astype(np.float64)


def _sphere_entry(directions: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """(N,) smallest t >= 0 with |t d - c| = radius (nan on a miss), rays from the origin."""
    a = (directions**2).sum(-1)
    b = -2.0 * directions @ centre
    c = centre @ centre - radius**2
    disc = b * b - 4 * a * c
    with np.errstate(invalid="ignore"):
        return np.where(disc >= 0, (-b - np.sqrt(disc)) / (2 * a), np.nan)


def test_pixel_rays_invert_the_projection():
    d = pixel_ray_directions(FOCAL, PRINCIPAL, HEIGHT, WIDTH)
    assert d.shape == (HEIGHT, WIDTH, 3) and d.dtype == np.float32
    i, j = 5, 31
    u = FOCAL * d[i, j, 0] / d[i, j, 2] + PRINCIPAL[0]
    v = FOCAL * d[i, j, 1] / d[i, j, 2] + PRINCIPAL[1]
    np.testing.assert_allclose([u, v], [j + 0.5, i + 0.5], atol=1e-5)


def test_sphere_depth_within_tessellation_error():
    """The icosphere is convex with its vertices on the sphere of radius R, so it lies between
    that sphere and the inner sphere tangent to its faces, radius ``r_in = sqrt(R^2 - rho^2)``
    with rho the largest face circumradius. Every ray from outside therefore enters the mesh
    between its entries into the two spheres: ``t_R <= t_mesh <= t_r_in``; rays missing the
    outer sphere miss the mesh and rays meeting the inner one hit it."""
    radius, centre = 0.5, np.array([0.1, -0.05, 3.0])
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    vertices = sphere.vertices + centre
    tri = vertices[sphere.faces]
    a, b, c = (np.linalg.norm(tri[:, i] - tri[:, (i + 1) % 3], axis=1) for i in range(3))
    rho = (a * b * c / (4 * sphere.area_faces)).max()
    inner = np.sqrt(radius**2 - rho**2)
    assert radius - inner < 2e-3  # the bound is tight enough to mean something

    frags = rasterize(vertices, sphere.faces, FOCAL, PRINCIPAL, HEIGHT, WIDTH)
    d = _rays().reshape(-1, 3)
    t_outer, t_inner = _sphere_entry(d, centre, radius), _sphere_entry(d, centre, inner)
    depth, hit = frags.depth.ravel(), frags.mask.ravel()
    assert not hit[np.isnan(t_outer)].any()
    assert hit[~np.isnan(t_inner)].all()
    assert (~np.isnan(t_inner)).sum() > 300
    assert np.all(depth[hit] >= t_outer[hit] - FLOAT_TOL)
    inside = ~np.isnan(t_inner)
    assert np.all(depth[inside] <= t_inner[inside] + FLOAT_TOL)
    assert np.all(frags.depth[~frags.mask] == 0) and np.all(frags.bary[~frags.mask] == 0)


def test_plane_hits_and_barycentrics():
    """A tilted quad: t = <n, p0> / <n, d> exactly; the barycentric blend of the hit face's
    corners is the hit point."""
    normal = np.array([0.3, -0.2, -1.0])
    p0 = np.array([0.0, 0.0, 2.5])
    u = np.cross(normal, [0.0, 1.0, 0.0])
    w = np.cross(normal, u)
    u, w = 5 * u / np.linalg.norm(u), 5 * w / np.linalg.norm(w)
    vertices = np.stack([p0 - u - w, p0 + u - w, p0 + u + w, p0 - u + w])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    frags = rasterize(vertices, faces, FOCAL, PRINCIPAL, HEIGHT, WIDTH)
    assert frags.mask.all()
    d = _rays()
    np.testing.assert_allclose(frags.depth, (normal @ p0) / (d @ normal), rtol=1e-6)
    points = np.einsum("hwk,hwkc->hwc", frags.bary, vertices[faces[frags.face_id]])
    np.testing.assert_allclose(points, frags.depth[..., None] * d, atol=FLOAT_TOL)
    assert frags.bary.min() >= -1e-6
    np.testing.assert_allclose(frags.bary.sum(-1), 1.0, atol=1e-6)


def test_plane_behind_camera_and_parallel_rays_miss():
    behind = np.array([[-5.0, -5.0, -1.0], [5.0, -5.0, -1.0], [0.0, 5.0, -1.0]])
    assert not rasterize(behind, np.array([[0, 1, 2]]), FOCAL, PRINCIPAL, HEIGHT, WIDTH).mask.any()
    caster = RayCaster(
        np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]), np.array([[0, 1, 2]])
    )
    hits = caster.cast(np.zeros((1, 3)), np.array([[1.0, 1.0, 0.0]]))  # parallel to z = 1
    assert hits.face_id[0] == -1


def test_box_hits_match_the_slab_method():
    extents = np.array([0.6, 0.4, 0.5])
    rotation = trimesh.transformations.euler_matrix(0.4, -0.6, 0.2)
    rotation[:3, 3] = [0.05, 0.02, 2.0]
    box = trimesh.creation.box(extents=extents, transform=rotation)
    frags = rasterize(box.vertices, box.faces, FOCAL, PRINCIPAL, HEIGHT, WIDTH)

    # slab method in the box frame: enter the last of the three slabs, leave the first
    d = _rays().reshape(-1, 3) @ rotation[:3, :3]  # R^T d, row-wise
    o = -rotation[:3, 3] @ rotation[:3, :3]  # R^T (0 - c)
    with np.errstate(divide="ignore"):
        t1, t2 = (-extents / 2 - o) / d, (extents / 2 - o) / d
    t_near, t_far = np.minimum(t1, t2).max(-1), np.maximum(t1, t2).min(-1)
    chord = t_far - t_near
    clear = np.abs(chord) > 1e-3  # leave out rays grazing an edge
    hit = frags.mask.ravel()
    assert (chord > 0)[clear].sum() > 200
    np.testing.assert_array_equal(hit[clear], (chord > 0)[clear])
    np.testing.assert_allclose(frags.depth.ravel()[hit], t_near[hit], atol=FLOAT_TOL)
    # the hit face is on the entry slab: its normal is that slab's axis, facing the camera
    axis = np.minimum(t1, t2).argmax(-1)[hit]
    face_normal = box.face_normals[frags.face_id.ravel()[hit]] @ rotation[:3, :3]
    np.testing.assert_allclose(np.abs(face_normal[np.arange(len(axis)), axis]), 1.0, atol=1e-6)


def test_single_triangle_matches_python_rasterizer():
    triangle = np.array([[-0.55, -0.4, 2.0], [0.6, -0.1, 3.1], [-0.1, 0.65, 2.4]])
    frags = rasterize(triangle, np.array([[0, 1, 2]]), FOCAL, PRINCIPAL, HEIGHT, WIDTH)
    mask, bary, depth = python_rasterize_triangle(triangle, FOCAL, PRINCIPAL, HEIGHT, WIDTH)
    assert mask.sum() > 200
    np.testing.assert_array_equal(frags.mask, mask)
    assert np.all(frags.face_id[mask] == 0)
    np.testing.assert_allclose(frags.bary, bary, atol=1e-5)
    np.testing.assert_allclose(frags.depth, depth, atol=FLOAT_TOL)


def test_overlapping_triangles_nearest_wins_like_the_paper_reference():
    vertices = np.array(
        [
            [-0.5, -0.5, 2.0],
            [0.5, -0.4, 2.6],
            [0.0, 0.5, 2.2],  # front, tilted
            [-0.2, -0.6, 2.3],
            [0.6, 0.0, 2.1],
            [-0.3, 0.6, 2.5],  # crosses the first one
            [-1.0, -1.0, 4.0],
            [1.0, -1.0, 4.0],
            [0.0, 1.0, 4.0],  # behind both
        ]
    )
    faces = np.arange(9).reshape(3, 3)
    frags = rasterize(vertices, faces, FOCAL, PRINCIPAL, HEIGHT, WIDTH)
    d = torch.from_numpy(_rays().reshape(-1, 3))
    face, t = paper_first_hits(d, torch.from_numpy(vertices), torch.from_numpy(faces))
    assert set(face.tolist()) == {-1, 0, 1, 2}
    np.testing.assert_array_equal(frags.face_id.ravel(), face.numpy())
    hit = face.numpy() >= 0
    depth = (t * d[:, 2] / d.norm(dim=1)).numpy()  # distance along the unit ray -> z
    np.testing.assert_allclose(frags.depth.ravel()[hit], depth[hit], atol=FLOAT_TOL)


def test_caster_is_reusable_and_checked():
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=0.3)
    vertices = (sphere.vertices + [0.0, 0.0, 2.0]).astype(np.float32)
    caster = RayCaster(vertices, sphere.faces)
    a = rasterize(vertices, sphere.faces, FOCAL, PRINCIPAL, HEIGHT, WIDTH, caster=caster)
    b = rasterize(vertices, sphere.faces, FOCAL, PRINCIPAL, HEIGHT, WIDTH)
    for field in ("face_id", "bary", "depth"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert isinstance(a, Fragments) and a.mask.dtype == bool and a.face_id.dtype == np.int32
    assert a.bary.dtype == np.float32 and a.depth.dtype == np.float32
    with pytest.raises(ValueError, match="another mesh state"):
        rasterize(vertices + 0.1, sphere.faces, FOCAL, PRINCIPAL, HEIGHT, WIDTH, caster=caster)


@pytest.mark.parametrize(
    "vertices, faces, message",
    [
        (np.zeros((3, 2)), np.array([[0, 1, 2]]), "vertices must be"),
        (np.zeros((3, 3)), np.array([0, 1, 2]), "faces must be"),
        (np.zeros((3, 3)), np.array([[0, 1, 3]]), "index vertex"),
        (np.full((3, 3), np.nan), np.array([[0, 1, 2]]), "finite"),
    ],
)
def test_caster_rejects_bad_meshes(vertices, faces, message):
    with pytest.raises(ValueError, match=message):
        RayCaster(vertices, faces)


def _assert_same_hits(vertices: np.ndarray, faces: np.ndarray, directions: np.ndarray) -> None:
    """The numpy-filled scene and embreex's TriangleMesh scene give bit-identical first hits."""
    fast, slow = RayCaster(vertices, faces), RayCaster(vertices, faces, fast_fill=False)
    origins = np.zeros_like(directions)
    a, b = fast.cast(origins, directions), slow.cast(origins, directions)
    for field in ("face_id", "bary", "t"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(face_visibility(vertices, faces, caster=fast),
                                  face_visibility(vertices, faces, caster=slow))


def test_numpy_filled_scene_is_available_here():
    # on this platform the fast fill must be the one in use, or the test below compares the
    # reference with itself
    from selfmocap.render import embree_buffers
    from selfmocap.render.raycast import _device

    assert embree_buffers.available(_device())


def test_numpy_filled_scene_hits_like_triangle_mesh():
    rng = np.random.default_rng(0)
    front = trimesh.creation.icosphere(subdivisions=3, radius=0.4)
    back = trimesh.creation.box(extents=(1.0, 0.8, 0.2))
    back.apply_translation([0.2, -0.1, 1.0])
    mesh = trimesh.util.concatenate([front, back])
    vertices = (mesh.vertices + [0.05, 0.02, 3.0]).astype(np.float32)
    directions = np.concatenate([_rays().reshape(-1, 3), rng.normal([0, 0, 1], 0.2, (500, 3))])
    _assert_same_hits(vertices, mesh.faces, directions.astype(np.float32))
    # one triangle, and faces given as int64 (converted like TriangleMesh's input)
    tri = np.array([[0.0, 0.0, 2.0], [0.5, 0.0, 2.0], [0.0, 0.5, 2.1]], np.float32)
    _assert_same_hits(tri, np.array([[0, 1, 2]], np.int64), _rays().reshape(-1, 3).astype(np.float32))


@pytest.mark.anny
def test_numpy_filled_scene_hits_like_triangle_mesh_on_posed_anny(anny_body):
    torch.manual_seed(0)
    faces = anny_body.faces.numpy()
    with torch.no_grad():
        pose = 0.4 * torch.randn(3, anny_body.num_pose_joints, 3)
        out = anny_body(pose, torch.rand(3, anny_body.shape_dim))
    for vertices in out.vertices.numpy().astype(np.float32):
        vertices = vertices + np.float32([0.1, -0.05, 3.0])
        tri = vertices[faces]
        centroids = tri.mean(1)
        _assert_same_hits(vertices, faces, np.concatenate([centroids, _rays(300, (20, 18), 36, 40).reshape(-1, 3).astype(np.float32)]))
