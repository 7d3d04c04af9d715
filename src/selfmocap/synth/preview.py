"""Contact sheet of a clip: RGB, silhouette, 2D keypoints, flow colour coding, depth."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from selfmocap.body.names import KEYPOINT_EDGES
from selfmocap.data.clip import Clip
from selfmocap.io import atomic_path


def flow_to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """(H, W, 2) flow -> (H, W, 3) uint8 RGB with the usual hue = direction, value = magnitude."""
    mag, ang = cv2.cartToPolar(flow[..., 0].astype(np.float32), flow[..., 1].astype(np.float32))
    scale = max_magnitude or max(float(mag.max()), 1e-6)
    hsv = np.zeros(flow.shape[:2] + (3,), np.uint8)
    hsv[..., 0] = (ang * 90 / np.pi).astype(np.uint8)
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(mag / scale * 255, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def depth_to_color(depth: np.ndarray) -> np.ndarray:
    """(H, W) metres (0 = background) -> (H, W, 3) uint8, near = bright."""
    out = np.zeros(depth.shape + (3,), np.uint8)
    fg = depth > 0
    if fg.any():
        lo, hi = depth[fg].min(), depth[fg].max()
        norm = 1 - (depth - lo) / max(hi - lo, 1e-6)
        colored = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
        out[fg] = cv2.cvtColor(colored, cv2.COLOR_BGR2RGB)[fg]
    return out


def draw_keypoints(image: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """Skeleton over ``image``: (K, 3) u, v, visibility; visible green, occluded red."""
    out = image.copy()
    scale = max(image.shape[0] / 256, 1.0)
    pts = [(int(round(u)), int(round(v))) for u, v, _ in keypoints]
    for a, b in KEYPOINT_EDGES:
        cv2.line(out, pts[a], pts[b], (255, 255, 255), max(1, int(scale)), cv2.LINE_AA)
    for (u, v), vis in zip(pts, keypoints[:, 2]):
        cv2.circle(out, (u, v), max(2, int(2 * scale)), (0, 220, 0) if vis > 0.5 else (230, 0, 0), -1, cv2.LINE_AA)
    return out


def _label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def write_preview(clip_dir: str | Path, out_path: str | Path, num_rows: int = 4) -> Path:
    """Write the contact sheet of the clip in ``clip_dir``: one row per sampled frame."""
    clip = Clip(clip_dir)
    n = len(clip)
    depth = clip.depth()
    flow, _ = clip.flow()
    frames = np.unique(np.linspace(0, max(n - 2, 0), num_rows).round().astype(int))
    max_flow = float(np.linalg.norm(flow, axis=-1).max()) if len(flow) else 1.0
    rows = []
    for t in frames:
        rgb = clip.rgb(t)
        mask = np.repeat((clip.input_mask(t)[..., None] * 255).astype(np.uint8), 3, axis=2)
        contours, _ = cv2.findContours(clip.mask(t).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(mask, contours, -1, (255, 60, 60), 1)
        f = flow[t] if t < len(flow) else np.zeros(rgb.shape[:2] + (2,), np.float32)
        tiles = [
            _label(rgb, f"t={t} rgb"),
            _label(mask, "mask given (red: true)"),
            _label(draw_keypoints(rgb, clip.labels.keypoints2d[t]), "2D keypoints"),
            _label(flow_to_color(f, max_flow), f"flow t->t+1 (max {max_flow:.1f}px)"),
            _label(depth_to_color(depth[t]), "depth"),
        ]
        rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    title = np.full((22, sheet.shape[1], 3), 255, np.uint8)
    meta = clip.meta
    window = meta.motion_window
    source = f" frames {window.first_frame}-{window.last_frame:g} @{window.source_fps:g}" if window else ""
    cv2.putText(
        title,
        f"{meta.clip_id}  split={meta.split}  motion={meta.motion_family}{source}  bg={meta.background}  {meta.width}px {meta.fps:g}fps",
        (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA,
    )
    sheet = np.concatenate([title, sheet], axis=0)
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {out_path}")
    return out_path
