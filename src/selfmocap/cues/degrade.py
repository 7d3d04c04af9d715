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


def noisy_segmentation(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(H, W) bool mask degraded like an imperfect segmenter, when no background is at hand.

    The boundary moves in and out by a few pixels (a low-frequency random field thresholded
    around the true contour), small holes open inside and a blob may stick to the outside.
    """
    h, w = mask.shape
    dist_in = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    dist_out = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
    signed = dist_in - dist_out  # > 0 inside
    field = cv2.resize(rng.normal(0, 1, size=(max(h // 16, 2), max(w // 16, 2))).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    out = signed + field * rng.uniform(1.0, 3.0) > 0
    ys, xs = np.nonzero(mask)
    if len(ys):
        for _ in range(int(rng.integers(0, 3))):  # holes
            i = int(rng.integers(len(ys)))
            cv2.circle(out.view(np.uint8), (int(xs[i]), int(ys[i])), int(rng.integers(1, 4)), 0, -1)
        if rng.uniform() < 0.5:  # a blob of background stuck to the person
            i = int(rng.integers(len(ys)))
            r = int(max(ys.max() - ys.min(), 8) * rng.uniform(0.03, 0.08))
            cv2.circle(out.view(np.uint8), (int(xs[i] + rng.normal(0, r)), int(ys[i] + rng.normal(0, r))), max(r, 1), 1, -1)
    return out
