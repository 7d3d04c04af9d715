"""cues.detector: the simulated keypoint detector of synthetic clips."""

from __future__ import annotations

import numpy as np

from selfmocap.cues.detector import detector_keypoints


def _truth(t: int = 50, k: int = 25) -> np.ndarray:
    rng = np.random.default_rng(0)
    true2d = np.zeros((t, k, 3))
    true2d[..., :2] = rng.uniform(20, 220, size=(t, k, 2))
    true2d[..., 2] = rng.uniform(size=(t, k)) > 0.2  # some hidden points
    return true2d


def test_perfect_detector_is_the_truth_with_binary_confidence():
    true2d = _truth()
    true2d[..., 2] *= 0.9  # visibilities above 0.5 become 1
    out = detector_keypoints(true2d, np.random.default_rng(1))
    np.testing.assert_array_equal(out[..., :2], true2d[..., :2])
    np.testing.assert_array_equal(out[..., 2], (true2d[..., 2] > 0.5).astype(float))


def test_noise_scales_with_extent_and_dropout_misses_points():
    true2d = _truth(t=400)
    out = detector_keypoints(true2d, np.random.default_rng(1), noise=0.01, dropout=0.25)
    extent = np.ptp(true2d[..., :2], axis=1).max(axis=-1)
    residual = (out[..., :2] - true2d[..., :2]) / extent[:, None, None]
    assert abs(residual.std() - 0.01) < 0.001
    visible = true2d[..., 2] > 0.5
    kept = out[..., 2][visible].mean()
    assert abs(kept - 0.75) < 0.02
    assert not out[..., 2][~visible].any()  # a hidden point is never found
