"""A small hand-made captured motion shared by the export tests (the body model loads once per
session, ``tests/conftest.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from export_helpers import FPS, IMAGE_SIZE, NUM_FRAMES, make_motion_arrays


@pytest.fixture(scope="module")
def motion(body):
    """A :class:`CapturedMotion` of ``NUM_FRAMES`` frames; frame 2 has no detection."""
    from selfmocap.export.motion import captured_motion

    pose, shape, camera = make_motion_arrays()
    detected = np.ones(NUM_FRAMES, bool)
    detected[2] = False
    return captured_motion(body, pose, shape, camera, fps=FPS, image_size=IMAGE_SIZE, detected=detected)


@pytest.fixture(scope="module")
def world_reference(body, motion):
    """World-frame joints (T, J, 3) and vertices (T, V, 3) straight from the body model, float64."""
    import torch

    with torch.no_grad():
        out = body(torch.from_numpy(motion.pose), torch.from_numpy(motion.shape)[None])
    return motion.world.points(out.joints.double().numpy()), motion.world.points(out.vertices.double().numpy())
