"""Backgrounds: real photographs that ship inside scikit-image, plus procedural ones.

Each split draws from its own pool (``docs/dataset.md``), with random crops, flips, scale and
colour jitter. The photograph with a person in it (``astronaut``, ``camera``) is never used.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

#: scikit-image sample photographs per split (colour photos; grey ones get tinted).
PHOTOS = {
    "train": ("coffee", "rocket", "brick", "grass", "gravel", "motorcycle_left"),
    "shift": ("chelsea", "motorcycle_right", "hubble_deep_field", "immunohistochemistry", "moon", "coins"),
}
#: Fraction of clips with a procedural background instead of a photograph.
PROCEDURAL_FRACTION = 0.25


@functools.lru_cache(maxsize=None)
def _photo(name: str) -> np.ndarray:
    import skimage.data

    if name.startswith("motorcycle_"):
        left, right, _ = skimage.data.stereo_motorcycle()
        image = left if name.endswith("left") else right
    else:
        image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def _procedural(rng: np.random.Generator, size: tuple[int, int], style: str) -> np.ndarray:
    """Smooth noise walls/floor: low-frequency colour noise plus a horizon line."""
    h, w = size
    base = rng.uniform(40, 215, size=3)
    noise = rng.normal(0, 1, size=(8, 8, 3)).astype(np.float32)
    low = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC) * rng.uniform(10, 35)
    fine = cv2.GaussianBlur(rng.normal(0, 1, size=(h, w, 3)).astype(np.float32), (0, 0), 1.5) * rng.uniform(3, 12)
    image = base + low + fine
    horizon = int(rng.uniform(0.45, 0.8) * h)
    floor = rng.uniform(30, 200, size=3)
    image[horizon:] = 0.5 * image[horizon:] + 0.5 * floor
    if style == "shift":  # saturated, striped walls: a different texture statistic
        stripes = (np.sin(np.arange(w) / rng.uniform(3, 9)) > 0)[None, :, None]
        image = np.where(stripes, image * 0.6, image) + rng.uniform(-40, 40, size=3)
    return np.clip(image, 0, 255).astype(np.uint8)


def sample_background(rng: np.random.Generator, split: str, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """A (H, W, 3) uint8 background for ``split`` and a short description of it."""
    pool = "shift" if split == "shift" else "train"
    h, w = size
    if rng.uniform() < PROCEDURAL_FRACTION:
        return _procedural(rng, size, pool), f"procedural-{pool}"
    name = PHOTOS[pool][int(rng.integers(len(PHOTOS[pool])))]
    photo = _photo(name)
    ph, pw = photo.shape[:2]
    side = int(min(ph, pw) * rng.uniform(0.5, 1.0))
    y0 = int(rng.integers(0, ph - side + 1))
    x0 = int(rng.integers(0, pw - side + 1))
    image = cv2.resize(photo[y0 : y0 + side, x0 : x0 + side], (w, h), interpolation=cv2.INTER_AREA)
    if rng.uniform() < 0.5:
        image = image[:, ::-1]
    gain = rng.uniform(0.7, 1.2, size=3)
    if not photo.std(axis=2).mean() > 2:  # grey photograph: tint it
        gain = gain * rng.uniform(0.6, 1.2, size=3)
    image = np.clip(image.astype(np.float32) * gain + rng.uniform(-20, 20), 0, 255)
    return np.ascontiguousarray(image.astype(np.uint8)), f"photo-{name}"
