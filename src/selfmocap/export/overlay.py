"""The overlay video: each input frame with the predicted mesh drawn over it, beside a side view.

Left half: the frame with the mesh ray cast through the frame's own Eq. 3 camera
(:func:`~selfmocap.render.overlay.render_overlay`), so the mesh sits where the network put the
person. Right half: the same mesh turned 90 degrees about the camera's vertical axis (seen from
the camera's right), root-centred in front of a fixed virtual camera on a plain background; it
shows what a single view cannot (lean, depth of the arms), and, given the ground (:class:`Ground`),
the ground plane as a green line under the feet. Frames without a detection show the frame alone
with a red "no person" label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from selfmocap.video import VideoWriter
from selfmocap.export.motion import CapturedMotion
from selfmocap.geometry.camera import Camera, camera_oriented, pinhole_project
from selfmocap.render.overlay import render_overlay

#: Turn of the side view: ``Ry(+90 deg)`` in camera axes, i.e. a camera moved to the right of the
#: capture camera, looking back at the subject (depth runs to the right of the side view).
SIDE_TURN = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])


@dataclass(frozen=True)
class SideView:
    """The fixed virtual camera of the right half.

    Attributes:
        distance: metres from the side camera to the subject's root.
        field_height: metres of height visible at the root's distance (sets the focal length).
        background: RGB of the plain background.
    """

    distance: float = 4.0
    field_height: float = 2.6
    background: tuple[int, int, int] = (48, 48, 52)


@dataclass(frozen=True)
class Ground:
    """The ground plane seen from the subject, for the side view's ground line.

    Attributes:
        up: (3,) the world's up axis in the capture camera's axes (OpenCV: x right, y down,
            z forward); for a world frame ``X_world = A X_cam + b`` it is the second row of ``A``.
        height: the root's height above the ground, metres.
    """

    up: np.ndarray
    height: float

    @staticmethod
    def of(world_from_camera: np.ndarray, root_height: float) -> "Ground":
        """From a (4, 4) camera -> world transform (y up) and the root's world height."""
        return Ground(up=np.asarray(world_from_camera, np.float64)[1, :3], height=float(root_height))


NO_PERSON_RGB = (230, 30, 30)
GROUND_RGB = (110, 200, 110)
#: Opacity of the mesh drawn over the input frame.
OVERLAY_ALPHA = 0.75


def _label(image: np.ndarray, text: str, colour: tuple[int, int, int]) -> None:
    """Write ``text`` in the top-left corner of ``image`` (in place), sized to the image."""
    h = image.shape[0]
    scale = max(h / 480.0, 0.35)
    thickness = max(int(round(2 * scale)), 1)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = int(8 * scale) + 2, int(8 * scale) + th + 2
    cv2.rectangle(image, (x - 3, y - th - 3), (x + tw + 3, y + base + 1), (0, 0, 0), -1)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def _render_in_box(
    image: np.ndarray, vertices_cam: np.ndarray, faces: np.ndarray, focal: float, principal: tuple[float, float], alpha: float
) -> np.ndarray:
    """:func:`render_overlay`, casting rays only inside the mesh's projected bounding box.

    The same picture: with every vertex in front of the camera, the silhouette lies inside the
    box of the projected vertices, and a crop shifted by whole pixels keeps the rays through the
    pixel centres (``c' = c - offset``, ``geometry/crop.py``), up to float32 rounding of the ray
    directions (2 pixels off by one grey level in a 1280x720 test). About 2.7x faster than
    casting every pixel's ray at 1280x720 (``benchmarks/bench_export_overlay.py``).
    """
    h, w = image.shape[:2]
    z = vertices_cam[:, 2]
    if not (z > 1e-6).all():  # something behind the camera: cast every ray
        return render_overlay(image, vertices_cam, faces, focal, principal, alpha=alpha)[0]
    uv = pinhole_project(vertices_cam, focal, np.asarray(principal))
    x0, y0 = np.floor(uv.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(uv.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    out = image.copy()
    if x1 <= x0 or y1 <= y0:  # entirely outside the frame
        return out
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    out[y0:y1, x0:x1] = render_overlay(crop, vertices_cam, faces, focal, (principal[0] - x0, principal[1] - y0), alpha=alpha)[0]
    return out


def _draw_ground(right: np.ndarray, ground: Ground, focal: float, distance: float) -> None:
    """Draw, in place, the ground plane's cut through the subject's root (the plane ``x_cam = 0``,
    which the side camera sees at exactly ``distance``) as a line across the side view."""
    h, w = right.shape[:2]
    uy, uz = float(ground.up[1]), float(ground.up[2])
    norm2 = uy * uy + uz * uz
    if norm2 < 1e-6:  # the ground is edge-on to the side view (a camera looking straight down)
        return
    y0, z0 = -ground.height * uy / norm2, -ground.height * uz / norm2  # the root's foot point on the plane
    dy, dz = -uz / math.sqrt(norm2), uy / math.sqrt(norm2)  # along the plane, in the y-z plane
    ends = [(z0 + s * dz, y0 + s * dy) for s in (-20.0, 20.0)]  # metres: far past the picture's edges
    # side view axes: x = the capture camera's z (depth to the right), y = its y (down)
    (u0, v0), (u1, v1) = pinhole_project(np.array([[z, y, distance] for z, y in ends]), focal, np.array([w / 2.0, h / 2.0]))
    thickness = max(int(round(h / 240)), 1)
    cv2.line(right, (int(round(u0)), int(round(v0))), (int(round(u1)), int(round(v1))), GROUND_RGB, thickness, cv2.LINE_AA)


def overlay_frame(
    image: np.ndarray,
    vertices: np.ndarray | None,
    faces: np.ndarray,
    camera: np.ndarray,
    *,
    detected: bool = True,
    side: SideView = SideView(),
    ground: Ground | None = None,
) -> np.ndarray:
    """One side-by-side overlay image.

    Args:
        image: (H, W, 3) uint8 RGB input frame.
        vertices: (V, 3) mesh in the body frame (metres, root at the origin); ignored (may be None)
            when ``detected`` is false.
        faces: (F, 3) triangles.
        camera: (9,) Eq. 3 camera of the frame (``f, alpha, beta, gamma, Tx, Ty, depth, cx, cy``).
        detected: whether the person was detected; if not, no mesh and a "no person" label.
        side: the side view's virtual camera.
        ground: the ground plane, drawn as a line in the side view (None: not drawn).

    Returns:
        (H, 2W, 3) uint8 RGB: the overlay on the left, the side view on the right.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
    h, w = image.shape[:2]
    right = np.empty_like(image)
    right[:] = side.background
    if not detected:
        left = image.copy()
        _label(left, "no person", NO_PERSON_RGB)
        _label(right, "no person", NO_PERSON_RGB)
        return np.concatenate([left, right], axis=1)
    if vertices is None or vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f"vertices must be (V, 3) for a detected frame, got {None if vertices is None else vertices.shape}")
    cam = Camera.from_array(torch.as_tensor(np.asarray(camera, np.float64)[None]))
    turned = camera_oriented(vertices.astype(np.float64), cam.rotation[0].numpy())  # body orientation as the camera sees it
    vertices_cam = turned + cam.translation()[0].numpy()
    left = _render_in_box(
        image, vertices_cam.astype(np.float32), faces, float(cam.focal[0]), tuple(cam.principal[0].tolist()), OVERLAY_ALPHA
    )
    side_cam = turned @ SIDE_TURN.T + np.array([0.0, 0.0, side.distance])
    side_focal = h * side.distance / side.field_height
    if ground is not None:
        _draw_ground(right, ground, side_focal, side.distance)  # under the mesh: the feet cover it
    right = _render_in_box(right, side_cam.astype(np.float32), faces, side_focal, (w / 2.0, h / 2.0), 1.0)
    _label(right, "side view", (220, 220, 220))
    return np.concatenate([left, right], axis=1)


def _vertex_stream(motion: CapturedMotion, body, batch: int) -> Iterator[np.ndarray]:
    """(V, 3) body-frame vertices of each frame, computed ``batch`` frames at a time."""
    dtype = body.default_shape.dtype
    shape = torch.as_tensor(np.asarray(motion.shape), dtype=dtype)[None]
    for start in range(0, motion.num_frames, batch):
        with torch.no_grad():
            out = body(torch.as_tensor(motion.pose[start : start + batch], dtype=dtype), shape)
        yield from out.vertices.float().numpy()


def write_overlay_video(
    path: str | Path,
    motion: CapturedMotion,
    body,
    frames: Iterable[np.ndarray],
    fps: float,
    *,
    side: SideView = SideView(),
    batch: int = 8,
    progress: str | None = None,
) -> Path:
    """Stream ``frames`` into a side-by-side overlay video (:func:`overlay_frame`), frame by frame,
    as H.264 MP4 through the project's one video writer
    (:class:`~selfmocap.video.VideoWriter`: atomic, playable in browsers). Returns ``path``.

    Args:
        path: output video (``.mp4``).
        frames: the T input frames, (H, W, 3) uint8 RGB with (W, H) = ``motion.image_size``;
            consumed one at a time, never all in memory.
        fps: frame rate of the video.
        batch: frames per body-model call.
        progress: name of a progress bar over the frames (None: no bar).
    """
    from tqdm import tqdm

    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"overlay video must be .mp4, got {path.name}")
    width, height = motion.image_size
    faces = body.faces.cpu().numpy()
    frame_iter = iter(frames)
    with VideoWriter(path, fps) as writer, tqdm(total=motion.num_frames, desc=progress, disable=progress is None,
                                                unit="frame") as bar:
        # vertices first: zip stops on them without taking a frame too many
        for t, (vertices, image) in enumerate(zip(_vertex_stream(motion, body, batch), frame_iter)):
            if image.shape != (height, width, 3):
                raise ValueError(f"frame {t} is {image.shape}; the motion's image size is (W, H) = {motion.image_size}")
            writer.write(overlay_frame(image, vertices, faces, motion.camera[t], detected=bool(motion.detected[t]), side=side))
            bar.update()
        leftover = next(frame_iter, None) is not None
        if writer.frames != motion.num_frames or leftover:
            raise ValueError(
                f"got {'more' if leftover else writer.frames} frames for a motion of {motion.num_frames}; "
                "the overlay needs exactly one frame per motion frame"
            )
    return path
