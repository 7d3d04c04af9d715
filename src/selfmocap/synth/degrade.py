"""Silhouettes degraded like background subtraction (the ``shift`` split's "Human3.6M" setting).

Human3.6M's masks come from background subtraction and "can be quite inaccurate" (paper, section
4). We run an actual background subtraction: the frame is compared with a background model that
has drifted (gain, offset and sensor noise); pixels that differ by more than a threshold are
foreground. Clothing close to the background colour drops out, shadows at the feet come in,
and a morphological clean-up with a random kernel blurs the boundary.
"""

from __future__ import annotations

import cv2
import numpy as np


def background_subtraction_mask(
    rgb: np.ndarray, background: np.ndarray, person: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(H, W) bool mask from subtracting a drifted ``background`` model from ``rgb``.

    Args:
        rgb: (H, W, 3) uint8 rendered frame.
        background: (H, W, 3) uint8 empty-scene background.
        person: (H, W) bool true silhouette (only used to place a shadow at the feet).
        rng: randomness of this frame.
    """
    h, w = person.shape
    frame = rgb.astype(np.float32)
    # A soft shadow under the person darkens the floor in the frame (not in the model).
    ys, xs = np.nonzero(person)
    if len(ys):
        shadow = np.zeros((h, w), np.float32)
        foot_y, centre_x = ys.max(), xs.mean()
        axes = (max(int((xs.max() - xs.min()) * rng.uniform(0.3, 0.7)), 2), max(int(h * rng.uniform(0.01, 0.04)), 1))
        cv2.ellipse(shadow, (int(centre_x), int(foot_y)), axes, 0, 0, 360, 1.0, -1)
        shadow = cv2.GaussianBlur(shadow, (0, 0), 3) * rng.uniform(0.25, 0.5)
        frame = frame * (1 - shadow[..., None])
    model = background.astype(np.float32) * rng.uniform(0.9, 1.1) + rng.uniform(-8, 8)
    model = model + rng.normal(0, 4, size=model.shape).astype(np.float32)
    diff = np.abs(frame - model).max(axis=2)
    mask = diff > rng.uniform(25, 45)
    k = int(rng.integers(2, 5))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    return mask.astype(bool)
