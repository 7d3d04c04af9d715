"""Square person crops and their exact camera bookkeeping.

A crop is the similarity ``q = scale * (p - offset)`` from full-frame pixels ``p`` to crop pixels
``q`` (both in the continuous convention of :mod:`selfmocap.geometry.camera`). A camera seen
through a crop keeps R and T and gets ``f' = scale f`` and ``c' = scale (c - offset)``, so
projecting into the crop and mapping the result back to the frame are the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from selfmocap.geometry.camera import Camera


@dataclass(frozen=True)
class CropBox:
    """A batch of square crops: ``q = scale * (p - offset)``.

    Attributes:
        offset: (B, 2) full-frame pixel position of the crop's top-left corner.
        scale: (B,) crop pixels per frame pixel (crop size / box side).
    """

    offset: torch.Tensor
    scale: torch.Tensor

    def frame_to_crop(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 2) frame pixels -> crop pixels."""
        return self.scale[:, None, None] * (points - self.offset[:, None])

    def crop_to_frame(self, points: torch.Tensor) -> torch.Tensor:
        """(B, N, 2) crop pixels -> frame pixels."""
        return points / self.scale[:, None, None] + self.offset[:, None]

    def camera_to_crop(self, camera: Camera) -> Camera:
        """The same camera seen through the crop."""
        return camera.replace(
            focal=camera.focal * self.scale,
            principal=self.scale[:, None] * (camera.principal - self.offset),
        )

    def camera_to_frame(self, camera: Camera) -> Camera:
        """Inverse of :meth:`camera_to_crop`."""
        return camera.replace(
            focal=camera.focal / self.scale,
            principal=camera.principal / self.scale[:, None] + self.offset,
        )


def square_box(
    points: np.ndarray, valid: np.ndarray | None = None, margin: float = 0.2, min_side: float = 8.0
) -> tuple[np.ndarray, float]:
    """Square box around 2D points (keypoints or mask pixels): centre (2,) and side length.

    The side is the larger extent times ``1 + 2 * margin`` (never below ``min_side`` pixels).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if valid is not None:
        pts = pts[np.asarray(valid, dtype=bool).reshape(-1)]
    if len(pts) == 0:
        raise ValueError("cannot build a crop box from zero valid points")
    lo, hi = pts.min(0), pts.max(0)
    centre = (lo + hi) / 2
    side = max(float((hi - lo).max()) * (1 + 2 * margin), min_side)
    return centre, side


def crop_box_from_square(centre: torch.Tensor, side: torch.Tensor, size: int) -> CropBox:
    """CropBox for squares of ``side`` frame pixels centred at ``centre`` (B, 2), resized to ``size``."""
    return CropBox(offset=centre - side[:, None] / 2, scale=size / side)


def crop_image(image: np.ndarray, box_offset: np.ndarray, box_scale: float, size: int, interpolation: int | None = None) -> np.ndarray:
    """Resample ``image`` (H, W[, C]) into the ``size`` x ``size`` crop ``q = scale (p - offset)``.

    Pixels outside the frame are zero. Uses one affine warp (exact for the continuous convention).
    """
    import cv2

    s = float(box_scale)
    ox, oy = float(box_offset[0]), float(box_offset[1])
    # cv2 maps integer pixel indices; with centres at +0.5: q_c - 0.5 = s (p_c - 0.5 - o) + 0.5 * (s - 1) ...
    # i.e. idx_q = s * idx_p + (s * (0.5 - o) - 0.5) along each axis.
    matrix = np.array([[s, 0.0, s * (0.5 - ox) - 0.5], [0.0, s, s * (0.5 - oy) - 0.5]])
    if interpolation is None:
        interpolation = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(
        image, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
