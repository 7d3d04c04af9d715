import numpy as np

from selfmocap.render.overlay import render_overlay


def test_overlay_draws_the_mesh_silhouette_only():
    # one triangle at depth 2 covering the image centre
    verts = np.array([[-0.5, -0.5, 2.0], [0.5, -0.5, 2.0], [0.0, 0.5, 2.0]], np.float32)
    faces = np.array([[0, 1, 2]])
    image = np.full((40, 40, 3), 10, np.uint8)
    out, mask = render_overlay(image, verts, faces, 40.0, (20.0, 20.0))
    assert mask[20, 20] and not mask[0, 0] and mask.sum() > 50
    assert (out[~mask] == 10).all() and (out[mask] > 10).all()
