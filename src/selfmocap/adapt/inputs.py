"""What a self-supervised method may see of a clip: RGB, 2D keypoints, silhouettes, optical flow.

Nothing 3D reaches here. Two input modes (``docs/adaptation.md``):

* ``oracle``: the ground-truth 2D keypoints (visible ones), true silhouettes and ground-truth
  flow, as the authors' public code and the paper's SURREAL experiments used;
* ``estimated``: what a user has: keypoints with detector-like noise and misses, silhouettes from
  the clip's ``mask_input`` (background subtraction on ``shift``) or degraded like an imperfect
  segmenter otherwise, and OpenCV DIS flow computed from the RGB frames.

Person crops come from the input keypoints (the input silhouette where too few are visible),
smoothed over time so the crop does not jitter, with the exact crop bookkeeping of
:mod:`selfmocap.geometry.crop`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.ndimage import uniform_filter1d

from selfmocap.adapt.config import CropConfig, InputConfig
from selfmocap.cues.degrade import noisy_segmentation
from selfmocap.cues.flow import pair_flow
from selfmocap.cues.detector import MIN_VISIBLE_KEYPOINTS, detector_keypoints
from selfmocap.cues.mediapipe import world_landmarks
from selfmocap.data.clip import Clip, list_clips
from selfmocap.errors import UserError
from selfmocap.geometry.crop import CropBox, crop_image, square_box


@dataclass(frozen=True)
class ClipInputs:
    """One clip's 2D measurements and crops (T frames, K keypoints, crop side S, frame H x W).

    Attributes:
        clip_id: the clip's id.
        rgb_crops: (T, 3, S, S) uint8 person crops.
        keypoints_crop: (T, K, 3) input keypoints in crop pixels with confidence.
        keypoints_frame: (T, K, 3) the same in frame pixels.
        box: the crops (T), frame -> crop.
        principal_crop: (T, 2) the frame camera's principal point seen in each crop.
        principal_frame: (2,) principal point of the frame (its centre).
        masks: (T, H, W) bool input silhouettes.
        flow: (T - gap, H, W, 2) float32 forward flow t -> t + gap (frame pixels).
        flow_valid: (T - gap, H, W) bool.
        detected: (T,) bool, frames where a person was found (enough visible keypoints).
        gap: frames between the two frames of a flow pair.
        world: (T, K, 4) 3D keypoint estimates from mediapipe's world landmarks (metres, their own
            hip-centred frame) and confidence, or None where they were not computed.
    """

    clip_id: str
    rgb_crops: torch.Tensor
    keypoints_crop: torch.Tensor
    keypoints_frame: torch.Tensor
    box: CropBox
    principal_crop: torch.Tensor
    principal_frame: torch.Tensor
    masks: torch.Tensor
    flow: torch.Tensor
    flow_valid: torch.Tensor
    detected: torch.Tensor
    gap: int
    world: torch.Tensor | None = None

    @property
    def num_frames(self) -> int:
        return self.rgb_crops.shape[0]

    @property
    def box_side(self) -> torch.Tensor:
        """(T,) side of each crop in frame pixels (the person's scale, used to normalise losses)."""
        return 1.0 / self.box.scale * self.rgb_crops.shape[-1]


def _clip_rng(config: InputConfig, clip_id: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([config.noise_seed, zlib.crc32(clip_id.encode()), stream])


def chain_flow(flows: np.ndarray, valid: np.ndarray, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Compose consecutive flows (T-1, H, W, 2) into t -> t+gap flows (T-gap, H, W, 2):
    ``F_{t->t+2}(p) = F_t(p) + F_{t+1}(p + F_t(p))`` (bilinear), valid where every step is."""
    n, h, w = flows.shape[:3]
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    out_flow, out_valid = [], []
    for t in range(n - gap + 1):
        total = flows[t].copy()
        ok = valid[t].copy()
        for k in range(1, gap):
            mx, my = cols + total[..., 0], rows + total[..., 1]
            step = cv2.remap(flows[t + k], mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            step_ok = cv2.remap(valid[t + k].astype(np.uint8), mx, my, cv2.INTER_NEAREST, borderValue=0) > 0
            total = total + step
            ok &= step_ok
        out_flow.append(total)
        out_valid.append(ok)
    return np.stack(out_flow), np.stack(out_valid)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    return values if window <= 1 else uniform_filter1d(values, size=window, axis=0, mode="nearest")


def crop_squares(keypoints: np.ndarray, mask_points, config: CropConfig, frame_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed square person boxes of T frames: centres (T, 2) and sides (T,), frame pixels.

    From the visible input keypoints of each frame; where fewer than 3 are visible, from
    ``mask_points(t)`` ((M, 2) foreground pixel centres, may be empty); where neither exists,
    interpolated from the nearest frames that have one (the frame centre if none has).
    """
    t_count = len(keypoints)
    w, h = frame_size
    centres, sides = np.zeros((t_count, 2)), np.zeros(t_count)
    known = np.zeros(t_count, bool)
    for t in range(t_count):
        vis = keypoints[t, :, 2] > 0
        points = keypoints[t, vis, :2] if vis.sum() >= 3 else mask_points(t)
        if len(points):
            centres[t], sides[t] = square_box(points, margin=config.margin)
            known[t] = True
    if not known.any():
        centres[:], sides[:] = (w / 2, h / 2), float(min(w, h))
    elif not known.all():
        idx = np.arange(t_count)
        for d in range(2):
            centres[:, d] = np.interp(idx, idx[known], centres[known, d])
        sides = np.interp(idx, idx[known], sides[known])
    return _smooth(centres, config.box_smoothing), _smooth(sides, config.box_smoothing)


def build_inputs(
    clip_id: str,
    frames: list[np.ndarray],
    keypoints: np.ndarray,
    masks: np.ndarray,
    flow: np.ndarray,
    flow_valid: np.ndarray,
    gap: int,
    centres: np.ndarray,
    sides: np.ndarray,
    crop_size: int = 128,
    world: np.ndarray | None = None,
) -> ClipInputs:
    """Assemble :class:`ClipInputs` from frames (T, H, W, 3), input keypoints (T, K, 3) in frame
    pixels, masks (T, H, W) bool, flow (T - gap, H, W, 2) with its validity, crop squares and,
    optionally, (T, K, 4) 3D keypoint estimates with confidence."""
    h, w = frames[0].shape[:2]
    detected = (keypoints[..., 2] > 0).sum(axis=1) >= MIN_VISIBLE_KEYPOINTS
    offset = centres - sides[:, None] / 2
    scale = crop_size / sides
    crops = np.stack([crop_image(frames[t], offset[t], scale[t], crop_size) for t in range(len(frames))])
    box = CropBox(offset=torch.tensor(offset, dtype=torch.float32), scale=torch.tensor(scale, dtype=torch.float32))
    kp_frame = torch.tensor(keypoints, dtype=torch.float32)
    kp_crop = torch.cat([box.frame_to_crop(kp_frame[..., :2]), kp_frame[..., 2:]], dim=-1)
    principal = torch.tensor([w / 2, h / 2], dtype=torch.float32)
    return ClipInputs(
        clip_id=clip_id,
        rgb_crops=torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous(),
        keypoints_crop=kp_crop,
        keypoints_frame=kp_frame,
        box=box,
        principal_crop=box.scale[:, None] * (principal - box.offset),
        principal_frame=principal,
        masks=torch.from_numpy(np.asarray(masks, dtype=bool)),
        flow=torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)),
        flow_valid=torch.from_numpy(np.asarray(flow_valid, dtype=bool)),
        detected=torch.from_numpy(detected),
        gap=gap,
        world=None if world is None else torch.from_numpy(np.asarray(world, dtype=np.float32)),
    )


def mask_pixels(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> (M, 2) continuous centres of its foreground pixels."""
    ys, xs = np.nonzero(mask)
    return np.stack([xs, ys], axis=1) + 0.5


def read_clips(data: Path, body=None) -> list[Clip]:
    """The clips under ``--data`` (:func:`~selfmocap.data.clip.list_clips`), a missing or unusable
    folder as a one-line ``UserError``."""
    try:
        return list_clips(data, body=body)
    except (FileNotFoundError, ValueError) as err:
        raise UserError(str(err)) from None


def prepare_inputs(clip: Clip, config: InputConfig, crop_size: int = 128, world: bool = False) -> ClipInputs:
    """Build a clip's :class:`ClipInputs` from its frames and 2D annotations only (and, with
    ``world``, mediapipe's 3D world landmarks computed from its RGB frames)."""
    t_count = len(clip)
    gap = min(config.crop.pair_gap, max(t_count - 1, 1))
    frames = [clip.rgb(t) for t in range(t_count)]
    h, w = frames[0].shape[:2]
    estimated = config.inputs == "estimated"
    keypoints = detector_keypoints(
        clip.labels.keypoints2d,
        _clip_rng(config, clip.meta.clip_id, 0),
        noise=config.keypoint_noise if estimated else 0.0,
        dropout=config.keypoint_dropout if estimated else 0.0,
    )
    seg_rng = _clip_rng(config, clip.meta.clip_id, 1)
    if config.inputs == "oracle":
        masks = [clip.mask(t) for t in range(t_count)]
    elif (clip.path / "mask_input").is_dir():
        masks = [clip.input_mask(t) for t in range(t_count)]
    else:
        masks = [noisy_segmentation(clip.mask(t), seg_rng) for t in range(t_count)]
    centres, sides = crop_squares(keypoints, lambda t: mask_pixels(masks[t]), config.crop, (w, h))
    if t_count < 2:
        flow, valid = np.zeros((0, h, w, 2), np.float32), np.zeros((0, h, w), bool)
    elif config.inputs == "oracle":
        flow, valid = chain_flow(*clip.flow(), gap)
    else:
        flow, valid = pair_flow(frames, gap)
    world_kp = world_landmarks(frames) if world else None
    return build_inputs(clip.meta.clip_id, frames, keypoints, np.stack(masks), flow, valid, gap, centres, sides, crop_size,
                        world_kp)
