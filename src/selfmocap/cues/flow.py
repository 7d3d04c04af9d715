"""Optical flow between RGB frames, the input of the motion re-projection loss (section 3.1).

The paper uses FlowNet 2.0; we use OpenCV's DIS (Dense Inverse Search, Kroeger et al., ECCV
2016): no weights to download, a few milliseconds for a 128 px pair on one CPU core.

Convention (the same as the synthetic ground truth, ``docs/dataset.md``): forward flow t -> t+1
in pixels, stored at pixel centres, ``I_t(p) ~ I_{t+1}(p + flow(p))``; ``flow[..., 0]`` is the
x (column) displacement, ``flow[..., 1]`` the y (row) one.

Parameters (chosen on textured synthetic pairs of 128 to 512 px, ``docs/losses.md``): the
MEDIUM preset with ``finest_scale = 0`` (OpenCV's MEDIUM stops at half resolution and
upsamples, which blurs motion boundaries and thin limbs at 128 px; full resolution halves the
endpoint error for about 5x the time) and ``patch_stride = 4`` (as accurate as the preset's 3
here, and faster). The coarsest pyramid level follows the image size (OpenCV chooses it), so
motions of a few percent of the frame side are recovered.
"""

from __future__ import annotations

import cv2
import numpy as np

from selfmocap.cues.config import FlowConfig

def _gray(frame: np.ndarray, name: str) -> np.ndarray:
    """(H, W, 3) RGB or (H, W) uint8 -> contiguous (H, W) uint8 grey."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8, got {frame.dtype}")
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    raise ValueError(f"{name} must be (H, W, 3) RGB or (H, W) grey, got {frame.shape}")


def estimate_flow(
    frame_t: np.ndarray, frame_t1: np.ndarray, config: FlowConfig | None = None, *, dis: cv2.DISOpticalFlow | None = None
) -> np.ndarray:
    """Forward optical flow from frame t to frame t+1 with OpenCV DIS.

    Args:
        frame_t, frame_t1: (H, W, 3) RGB or (H, W) grey uint8 frames of the same size.
        config: DIS settings (default :class:`FlowConfig`).
        dis: a DIS instance from ``config.create()`` to reuse (``config`` is then ignored).

    Returns:
        (H, W, 2) float32 flow in pixels, ``I_t(p) ~ I_{t+1}(p + flow(p))``.
    """
    a, b = _gray(frame_t, "frame_t"), _gray(frame_t1, "frame_t1")
    if a.shape != b.shape:
        raise ValueError(f"frames differ in size: {a.shape} vs {b.shape}")
    dis = dis or (config or FlowConfig()).create()
    return dis.calc(a, b, None).astype(np.float32)


def flow_consistency(forward: np.ndarray, backward: np.ndarray, alpha: float = 0.01, beta: float = 0.5) -> np.ndarray:
    """(H, W) bool: the forward-backward check of Sundaram et al. (ECCV 2010).

    With ``w = forward(p)`` and ``w' = backward(p + w)`` (bilinear), ``p`` is consistent when
    ``|w + w'|^2 < alpha (|w|^2 + |w'|^2) + beta`` and ``p + w`` lies inside the frame; it
    fails at occlusions (the point is hidden in t+1) and where either flow is wrong.

    Args:
        forward: (H, W, 2) flow t -> t+1; backward: (H, W, 2) flow t+1 -> t.
    """
    if forward.ndim != 3 or forward.shape[2] != 2 or backward.shape != forward.shape:
        raise ValueError(f"forward and backward must both be (H, W, 2), got {forward.shape} and {backward.shape}")
    h, w = forward.shape[:2]
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    # p + w in OpenCV's index convention (pixel centres at integers): continuous minus 0.5
    map_x, map_y = cols + forward[..., 0], rows + forward[..., 1]
    back = cv2.remap(backward.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (map_x >= -0.5) & (map_x <= w - 0.5) & (map_y >= -0.5) & (map_y <= h - 0.5)
    residual = ((forward + back) ** 2).sum(-1)
    tolerance = alpha * ((forward**2).sum(-1) + (back**2).sum(-1)) + beta
    return inside & (residual < tolerance)


def estimate_clip_flow(frames: np.ndarray, config: FlowConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Forward flow between consecutive frames of a clip, in the layout of ``Clip.flow()``.

    Args:
        frames: (T, H, W, 3) RGB or (T, H, W) grey uint8 frames, T >= 1.
        config: DIS and consistency settings (default :class:`FlowConfig`).

    Returns:
        flow (T-1, H, W, 2) float32 forward flow t -> t+1 in pixels, and valid (T-1, H, W) bool:
        the forward-backward check (:func:`flow_consistency`), or all true when it is off.
    """
    frames = np.asarray(frames)
    if frames.ndim not in (3, 4) or len(frames) < 1:
        raise ValueError(f"frames must be (T, H, W, 3) or (T, H, W) with T >= 1, got {frames.shape}")
    config = config or FlowConfig()
    dis = config.create()
    grey = [_gray(f, f"frames[{t}]") for t, f in enumerate(frames)]
    h, w = grey[0].shape
    flow = np.zeros((len(grey) - 1, h, w, 2), np.float32)
    valid = np.ones((len(grey) - 1, h, w), bool)
    for t in range(len(grey) - 1):
        flow[t] = estimate_flow(grey[t], grey[t + 1], dis=dis)
        if config.consistency_check:
            backward = estimate_flow(grey[t + 1], grey[t], dis=dis)
            valid[t] = flow_consistency(flow[t], backward, config.consistency_alpha, config.consistency_beta)
    return flow, valid
