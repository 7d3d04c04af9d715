"""The world frame of the exports: gravity-aligned, y up, metres, the ground plane y = 0 with the
feet on it, the static capture camera at its estimated height and pitch (``docs/exports.md``).

The network's Eq. 3 camera keeps the root at the fixed depth D0 (4 m) and lets a per-frame focal
length ``f_t`` carry the body's apparent size; the image fixes only ``f_t / D0``. With a real
focal length ``focal`` (a prior: :func:`prior_focal`, a typical field of view, since a video
carries no reliable EXIF focal length), the body of known metric size (the body model at the
captured shape) stands at the distance ``Z_t = D0 * focal / f_t`` and keeps its root pixel
(:func:`metric_root_translation`). Then, in the camera's space:

1. the lowest foot points of every frame (:func:`lowest_foot_points`) of the frames whose foot is
   in contact are fitted by a plane (:func:`fit_ground`: weighted least squares with a prior on
   its normal, the body's mean up axis, and outliers dropped); the camera's pitch and height
   follow from the plane's normal and offset;
2. per-frame contact labels per foot from the foot's height above that plane and its speed, with
   hysteresis (:func:`foot_contacts`); steps 1-2 alternate twice;
3. the rigid transform camera -> world (:func:`world_from_camera`): y the plane's normal, the
   camera above the world origin at its height, looking along -z (no yaw, no roll);
4. foot locking (:func:`foot_lock_offsets`): the root's horizontal path is corrected by minus the
   motion of the planted foot (a leaky running sum, so the path never drifts far from where the
   image puts the person), and its height so that the planted foot's lowest point is on the
   ground; no frame's lowest foot point stays below y = 0.

Everything is a pure batched numpy function on arrays; :func:`place_in_world` runs them on a
:class:`~selfmocap.export.motion.CapturedMotion` and a body model and returns a
:class:`WorldFrame`. A moving camera breaks step 1's assumption of one ground plane in camera
space: see ``docs/exports.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from selfmocap.export.config import WorldOptions
from selfmocap.geometry.camera import Camera, project_camera_space

if TYPE_CHECKING:
    from selfmocap.export.motion import CapturedMotion

#: Feet in the order of the (T, 2) contact labels.
FEET = ("left", "right")
#: The joint whose subtree's dominant vertices are a foot's surface, per foot.
FOOT_JOINTS = {"left": "left_ankle", "right": "right_ankle"}
#: OpenCV camera axes (x right, y down, z forward) -> glTF camera axes (x right, y up, looking down -z).
CV_TO_GL = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class GroundPlane:
    """A plane in camera space: ``height(p) = normal . p + offset`` (metres above it)."""

    normal: np.ndarray  #: (3,) unit, pointing up (away from the ground, towards the camera side)
    offset: float  #: the camera's height above the plane

    def height(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) camera-space points -> (...) heights above the plane."""
        return np.asarray(points) @ self.normal + self.offset


@dataclass(frozen=True)
class WorldFrame:
    """The motion placed in the world frame (module docstring). ``T`` frames.

    Attributes:
        focal: the real focal length assumed, frame pixels (:func:`prior_focal`).
        world_from_camera: (4, 4) OpenCV camera space -> world (y up, ground y = 0).
        rotation: (T, 3, 3) body frame -> world, per frame (``X_world = rotation X_body + translation``).
        translation: (T, 3) the root's world position, metres (foot locking included).
        contacts: (T, 2) bool, foot in contact with the ground, order :data:`FEET`.
        foot_offset: (T, 3) what foot locking and the ground added to the root's position (world).
    """

    focal: float
    world_from_camera: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray
    contacts: np.ndarray
    foot_offset: np.ndarray

    def __post_init__(self) -> None:
        t = len(self.translation)
        want = {"world_from_camera": (4, 4), "rotation": (t, 3, 3), "translation": (t, 3), "contacts": (t, 2),
                "foot_offset": (t, 3)}
        bad = [f"{k} must be {v}, got {np.shape(getattr(self, k))}" for k, v in want.items() if np.shape(getattr(self, k)) != v]
        if not bad and not (np.isfinite(self.focal) and self.focal > 0):
            bad.append(f"focal must be positive, got {self.focal}")
        if not bad and np.asarray(self.contacts).dtype != bool:
            bad.append("contacts must be bool")
        if bad:
            raise ValueError("WorldFrame: " + "; ".join(bad))

    @property
    def num_frames(self) -> int:
        return len(self.translation)

    @property
    def camera_position(self) -> np.ndarray:
        """(3,) the capture camera's world position (its y is its height above the ground)."""
        return np.asarray(self.world_from_camera, np.float64)[:3, 3]

    @property
    def camera_pitch(self) -> float:
        """Degrees the camera looks down (positive) or up from the horizontal."""
        forward = np.asarray(self.world_from_camera, np.float64)[:3, 2]  # the optical axis, +z of OpenCV
        return math.degrees(math.asin(float(np.clip(-forward[1], -1.0, 1.0))))

    def camera_rotation_gl(self) -> np.ndarray:
        """(3, 3) rotation of a glTF camera (looking down its -z, y up) placed like the capture camera."""
        return np.asarray(self.world_from_camera, np.float64)[:3, :3] @ CV_TO_GL

    def points(self, body_points: np.ndarray) -> np.ndarray:
        """(T, N, 3) body-frame points -> (T, N, 3) world points."""
        return self.points_at(slice(None), body_points)

    def points_at(self, frames: slice, body_points: np.ndarray) -> np.ndarray:
        """:meth:`points` for the frames ``frames`` only: (len, N, 3) -> (len, N, 3)."""
        rotation = np.asarray(self.rotation, np.float64)[frames]
        body_points = np.asarray(body_points, np.float64)
        if body_points.ndim != 3 or body_points.shape[0] != len(rotation) or body_points.shape[2] != 3:
            raise ValueError(f"points must be ({len(rotation)}, N, 3) for frames {frames}, got {body_points.shape}")
        # einsum legend: t frame, n point, i/j xyz
        return np.einsum("tij,tnj->tni", rotation, body_points) + np.asarray(self.translation, np.float64)[frames][:, None]

    def distance(self) -> np.ndarray:
        """(T,) the root's distance from the camera, metres."""
        return np.linalg.norm(np.asarray(self.translation, np.float64) - self.camera_position, axis=1)

    def project(self, body_points: np.ndarray, principal: np.ndarray) -> np.ndarray:
        """(T, N, 3) body-frame points -> (T, N, 2) pixels, seen through the exported camera (this
        frame's placement, the focal length :attr:`focal`, principal points (T, 2))."""
        world = self.points(body_points)
        m = np.asarray(self.world_from_camera, np.float64)
        x_cam = (world - m[:3, 3]) @ m[:3, :3]  # inverse of a rigid transform: R^T (x - t)
        t = self.num_frames
        cam = Camera(focal=torch.full((t,), float(self.focal), dtype=torch.float64),
                     rotation=torch.eye(3, dtype=torch.float64).expand(t, 3, 3), trans=torch.zeros(t, 2, dtype=torch.float64),
                     depth=torch.zeros(t, dtype=torch.float64), principal=torch.as_tensor(np.asarray(principal, np.float64)))
        return project_camera_space(torch.from_numpy(x_cam), cam).numpy()


def prior_focal(image_size: tuple[int, int], fov: float) -> float:
    """The focal length (pixels) of a camera whose field of view across the longer side of a
    ``image_size`` (W, H) frame is ``fov`` degrees: ``(max(W, H) / 2) / tan(fov / 2)``."""
    return 0.5 * max(image_size) / math.tan(math.radians(fov) / 2.0)


def metric_root_translation(camera: np.ndarray, focal: float) -> np.ndarray:
    """(T, 9) Eq. 3 cameras (network focal ``f_t`` at depth ``d_t``) -> (T, 3) the root in camera
    space for a camera of focal length ``focal``: ``(Tx, Ty, d_t * focal / f_t)``.

    The body keeps its metric size, so its apparent size ``f_t / d_t`` fixes the new depth
    ``Z_t = d_t focal / f_t``; its root pixel ``f_t Tx / d_t = focal X / Z_t`` then gives ``X = Tx``
    (and ``Y = Ty``). Only the perspective within the body changes (``docs/exports.md``)."""
    camera = np.asarray(camera, np.float64)
    if camera.ndim != 2 or camera.shape[1] != 9:
        raise ValueError(f"camera must be (T, 9), got {camera.shape}")
    if not focal > 0:
        raise ValueError(f"focal must be positive, got {focal}")
    depth = camera[:, 6] * focal / camera[:, 0]
    return np.concatenate([camera[:, 4:6], depth[:, None]], axis=1)


def fit_ground(points: np.ndarray, weights: np.ndarray, prior_normal: np.ndarray, *, prior_spread: float = 0.05,
               iterations: int = 5) -> GroundPlane:
    """A robust plane through (N, 3) camera-space ``points`` (the lowest points of planted feet).

    Minimises ``sum_i w_i (n . p_i + c)^2 + W prior_spread^2 |n_perp|^2`` over unit ``n``, where
    ``n_perp`` is ``n``'s part orthogonal to ``prior_normal`` and ``W = sum_i w_i``: points spread
    over much more than ``prior_spread`` metres decide the tilt, a foot planted on one spot
    leaves it to the prior. Points more than 3 robust sigmas (at least 2 cm) off the plane are
    dropped and the fit repeated ``iterations`` times. ``n`` points to ``prior_normal``'s side."""
    points = np.asarray(points, np.float64)
    weights = np.asarray(weights, np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or weights.shape != (len(points),) or not (weights > 0).any():
        raise ValueError(f"need points (N, 3) and weights (N,) with some positive, got {points.shape}, {weights.shape}")
    n0 = np.asarray(prior_normal, np.float64)
    n0 = n0 / np.linalg.norm(n0)
    w = weights.copy()
    for _ in range(iterations):
        total = w.sum()
        centre = (w[:, None] * points).sum(0) / total
        d = points - centre
        scatter = np.einsum("n,ni,nj->ij", w, d, d) / total + prior_spread**2 * (np.eye(3) - np.outer(n0, n0))
        normal = np.linalg.eigh(scatter)[1][:, 0]
        normal = normal if normal @ n0 >= 0 else -normal
        offset = -float(normal @ centre)
        residual = points @ normal + offset
        kept = weights > 0
        sigma = 1.4826 * np.median(np.abs(residual[kept] - np.median(residual[kept])))
        new = np.where(np.abs(residual) <= max(3.0 * sigma, 0.02), weights, 0.0)
        if not (new > 0).any() or np.array_equal(new > 0, w > 0):
            break
        w = new
    return GroundPlane(normal=normal, offset=offset)


def lowest_foot_points(feet: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """(T, F, N, 3) camera-space surface points of F feet -> (T, F, 3) each foot's lowest point
    along the up direction ``normal`` (3,)."""
    feet = np.asarray(feet, np.float64)
    idx = np.argmin(feet @ np.asarray(normal, np.float64), axis=2)  # (T, F)
    return np.take_along_axis(feet, idx[..., None, None], axis=2)[:, :, 0]


def contact_patch_steps(feet: np.ndarray, normal: np.ndarray, softness: float = 0.01) -> np.ndarray:
    """(T, F, N, 3) surface points of F feet -> (T-1, F, 3) how far each foot's *contact patch*
    moved from frame t-1 to t: the mean displacement of its points, each weighted by
    ``exp(-max(h(t-1), h(t)) / softness)`` with ``h`` its height above the foot's lowest point
    along ``normal``. These are material points, so a foot rolling from heel to toe on the ground
    moves ~0 (its contact point moves, no point of the sole slides); a foot in the air moves."""
    feet = np.asarray(feet, np.float64)
    heights = feet @ np.asarray(normal, np.float64)  # (T, F, N)
    heights = heights - heights.min(2, keepdims=True)
    weight = np.exp(-np.maximum(heights[1:], heights[:-1]) / softness)
    weight /= weight.sum(2, keepdims=True)
    return np.einsum("tfn,tfni->tfi", weight, np.diff(feet, axis=0))


def foot_speed(steps: np.ndarray, fps: float, window: float = 0.1) -> np.ndarray:
    """(T-1, F, 3) per-frame steps (:func:`contact_patch_steps`) -> (T, F) speed in m/s over the
    frames ``t-k .. t+k``, ``k = max(1, round(window * fps / 2))`` (clipped at the ends; zero for
    one frame): the norm of the summed steps over the elapsed time."""
    steps = np.asarray(steps, np.float64)
    t = len(steps) + 1
    if t < 2:
        return np.zeros((1, steps.shape[1]))
    k = max(1, round(window * fps / 2))
    path = np.concatenate([np.zeros((1,) + steps.shape[1:]), np.cumsum(steps, axis=0)])  # (T, F, 3)
    idx = np.arange(t)
    a, b = np.clip(idx - k, 0, t - 1), np.clip(idx + k, 0, t - 1)
    return np.linalg.norm(path[b] - path[a], axis=-1) * fps / (b - a)[:, None]


def foot_contacts(height: np.ndarray, speed: np.ndarray, options: WorldOptions) -> np.ndarray:
    """(T, F) heights (m) and speeds (m/s) -> (T, F) bool contact labels with hysteresis: a foot
    lands when it is below ``contact_height`` and slower than ``contact_speed``, and lifts off
    when its height or speed exceeds ``contact_release`` times those."""
    height, speed = np.asarray(height, np.float64), np.asarray(speed, np.float64)
    if height.shape != speed.shape or height.ndim != 2:
        raise ValueError(f"height and speed must both be (T, F), got {height.shape}, {speed.shape}")
    land = (height < options.contact_height) & (speed < options.contact_speed)
    stay = (height < options.contact_release * options.contact_height) & (speed < options.contact_release * options.contact_speed)
    out = np.zeros(height.shape, bool)
    state = land[0]
    for t in range(len(height)):  # sequential by nature: a label depends on the previous one
        state = np.where(state, stay[t], land[t])
        out[t] = state
    return out


def world_from_camera(ground: GroundPlane) -> np.ndarray:
    """(4, 4) OpenCV camera space -> world: y along the ground's normal, -z the camera's optical
    axis projected on the ground (the camera only pitches), x = y cross z (the image's right),
    the ground at y = 0 and the camera above the world origin."""
    up = ground.normal / np.linalg.norm(ground.normal)
    forward = np.array([0.0, 0.0, 1.0]) - up[2] * up
    if np.linalg.norm(forward) < 1e-6:  # looking straight down: keep the image's up as the world's -z
        forward = np.array([0.0, -1.0, 0.0]) - up[1] * up
    forward /= np.linalg.norm(forward)
    z = -forward
    x = np.cross(up, z)
    m = np.eye(4)
    m[:3, :3] = np.stack([x, up, z])
    m[:3, 3] = (0.0, ground.offset, 0.0)
    return m


def foot_lock_offsets(steps: np.ndarray, lowest: np.ndarray, contacts: np.ndarray, fps: float,
                      options: WorldOptions) -> np.ndarray:
    """(T, 3) world offsets of the root that keep planted feet still and on the ground.

    Args:
        steps: (T-1, F, 3) world displacement of each foot's contact patch (:func:`contact_patch_steps`).
        lowest: (T, F) world height of each foot's lowest point.
        contacts: (T, F) bool.
    Horizontal (x, z): ``o_t = a (o_{t-1} - sum_f w_f s_f(t))`` over the feet planted at both t-1
    and t, the stiller one bearing the weight (``w_f`` proportional to ``1 / (|s_f|^2 + 1 mm^2)``,
    summing to 1), ``a = exp(-1 / (lock_time_constant * fps))``: one planted foot stays still up
    to the decay's ``(1 - a) |o|`` per frame. Vertical: at frames with
    contact the lowest planted foot is put on y = 0, linearly interpolated in between (held at the
    ends); then every frame is lifted so that its lowest foot point is not below y = 0.
    """
    steps, lowest, contacts = np.asarray(steps, np.float64), np.asarray(lowest, np.float64), np.asarray(contacts, bool)
    t = len(lowest)
    offset = np.zeros((t, 3))
    if options.foot_lock:
        decay = math.exp(-1.0 / (options.lock_time_constant * fps))
        both = contacts[1:] & contacts[:-1]  # (T-1, F)
        moved = steps
        # the stiller planted foot bears the weight: 1 / (its horizontal step^2 + (1 mm)^2)
        weight = both / (np.square(moved[..., [0, 2]]).sum(-1) + 1e-6)
        total = weight.sum(1, keepdims=True)
        weight = np.where(total > 0, weight / np.where(total > 0, total, 1.0), 0.0)
        step = -(weight[..., None] * moved).sum(1)  # (T-1, 3)
        for i in range(1, t):  # a leaky running sum: sequential
            offset[i, [0, 2]] = decay * (offset[i - 1, [0, 2]] + step[i - 1, [0, 2]])
        planted = contacts.any(1)
        if planted.any():
            ground = np.where(contacts, lowest, np.inf).min(1)
            idx = np.flatnonzero(planted)
            offset[:, 1] = np.interp(np.arange(t), idx, -ground[idx])
    offset[:, 1] += np.maximum(0.0, -(lowest.min(1) + offset[:, 1]))
    return offset


def _foot_vertex_indices(body) -> list[np.ndarray]:
    """Per foot, the vertices dominated by the foot joint's subtree (the foot's surface)."""
    weights = body.skinning_weights().detach().cpu().numpy()
    dominant = weights.argmax(1)
    parents = list(body.joint_parents)
    out = []
    for foot in FEET:
        root = list(body.joint_names).index(FOOT_JOINTS[foot])
        subtree = {root}
        for c, p in enumerate(parents):  # parents come before children
            if p in subtree:
                subtree.add(c)
        out.append(np.flatnonzero(np.isin(dominant, sorted(subtree))))
    return out


def estimate_world(rotation: np.ndarray, root: np.ndarray, feet: np.ndarray, fps: float, focal: float,
                   options: WorldOptions) -> WorldFrame:
    """The world frame from camera-space quantities (module docstring, steps 1-4).

    Args:
        rotation: (T, 3, 3) body frame -> camera (Eq. 3's R).
        root: (T, 3) metric root in camera space (:func:`metric_root_translation`).
        feet: (T, F, N, 3) body-frame surface points of each foot.
        fps: frames per second; focal: the focal length assumed (pixels).
    """
    rotation, root = np.asarray(rotation, np.float64), np.asarray(root, np.float64)
    t = len(root)
    # einsum legend: t frame, f foot, n point, i/j xyz
    feet_cam = np.einsum("tij,tfnj->tfni", rotation, np.asarray(feet, np.float64)) + root[:, None, None]
    up = -rotation[:, :, 1].mean(0)  # the body's up (body y is down), a prior for the ground's normal
    up = up / np.linalg.norm(up) if np.linalg.norm(up) > 1e-6 else np.array([0.0, -1.0, 0.0])
    ground = None
    contacts = None
    for _ in range(3):  # contacts <-> plane
        normal = up if ground is None else ground.normal
        lowest = lowest_foot_points(feet_cam, normal)  # (T, F, 3)
        if contacts is None or not contacts.any():
            heights = lowest @ normal
            use = heights <= heights.min(1, keepdims=True)  # the lower foot of every frame
        else:
            use = contacts
        ground = fit_ground(lowest[use], np.ones(int(use.sum())), up)
        steps = contact_patch_steps(feet_cam, ground.normal)
        speed = foot_speed(steps, fps)
        contacts = foot_contacts(ground.height(lowest), speed, options)
    m = world_from_camera(ground)
    rot_w = m[:3, :3]
    rotation_world = np.einsum("ij,tjk->tik", rot_w, rotation)
    root_world = root @ rot_w.T + m[:3, 3]
    lowest_height = ground.height(lowest_foot_points(feet_cam, ground.normal))
    offset = foot_lock_offsets(steps @ rot_w.T, lowest_height, contacts, fps, options)
    return WorldFrame(focal=float(focal), world_from_camera=m, rotation=rotation_world, translation=root_world + offset,
                      contacts=contacts, foot_offset=offset)


def place_in_world(motion: "CapturedMotion", body, options: WorldOptions = WorldOptions(), *, batch: int = 64) -> WorldFrame:
    """:func:`estimate_world` for a captured motion: runs ``body`` over its frames (``batch`` at a
    time) for the feet; the focal length is :func:`prior_focal` of ``options.fov``."""
    if motion.body_model != body.name:
        raise ValueError(f"motion is for body model {motion.body_model!r}, got {body.name!r}")
    focal = prior_focal(motion.image_size, options.fov)
    cams = motion.cameras(torch.float64)
    foot_idx = _foot_vertex_indices(body)
    size = min(len(i) for i in foot_idx)
    if size == 0:
        raise ValueError(f"body model {body.name!r}: no vertex is dominated by a foot joint")
    # the same number of points per foot (batched arrays): an even subsample of the larger one
    foot_idx = [i[np.linspace(0, len(i) - 1, size).round().astype(int)] for i in foot_idx]
    dtype = body.default_shape.dtype
    shape = torch.as_tensor(np.asarray(motion.shape), dtype=dtype)[None]
    feet = []
    with torch.no_grad():
        for start in range(0, motion.num_frames, batch):
            verts = body(torch.as_tensor(np.asarray(motion.pose[start:start + batch]), dtype=dtype), shape).vertices
            feet.append(np.stack([verts[:, i].double().numpy() for i in foot_idx], axis=1))
    return estimate_world(cams.rotation.numpy(), metric_root_translation(motion.camera, focal), np.concatenate(feet),
                          motion.fps, focal, options)


def reprojection_shift(motion: "CapturedMotion", world: WorldFrame) -> np.ndarray:
    """(T,) mean pixel distance between the keypoints projected through the Eq. 3 cameras (what the
    overlay and the 2D scores use) and through the exported camera in the world frame."""
    principal = np.asarray(motion.camera, np.float64)[:, 7:9]
    seen = world.project(motion.keypoints3d, principal)
    return np.linalg.norm(seen - np.asarray(motion.keypoints2d, np.float64), axis=-1).mean(1)


def world_summary(motion: "CapturedMotion", world: WorldFrame) -> dict:
    """Numbers for ``run.json`` and the report: the prior, the camera, the distance, contacts, the
    foot-locking correction and how far the world frame moves the keypoints in the image."""
    shift = reprojection_shift(motion, world)
    distance = world.distance()
    offset = np.linalg.norm(world.foot_offset, axis=1)
    return {
        "focal_px": round(world.focal, 2),
        "camera_height_m": round(float(world.camera_position[1]), 3),
        "camera_pitch_deg": round(world.camera_pitch, 2),
        "distance_m": {"min": round(float(distance.min()), 3), "median": round(float(np.median(distance)), 3),
                       "max": round(float(distance.max()), 3)},
        "contact_fraction": {f: round(float(world.contacts[:, i].mean()), 3) for i, f in enumerate(FEET)},
        "foot_offset_mm": {"mean": round(float(offset.mean() * 1000), 1), "max": round(float(offset.max() * 1000), 1)},
        "reprojection_shift_px": {"mean": round(float(shift.mean()), 3), "p95": round(float(np.percentile(shift, 95)), 3),
                                  "max": round(float(shift.max()), 3)},
    }
