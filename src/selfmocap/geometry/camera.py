"""The paper's camera (Eq. 3), one implementation used everywhere.

``x = P (R X + T)`` with ``R = Rx(alpha) Ry(beta) Rz(gamma)``, ``T = (Tx, Ty, depth)`` and
``P = diag(f, f, 1)`` followed by the perspective division and the principal point::

    X_cam = R @ X + (Tx, Ty, depth)
    u = f * X_cam.x / X_cam.z + cx
    v = f * X_cam.y / X_cam.z + cy

``X`` is in the body frame (root at the origin, see :mod:`selfmocap.body.model`), so ``R`` is the
body's orientation seen from the camera and ``(Tx, Ty, depth)`` is the root in camera space.
The network keeps ``depth`` fixed (the paper: "we do not predict translation in the z
direction, the focal length accounts for scaling"); synthetic ground truth stores the true one.

The record holds R as a matrix: Euler angles (the paper's parameters, and the file layout) are
singular at beta = +-90 degrees, which here is a subject seen exactly from the side, so no code
path differentiates through them. :meth:`Camera.euler` and :meth:`Camera.from_array` convert.

Pixel coordinates are continuous: pixel (row i, column j) covers ``[j, j+1) x [i, i+1)`` and its
centre is ``(j + 0.5, i + 0.5)``; the principal point of a centred camera is ``(W/2, H/2)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import roma
import torch


@dataclass(frozen=True)
class Camera:
    """A batch of Eq. 3 cameras. All fields are tensors with leading batch dimension B.

    Attributes:
        focal: (B,) focal length f in pixels.
        rotation: (B, 3, 3) R, body frame to camera frame (``R = Rx(alpha) Ry(beta) Rz(gamma)``).
        trans: (B, 2) translation (Tx, Ty) of the root in metres.
        depth: (B,) distance of the root from the camera along z, metres.
        principal: (B, 2) principal point (cx, cy) in pixels.
    """

    focal: torch.Tensor
    rotation: torch.Tensor
    trans: torch.Tensor
    depth: torch.Tensor
    principal: torch.Tensor

    def __post_init__(self) -> None:
        b = self.focal.shape[0] if self.focal.ndim == 1 else None
        ok = (
            b is not None
            and self.rotation.shape == (b, 3, 3)
            and self.trans.shape == (b, 2)
            and self.depth.shape == (b,)
            and self.principal.shape == (b, 2)
        )
        if not ok:
            raise ValueError(
                "Camera fields must be focal (B,), rotation (B, 3, 3), trans (B, 2), depth (B,), "
                f"principal (B, 2); got {tuple(self.focal.shape)}, {tuple(self.rotation.shape)}, "
                f"{tuple(self.trans.shape)}, {tuple(self.depth.shape)}, {tuple(self.principal.shape)}"
            )

    @property
    def batch_size(self) -> int:
        return self.focal.shape[0]

    def euler(self) -> torch.Tensor:
        """(B, 3) Euler angles (alpha, beta, gamma) of R, radians."""
        return rotmat_to_euler(self.rotation)

    def translation(self) -> torch.Tensor:
        """(B, 3) full translation (Tx, Ty, depth)."""
        return torch.cat([self.trans, self.depth[:, None]], dim=1)

    def index(self, idx) -> "Camera":
        """Select a sub-batch (any index valid for a tensor's first dimension)."""
        return Camera(
            focal=self.focal[idx],
            rotation=self.rotation[idx],
            trans=self.trans[idx],
            depth=self.depth[idx],
            principal=self.principal[idx],
        )

    def to(self, *args, **kwargs) -> "Camera":
        return Camera(*(getattr(self, f).to(*args, **kwargs) for f in _FIELDS))

    def replace(self, **changes) -> "Camera":
        return replace(self, **changes)

    @staticmethod
    def cat(cameras: list["Camera"]) -> "Camera":
        return Camera(*(torch.cat([getattr(c, f) for c in cameras]) for f in _FIELDS))

    def as_array(self) -> torch.Tensor:
        """(B, 9) packed as f, alpha, beta, gamma, Tx, Ty, depth, cx, cy (the file layout)."""
        return torch.cat(
            [self.focal[:, None], self.euler(), self.trans, self.depth[:, None], self.principal], dim=1
        )

    @staticmethod
    def from_array(array: torch.Tensor) -> "Camera":
        """Inverse of :meth:`as_array` for a (B, 9) tensor."""
        if array.ndim != 2 or array.shape[1] != 9:
            raise ValueError(f"camera array must be (B, 9), got {tuple(array.shape)}")
        return Camera(
            focal=array[:, 0],
            rotation=euler_to_rotmat(array[:, 1:4]),
            trans=array[:, 4:6],
            depth=array[:, 6],
            principal=array[:, 7:9],
        )


_FIELDS = ("focal", "rotation", "trans", "depth", "principal")
CAMERA_ARRAY_LAYOUT = ("f", "alpha", "beta", "gamma", "tx", "ty", "depth", "cx", "cy")


def euler_to_rotmat(euler: torch.Tensor) -> torch.Tensor:
    """(..., 3) angles (alpha, beta, gamma) -> (..., 3, 3) ``Rx(alpha) @ Ry(beta) @ Rz(gamma)``."""
    return roma.euler_to_rotmat("XYZ", euler)


def rotmat_to_euler(rotmat: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`euler_to_rotmat`: (..., 3, 3) -> (..., 3) with beta in [-pi/2, pi/2]."""
    return roma.rotmat_to_euler("XYZ", rotmat)


def to_camera_space(points: torch.Tensor, camera: Camera) -> torch.Tensor:
    """(B, N, 3) body-frame points -> (B, N, 3) camera-space points ``R X + T``."""
    _check_points(points, camera)
    # einsum legend: b batch, n points, i/j xyz
    return torch.einsum("bij,bnj->bni", camera.rotation.to(points.dtype), points) + camera.translation()[
        :, None
    ].to(points.dtype)


def project_camera_space(points_cam: torch.Tensor, camera: Camera) -> torch.Tensor:
    """(B, N, 3) camera-space points -> (B, N, 2) pixels (the ``P`` and division of Eq. 3)."""
    dtype = points_cam.dtype
    return pinhole_project(points_cam, camera.focal[:, None, None].to(dtype), camera.principal[:, None].to(dtype))


def project(points: torch.Tensor, camera: Camera) -> torch.Tensor:
    """Eq. 3: (B, N, 3) body-frame points -> (B, N, 2) pixel coordinates."""
    return project_camera_space(to_camera_space(points, camera), camera)


# The three below take torch tensors or numpy arrays alike (operators only), so that numpy callers
# (exports, rendering) run the same formulas; tests/geometry/test_camera.py checks both agree.


def camera_oriented(points, rotation):
    """``R X``: (..., N, 3) body-frame points and (..., 3, 3) rotations -> (..., N, 3) points in
    camera orientation, still root-centred (what the 3D metrics compare)."""
    return points @ rotation.mT


def pinhole_project(points_cam, focal, principal):
    """``f (x, y) / z + c``: (..., 3) camera-space points -> (..., 2) pixels; ``focal`` and
    ``principal`` broadcast against (..., 1) and (..., 2)."""
    return focal * points_cam[..., :2] / points_cam[..., 2:3] + principal


def back_project(pixels, depth, focal, principal):
    """Inverse of :func:`pinhole_project` at a known depth: (..., 2) pixels -> (..., 2) camera-space
    ``(x, y) = (p - c) z / f`` (at ``depth=1``, the ray through the pixel)."""
    return (pixels - principal) * depth / focal


def reprojection_error(projected: torch.Tensor, keypoints: torch.Tensor) -> torch.Tensor:
    """(T,) mean pixel distance between projected (T, K, 2) and confident input (T, K, 3)
    keypoints; NaN where a frame has no confident keypoint."""
    conf = (keypoints[..., 2] > 0).to(projected.dtype)
    dist = (projected - keypoints[..., :2]).norm(dim=-1)
    count = conf.sum(-1)
    return torch.where(count > 0, (dist * conf).sum(-1) / count.clamp(min=1), torch.full_like(count, float("nan")))


def _check_points(points: torch.Tensor, camera: Camera) -> None:
    if points.ndim != 3 or points.shape[-1] != 3 or points.shape[0] != camera.batch_size:
        raise ValueError(
            f"points must be (B, N, 3) with B = {camera.batch_size} cameras, got {tuple(points.shape)}"
        )
