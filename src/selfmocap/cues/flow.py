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


def pair_flow(
    frames, gap: int = 1, config: FlowConfig | None = None, *, progress: str | None = None, threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Forward flow t -> t + ``gap`` for every frame pair of a clip, in the layout of ``Clip.flow()``
    (``gap = 1``) and of capture's segments.

    Args:
        frames: (T, H, W, 3) RGB or (T, H, W) grey uint8 frames (an array or a list), T >= 1.
        gap: frames between the two of a pair (>= 1).
        config: DIS and consistency settings (default :class:`FlowConfig`).
        progress: the name of a progress bar (None: no bar).
        threads: pairs computed at once, each thread with its own DIS instance (OpenCV releases the
            GIL). A DIS call keeps no state between pairs, so the result does not depend on it.

    Returns:
        flow (T - gap, H, W, 2) float32 in pixels (none when T <= gap), and valid (T - gap, H, W)
        bool: the forward-backward check (:func:`flow_consistency`), or all true when it is off.
    """
    from concurrent.futures import ThreadPoolExecutor
    from threading import Lock

    from tqdm import tqdm

    if len(frames) < 1 or np.ndim(frames[0]) not in (2, 3):
        raise ValueError(f"frames must be (T, H, W, 3) or (T, H, W) with T >= 1, got {np.shape(frames)}")
    if gap < 1:
        raise ValueError(f"gap must be >= 1, got {gap}")
    config = config or FlowConfig()
    grey = [_gray(f, f"frames[{t}]") for t, f in enumerate(frames)]
    h, w = grey[0].shape
    pairs = max(len(grey) - gap, 0)
    flow = np.zeros((pairs, h, w, 2), np.float32)
    valid = np.ones((pairs, h, w), bool)
    bar = tqdm(total=pairs, desc=progress, disable=progress is None or pairs == 0, unit="pair")
    lock = Lock()

    def run(chunk: range) -> None:
        dis = config.create()
        for t in chunk:
            flow[t] = estimate_flow(grey[t], grey[t + gap], dis=dis)
            if config.consistency_check:
                backward = estimate_flow(grey[t + gap], grey[t], dis=dis)
                valid[t] = flow_consistency(flow[t], backward, config.consistency_alpha, config.consistency_beta)
            with lock:
                bar.update(1)

    threads = max(1, min(threads, pairs))
    if threads == 1:
        run(range(pairs))
    else:
        bounds = np.linspace(0, pairs, threads + 1).round().astype(int)
        chunks = [range(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        # one single-threaded DIS per worker: OpenCV's own pool under each would oversubscribe the
        # cores (benchmarks/bench_flow.py, juggle at 480x270 on 2 cores: 90.5 ms a pair with one DIS
        # on OpenCV's pool, 67.5 with two single-threaded workers)
        opencv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(run, chunks))
        finally:
            cv2.setNumThreads(opencv_threads)
    bar.close()
    return flow, valid
