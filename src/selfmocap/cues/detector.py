"""2D person detection: when a frame counts as showing a person, and the simulated keypoint
detector that turns a synthetic clip's ground-truth keypoints into detector-like ones.

Nothing here knows where the keypoints came from (mediapipe, the user's files or the simulated
detector); :mod:`selfmocap.cues.mediapipe`, :mod:`selfmocap.adapt.inputs` and
:mod:`selfmocap.capture.pipeline` share these definitions.
"""

from __future__ import annotations

from typing import Final

import numpy as np

#: Fewer visible input keypoints than this and a frame counts as "no person detected".
MIN_VISIBLE_KEYPOINTS: Final[int] = 4


def detector_keypoints(true2d: np.ndarray, rng: np.random.Generator, noise: float = 0.0, dropout: float = 0.0) -> np.ndarray:
    """(T, K, 3) ground-truth keypoints -> what a detector would give: confidence 1 for kept
    visible points and 0 otherwise.

    Args:
        true2d: (T, K, 3) ground-truth keypoints in pixels, third column their visibility.
        rng: randomness of the errors (not drawn from when ``noise`` and ``dropout`` are both 0).
        noise: std of the Gaussian position noise, a fraction of the person's extent per frame.
        dropout: probability that a visible keypoint is missed.
    """
    out = true2d.astype(np.float64).copy()
    out[..., 2] = out[..., 2] > 0.5
    if noise or dropout:
        extent = np.ptp(true2d[..., :2], axis=1).max(axis=-1)  # (T,)
        out[..., :2] += rng.normal(0.0, 1.0, size=out[..., :2].shape) * (noise * extent)[:, None, None]
        out[..., 2] *= rng.uniform(size=out.shape[:2]) >= dropout
    return out
