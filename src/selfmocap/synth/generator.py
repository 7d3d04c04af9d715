"""One synthetic clip: sample a scene, pose the body, ray cast every frame, write ground truth.

The per-frame work is timed by stage (:class:`StageTimer`) for ``benchmarks/bench_synth.py``.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import roma
import torch

from selfmocap.body.model import BodyModel, BodyOutput
from selfmocap.body.retarget import motion_pose_for_body
from selfmocap.data.clip import ClipWriter
from selfmocap.data.records import ClipLabels, ClipMeta
from selfmocap.geometry.camera import Camera, project_camera_space, to_camera_space
from selfmocap.render import Fragments, RayCaster, SurfaceLayout, rasterize, sample_appearance, sample_light, shade
from selfmocap.synth.backgrounds import sample_background
from selfmocap.cues.degrade import background_subtraction_mask
from selfmocap.synth.motion import Motion, MotionSource, ProceduralMotion, fit_root_to_body
from selfmocap.synth.splits import SPEC, clip_rng, sample_body_shape

#: A keypoint counts as occluded when the rendered surface at its pixel is this much closer (m).
KEYPOINT_OCCLUSION_TOLERANCE = 0.10
#: A flow target counts as visible in t+1 when its depth matches the t+1 render within this (m).
FLOW_VISIBILITY_TOLERANCE = 0.02
#: Fraction of the half frame the person may fill at most, over the whole clip.
FRAME_FILL = 0.9


@dataclass
class StageTimer:
    """Accumulated seconds per named stage."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start


@dataclass(frozen=True)
class ClipScene:
    """Everything sampled for one clip before rendering."""

    shape: np.ndarray  #: (S,) the body model's shape
    motion: Motion  #: on Anny's bones (``synth/motion.py``)
    pose: np.ndarray  #: (T, J, 3) the motion's pose for the body model (``body/retarget.py``)
    camera: np.ndarray  #: (T, 9) full-frame Eq. 3 cameras
    background: np.ndarray  #: (H, W, 3) uint8
    background_name: str


def sample_scene(
    rng: np.random.Generator,
    split: str,
    body: BodyModel,
    num_frames: int,
    size: int,
    fps: float,
    motion_source: MotionSource | None = None,
) -> tuple[ClipScene, BodyOutput]:
    """Sample subject, motion, camera and background; return the scene and the posed body."""
    spec = SPEC[split]
    shape = sample_body_shape(rng, spec, body)
    source = motion_source or ProceduralMotion(spec.families)
    motion = source.sample(rng, num_frames, fps)
    pose = motion_pose_for_body(motion.pose, body)  # Anny's bones -> the body's joints, by name
    with torch.no_grad():
        rest = body(torch.zeros(1, body.num_pose_joints, 3), torch.from_numpy(shape)[None])
        # strides and sinking scale with this subject's legs, so the feet stay planted
        motion = fit_root_to_body(motion, float(rest.keypoints[0, 15:, 1].max()))
        out = body(torch.from_numpy(pose), torch.from_numpy(shape)[None])
    focal = size * rng.uniform(*spec.focal_factor)
    elevation = math.radians(rng.uniform(*spec.elevation))
    azimuth = rng.uniform(-math.pi, math.pi)
    view = roma.euler_to_rotmat("XYZ", torch.tensor([elevation, azimuth, 0.0]))
    rot = view @ roma.rotvec_to_rotmat(torch.from_numpy(motion.root_orient))  # (T, 3, 3)
    root = torch.from_numpy(motion.root_trans) @ view.T  # (T, 3) root path, camera axes
    # Points of the whole clip relative to the path's centre, in camera axes.
    centre = (root.amax(0) + root.amin(0)) / 2
    points = torch.einsum("tij,tnj->tni", rot, out.keypoints) + (root - centre)[:, None]
    half = FRAME_FILL * size / 2 / focal  # tan of the usable half field of view
    needed = (points[..., :2].abs() / half - points[..., 2:]).amax().item()  # depth fitting all
    distance = max(rng.uniform(*spec.distance), needed + 0.5)
    slack = torch.clamp(half * (distance + points[..., 2:]) - points[..., :2].abs(), min=0).amin(dim=(0, 1))
    offset = torch.from_numpy(rng.uniform(-1, 1, size=2)).float() * 0.5 * slack
    trans = root - centre + torch.tensor([offset[0], offset[1], distance])
    camera = Camera(
        focal=torch.full((num_frames,), focal),
        rotation=rot,
        trans=trans[:, :2],
        depth=trans[:, 2],
        principal=torch.full((num_frames, 2), size / 2),
    )
    background, background_name = sample_background(rng, split, (size, size))
    scene = ClipScene(shape, motion, pose, camera.as_array().float().numpy(), background, background_name)
    return scene, out


def _sample_pixels(image: np.ndarray, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-pixel values of ``image`` (H, W[, C]) at continuous ``uv`` (N, 2); inside flags."""
    h, w = image.shape[:2]
    col, row = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
    inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    values = image[np.clip(row, 0, h - 1), np.clip(col, 0, w - 1)]
    return values, inside


def keypoint_visibility(uv: np.ndarray, z: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(K,) visibility: inside the frame and not hidden behind the rendered surface."""
    surface, inside = _sample_pixels(depth, uv)
    hidden = (surface > 0) & (surface < z - KEYPOINT_OCCLUSION_TOLERANCE)
    return inside & ~hidden


def correspondence_flow(
    frag: Fragments, faces: np.ndarray, next_vertices: np.ndarray, next_depth: np.ndarray, focal: float, principal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Forward flow t -> t+1 from surface correspondences.

    Each person pixel's surface point (face id + barycentrics at t) is carried to the same face
    and barycentrics in t+1 and projected; background pixels do not move (static camera).

    Returns:
        flow: (H, W, 2) float32 pixels; valid: (H, W) bool, the point is visible in t+1.
    """
    h, w = frag.face_id.shape
    flow = np.zeros((h, w, 2), np.float32)
    rows, cols = np.nonzero(frag.mask)
    corners = next_vertices[faces[frag.face_id[rows, cols]]]  # (N, 3, 3)
    moved = np.einsum("nc,ncd->nd", frag.bary[rows, cols], corners)  # n pixels, c corners, d xyz
    uv = focal * moved[:, :2] / moved[:, 2:] + principal
    flow[rows, cols] = uv - np.stack([cols + 0.5, rows + 0.5], axis=1)
    surface, inside = _sample_pixels(next_depth, uv)
    valid = next_depth == 0  # background stays background
    valid[rows, cols] = inside & (np.abs(surface - moved[:, 2]) < FLOW_VISIBILITY_TOLERANCE)
    return flow, valid


_LAYOUTS: dict[int, SurfaceLayout] = {}


def _surface_layout(body: BodyModel) -> SurfaceLayout:
    """The body's texture layout (body parts, UVs), computed once per body model."""
    if id(body) not in _LAYOUTS:
        _LAYOUTS[id(body)] = SurfaceLayout.from_body(body)
    return _LAYOUTS[id(body)]


def render_clip(
    out_dir: Path,
    clip_id: str,
    split: str,
    seed: int,
    index: int,
    body: BodyModel,
    num_frames: int,
    size: int,
    fps: float = 30.0,
    motion_source: MotionSource | None = None,
    preview: bool = False,
    timer: StageTimer | None = None,
) -> Path:
    """Render and write clip ``index`` of ``split``; returns its folder. Deterministic in
    (seed, split, index)."""
    timer = timer or StageTimer()
    rng = clip_rng(seed, split, index)
    spec = SPEC[split]
    with timer("body model"):
        scene, posed = sample_scene(rng, split, body, num_frames, size, fps, motion_source)
        camera = Camera.from_array(torch.from_numpy(scene.camera).double())
        verts_cam = to_camera_space(posed.vertices.double(), camera).float().numpy()
        kp_cam = to_camera_space(posed.keypoints.double(), camera).float().numpy()
        kp_uv = project_camera_space(torch.from_numpy(kp_cam).double(), camera).float().numpy()
    faces = body.faces.numpy().astype(np.int64)
    appearance = sample_appearance(rng, _surface_layout(body), spec.palette)
    light = sample_light(rng, spec.light_palette)
    focal, principal = float(scene.camera[0, 0]), scene.camera[0, 7:9].astype(np.float32)
    writer = ClipWriter(out_dir, clip_id)
    depth = np.zeros((num_frames, size, size), np.float32)
    flow = np.zeros((max(num_frames - 1, 0), size, size, 2), np.float32)
    flow_valid = np.zeros((max(num_frames - 1, 0), size, size), bool)
    kp2d = np.zeros((num_frames, kp_uv.shape[1], 3), np.float32)
    frags: list[Fragments] = []
    for t in range(num_frames):
        with timer("scene build"):
            caster = RayCaster(verts_cam[t], faces)
        with timer("rays"):
            frags.append(rasterize(verts_cam[t], faces, focal, principal, size, size, caster=caster))
            depth[t] = frags[t].depth
    for t in range(num_frames):
        frag = frags[t]
        with timer("shading"):
            rgb = shade(frag, verts_cam[t], faces, appearance, light, scene.background)
            input_mask = (
                background_subtraction_mask(rgb, scene.background, frag.mask, rng) if spec.degraded_mask else None
            )
        with timer("keypoints+flow"):
            vis = keypoint_visibility(kp_uv[t], kp_cam[t, :, 2], depth[t])
            kp2d[t] = np.concatenate([kp_uv[t], vis[:, None].astype(np.float32)], axis=1)
            if t + 1 < num_frames:
                flow[t], flow_valid[t] = correspondence_flow(frag, faces, verts_cam[t + 1], depth[t + 1], focal, principal)
        with timer("io"):
            writer.write_frame(t, rgb, frag.mask, input_mask)
    labels = ClipLabels(
        pose=scene.pose.astype(np.float32),
        shape=scene.shape,
        camera=scene.camera.astype(np.float32),
        keypoints2d=kp2d,
        keypoints3d=posed.keypoints.float().numpy(),
        joints3d=posed.joints.float().numpy(),
    )
    meta = ClipMeta(
        clip_id=clip_id,
        split=split,
        seed=seed,
        num_frames=num_frames,
        fps=fps,
        width=size,
        height=size,
        body_model=body.name,
        motion_family=scene.motion.family,
        background=scene.background_name,
        palette=spec.palette,
        degraded_mask=spec.degraded_mask,
        gender=getattr(body, "gender", "neutral"),
        motion_window=scene.motion.window,
    )
    with timer("io"):
        writer.write_clip(meta, labels, depth, flow, flow_valid)
        if preview:
            from selfmocap.synth.preview import write_preview

            write_preview(writer.tmp, writer.tmp / "preview.png")
        return writer.commit()
