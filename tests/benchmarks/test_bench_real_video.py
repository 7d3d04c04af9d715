"""The real-video benchmark's metrics (benchmarks/bench_real_video.py) against slow, obvious loops."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_real_video.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_real_video", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    sys.path.insert(0, str(SCRIPT.parent))  # its sibling _timing.py, as when run from benchmarks/
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)
        sys.path.remove(str(SCRIPT.parent))


def test_steal_percent_by_hand_and_the_cpu_ticks_reading(bench):
    assert bench.steal_percent((10, 1000), (40, 1600)) == pytest.approx(5.0)
    assert np.isnan(bench.steal_percent((0, 0), (0, 0)))
    steal, total = bench.cpu_ticks()
    assert 0 <= steal <= total


def test_person_heights_is_the_masks_vertical_extent(bench):
    rng = np.random.default_rng(0)
    masks = rng.random((6, 20, 9)) > 0.97
    masks[2] = False
    masks[3, 4, 1] = True
    got = bench.person_heights(masks)
    for t, mask in enumerate(masks):
        rows = [i for i in range(mask.shape[0]) if mask[i].any()]
        want = rows[-1] - rows[0] + 1 if rows else None
        assert (np.isnan(got[t]) if want is None else got[t] == want), (t, got[t], want)


def test_keypoint_distances_counts_only_confident_keypoints_of_frames_with_a_person(bench):
    rng = np.random.default_rng(1)
    projected, detected = rng.normal(size=(5, 7, 2)) * 10, rng.normal(size=(5, 7, 2)) * 10
    confidence = rng.random((5, 7))
    frames = np.array([True, False, True, True, True])
    dist, frame_of = bench.keypoint_distances(projected, detected, confidence, frames)
    want = [(np.hypot(*(projected[t, k] - detected[t, k])), t) for t in range(5) for k in range(7)
            if frames[t] and confidence[t, k] >= 0.5]
    assert np.allclose(dist, [d for d, _ in want]) and frame_of.tolist() == [t for _, t in want]


def test_silhouette_iou_by_hand(bench):
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2, :2] = True  # 4 pixels
    b[1:3, 1:3] = True  # 4 pixels, 1 shared
    assert bench.silhouette_iou(a, b) == pytest.approx(1 / 7)
    assert bench.silhouette_iou(a, a) == 1.0 and bench.silhouette_iou(a, ~a) == 0.0
    assert bench.silhouette_iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool)) == 1.0


def test_foot_skating_is_horizontal_speed_while_in_contact(bench):
    rng = np.random.default_rng(2)
    feet = rng.normal(size=(8, 2, 3))
    contacts = rng.random((8, 2)) > 0.4
    got = bench.foot_skating(feet, contacts)
    want = [1000 * np.hypot(feet[t + 1, f, 0] - feet[t, f, 0], feet[t + 1, f, 2] - feet[t, f, 2])
            for t in range(7) for f in range(2) if contacts[t, f] and contacts[t + 1, f]]
    assert np.allclose(got, want)
    lifted = feet.copy()
    lifted[:, :, 1] += np.arange(8)[:, None]  # vertical motion is not skating
    assert np.allclose(bench.foot_skating(lifted, contacts), want)


def test_penetration_and_triples(bench):
    assert bench.penetration(np.array([0.01, -0.002, 0.0, -0.05])).tolist() == pytest.approx([0.0, 2.0, 0.0, 50.0])
    valid = np.array([True, True, True, False, True, True, True, True])
    assert bench.triples(valid) == sum(valid[t] and valid[t + 1] and valid[t + 2] for t in range(len(valid) - 2))
    assert bench.triples(valid[:2]) == 0


@pytest.mark.parametrize("shift", [(0.0, 0.0, 0.0), (0.5, -0.3, 0.0), (3.0, 0.0, 0.0), (0.0, 0.0, -3.9)])
def test_box_iou_is_the_full_ray_cast_iou(bench, shift):
    # inside the frame, cut by its border, outside it, and partly behind the camera
    from selfmocap.render.raycast import rasterize

    rng = np.random.default_rng(3)
    # a closed box mesh 0.4 x 1.6 x 0.3 m, 4 m in front of the camera, plus the shift
    corners = np.array([[x, y, z] for x in (-0.2, 0.2) for y in (-0.8, 0.8) for z in (-0.15, 0.15)])
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    vertices = (corners + [0.0, 0.0, 4.0] + np.array(shift)).astype(np.float32)
    h, w, focal, principal = 60, 80, 70.0, (40.3, 29.6)
    mask = np.zeros((h, w), bool)
    mask[10:50, 30:48] = True
    mask |= rng.random((h, w)) > 0.97
    full = bench.silhouette_iou(rasterize(vertices, faces, focal, principal, h, w).mask, mask)
    assert bench.mesh_mask_iou(vertices, faces, focal, principal, mask) == pytest.approx(full, abs=1e-12)
    if shift == (0.0, 0.0, 0.0):
        assert full > 0.2  # the box overlaps the masked rectangle: not a trivial 0 = 0


@pytest.mark.parametrize("shape", [(960, 540, 3), (540, 1920, 3), (270, 240, 3)])
def test_contact_sheet_labels_fit_inside_the_overlay_half(bench, shape):
    import cv2

    tile = np.zeros(shape, np.uint8)
    labels = ["courtyard_dribble frame 33 (2.75 s)", "frame 33 (2.75 s)"]
    scale, label = bench._fitted_label(tile, labels)
    (width, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    assert label in labels and scale >= 0.35
    if scale > 0.35:  # not clamped at the smallest readable size: it fits
        assert width <= shape[1] / 2 - 12
    # a wide tile keeps the video's name; a narrow portrait one drops it rather than shrink it away
    if shape == (540, 1920, 3):
        assert label == labels[0]
    if shape == (960, 540, 3):
        assert label == labels[1] and scale > 0.9
