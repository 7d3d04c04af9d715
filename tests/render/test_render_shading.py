"""Textures, normals and shading: shapes, background, determinism, Lambert, palettes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import trimesh

from selfmocap.render import (
    PALETTES,
    PARTS,
    REGIONS,
    Appearance,
    Light,
    SurfaceLayout,
    rasterize,
    sample_appearance,
    sample_light,
    shade,
    vertex_normals,
)
from selfmocap.render.texture import sample_texture

FOCAL, PRINCIPAL, SIZE = 80.0, (24.0, 24.0), 48
CENTRE, RADIUS = np.array([0.0, 0.0, 3.0]), 0.8


@pytest.fixture(scope="module")
def sphere() -> tuple[np.ndarray, np.ndarray, SurfaceLayout]:
    """An icosphere in front of the camera with a spherical UV map and random body parts."""
    mesh = trimesh.creation.icosphere(subdivisions=3, radius=RADIUS)
    x, y, z = mesh.vertices.T / RADIUS
    uv = np.stack([np.arctan2(x, z) / (2 * np.pi) + 0.5, np.arccos(np.clip(y, -1, 1)) / np.pi], 1)
    layout = SurfaceLayout(
        uv=uv.astype(np.float32),
        face_uv=mesh.faces.copy(),
        face_part=np.random.default_rng(0).integers(len(PARTS), size=len(mesh.faces)),
    )
    return (mesh.vertices + CENTRE).astype(np.float32), mesh.faces, layout


def test_vertex_normals_match_a_loop_and_the_sphere():
    mesh = trimesh.creation.icosphere(subdivisions=2)
    normals = vertex_normals(mesh.vertices, mesh.faces)
    expected = np.zeros_like(mesh.vertices)
    for a, b, c in mesh.faces:  # area-weighted: the raw cross product is twice the area
        n = np.cross(mesh.vertices[b] - mesh.vertices[a], mesh.vertices[c] - mesh.vertices[a])
        for v in (a, b, c):
            expected[v] += n
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(normals, expected, atol=1e-6)
    radial = mesh.vertices / np.linalg.norm(mesh.vertices, axis=1, keepdims=True)
    assert np.all((normals * radial).sum(1) > 0.999)


def test_sample_texture_is_bilinear_with_texel_centres():
    rng = np.random.default_rng(1)
    textures = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    # texel (row r, column c) centre sits at uv ((c + 0.5) / S, 1 - (r + 0.5) / S)
    centres = np.array([[(3 + 0.5) / 8, 1 - (5 + 0.5) / 8]])
    np.testing.assert_allclose(
        sample_texture(textures, np.array([1]), centres)[0], textures[1, 5, 3] / 255, atol=1e-6
    )
    uv = rng.uniform(0.07, 0.93, (20, 2))
    region = rng.integers(0, 2, 20)
    got = sample_texture(textures, region, uv)
    for n in range(20):
        x, y = uv[n, 0] * 8 - 0.5, (1 - uv[n, 1]) * 8 - 0.5
        c, r = int(np.floor(x)), int(np.floor(y))
        wx, wy = x - c, y - r
        t = textures[region[n]].astype(np.float64) / 255
        want = (1 - wy) * ((1 - wx) * t[r, c] + wx * t[r, c + 1]) + wy * (
            (1 - wx) * t[r + 1, c] + wx * t[r + 1, c + 1]
        )
        np.testing.assert_allclose(got[n], want, atol=1e-5)


def test_shade_shape_background_and_determinism(sphere):
    vertices, faces, layout = sphere
    frags = rasterize(vertices, faces, FOCAL, PRINCIPAL, SIZE, SIZE)
    background = np.random.default_rng(2).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)

    def render(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        appearance = sample_appearance(rng, layout, "train", texture_size=64)
        return shade(frags, vertices, faces, appearance, sample_light(rng), background)

    image = render(3)
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
    assert 0.2 < frags.mask.mean() < 0.9
    np.testing.assert_array_equal(image[~frags.mask], background[~frags.mask])
    assert not np.array_equal(image[frags.mask], background[frags.mask])
    np.testing.assert_array_equal(image, render(3))
    assert not np.array_equal(image, render(4))
    with pytest.raises(ValueError, match="background"):
        shade(
            frags,
            vertices,
            faces,
            sample_appearance(np.random.default_rng(0), layout, texture_size=16),
            sample_light(np.random.default_rng(0)),
            background[:-1],
        )


def test_lambert_on_a_white_sphere(sphere):
    """White albedo, no ambient, unit light towards the camera: intensity = 255 max(0, <n, l>)
    with n the sphere's outward normal at the hit point."""
    vertices, faces, layout = sphere
    frags = rasterize(vertices, faces, FOCAL, PRINCIPAL, SIZE, SIZE)
    appearance = Appearance(
        uv=layout.uv,
        face_uv=layout.face_uv,
        face_region=np.zeros(len(faces), np.int64),
        textures=np.full((len(REGIONS), 4, 4, 3), 255, np.uint8),
        sleeve_length=4,
        leg_length=4,
        top_pattern="plain",
        bottom_pattern="plain",
        palette="train",
    )
    light = Light(
        direction=np.array([0.0, 0.0, -1.0], np.float32),
        colour=np.ones(3, np.float32),
        ambient=np.zeros(3, np.float32),
    )
    image = shade(frags, vertices, faces, appearance, light, np.zeros((SIZE, SIZE, 3), np.uint8))
    rows, cols = np.nonzero(frags.mask)
    d = np.stack(
        [
            (cols + 0.5 - PRINCIPAL[0]) / FOCAL,
            (rows + 0.5 - PRINCIPAL[1]) / FOCAL,
            np.ones(len(rows)),
        ],
        1,
    )
    normal = (d * frags.depth[rows, cols, None] - CENTRE) / RADIUS
    expected = 255 * np.clip(-normal[:, 2], 0, 1)
    assert np.abs(image[rows, cols, 0] - expected).max() < 6  # smooth normals of a tessellation
    assert np.all(image[rows, cols, 0] == image[rows, cols, 2])


@pytest.mark.parametrize("palette", ["train", "shift"])
def test_light_sampler(palette):
    light = sample_light(np.random.default_rng(5), palette)
    np.testing.assert_allclose(np.linalg.norm(light.direction), 1.0, atol=1e-6)
    assert light.direction[2] < 0  # on the camera's side of the subject
    assert light.colour.shape == light.ambient.shape == (3,) and np.all(light.ambient > 0)
    again = sample_light(np.random.default_rng(5), palette)
    np.testing.assert_array_equal(light.colour, again.colour)
    with pytest.raises(ValueError, match="light palette"):
        sample_light(np.random.default_rng(5), "test")  # type: ignore[arg-type]


def test_train_and_shift_palettes_are_a_domain_gap(sphere):
    assert not set(PALETTES["train"].patterns) & set(PALETTES["shift"].patterns)
    _, _, layout = sphere

    def mean_saturation(palette: str) -> float:
        rng = np.random.default_rng(6)
        tops = [
            sample_appearance(rng, layout, palette, texture_size=32).textures[REGIONS.index("top")]
            for _ in range(12)
        ]
        return float(
            np.mean([cv2.cvtColor(t, cv2.COLOR_RGB2HSV)[..., 1].mean() / 255 for t in tops])
        )

    assert mean_saturation("shift") > mean_saturation("train") + 0.3
    with pytest.raises(ValueError, match="palette"):
        sample_appearance(np.random.default_rng(0), layout, "test")  # type: ignore[arg-type]


@pytest.mark.anny
def test_anny_layout_and_render(anny_body, anny_mesh):
    vertices, faces = anny_mesh
    layout = SurfaceLayout.from_body(anny_body)
    assert layout.face_part.shape == (len(faces),) and layout.face_uv.shape == faces.shape
    assert set(np.unique(layout.face_part)) == set(range(len(PARTS)))
    appearance = sample_appearance(np.random.default_rng(0), layout, "shift", texture_size=128)
    frags = rasterize(vertices, faces, 110.0, (48.0, 46.0), 96, 96)
    image = shade(
        frags,
        vertices,
        faces,
        appearance,
        sample_light(np.random.default_rng(0)),
        np.zeros((96, 96, 3), np.uint8),
    )
    region = appearance.face_region[frags.face_id[frags.mask]]
    for name in ("skin", "top", "bottom"):
        assert (region == REGIONS.index(name)).sum() > 50, name
    assert image[frags.mask].std() > 10  # textured, not flat
