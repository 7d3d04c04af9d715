"""Per-frame training data: person crops, detector-like keypoints, heatmaps and crop-camera targets.

:class:`FrameDataset` reads frames from clip folders on demand (PNG per frame, labels per clip
through a small cache), so a dataset may be far larger than memory. One sample:

1. The input keypoints imitate a detector: the visible ground-truth 2D keypoints, with Gaussian
   noise and random drop-outs when augmenting.
2. A square box around the visible input keypoints (the input silhouette when too few are
   visible) with a margin, jittered in scale and position when augmenting, resized to the network
   input size with :func:`~selfmocap.geometry.crop.crop_image` (exact bookkeeping: the crop camera
   is :meth:`CropBox.camera_to_crop` of the full-frame camera).
3. Colour jitter, then optionally a horizontal flip: image and keypoints mirrored with left/right
   swapped, bone rotations mirrored (``M R M`` with ``M = diag(-1, 1, 1)``) with left/right bones
   swapped, camera ``R -> M R M``, ``Tx -> -Tx``, ``cx -> S - cx``. Anny is left/right symmetric to
   about 4 mm (joints), the size of the label error a flip introduces. The left/right bone swap
   comes from the joint names of the body model the clips record (Anny's or SMPL's); ``M`` is the
   same in both models' axes, whose x is the body frame's.

Augmentation randomness comes from a per-sample seed carried in the sample key (see
:class:`TrainOrder`), so a sample does not depend on DataLoader workers, ranks or resumption.
Heatmaps are made on the batch (:func:`network_input`), not in the workers, to keep IPC small.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import cv2
import numpy as np
import roma
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from selfmocap.body.mirror import MIRROR_X, flip_pose
from selfmocap.body.names import KEYPOINT_FLIP, pose_flip_index
from selfmocap.data.clip import Clip, list_clips
from selfmocap.data.config import FrameConfig
from selfmocap.data.records import ClipLabels
from selfmocap.geometry.camera import Camera
from selfmocap.geometry.crop import CropBox, crop_image, square_box

#: ImageNet statistics, the usual normalisation of RGB network inputs.
RGB_MEAN = (0.485, 0.456, 0.406)
RGB_STD = (0.229, 0.224, 0.225)
#: Fewer visible input keypoints than this and the box comes from the input silhouette.
MIN_BOX_KEYPOINTS = 3
_LABEL_CACHE_CLIPS = 16
# OpenCV's thread pool deadlocks in forked DataLoader workers once the parent has used it; crops
# are small, so OpenCV runs single-threaded (the usual idiom of PyTorch data pipelines).
cv2.setNumThreads(0)




class FrameSample(NamedTuple):
    """One frame, as a worker returns it (crop size S, K keypoints)."""

    rgb: torch.Tensor  #: (3, S, S) uint8
    keypoints: torch.Tensor  #: (K, 3) input keypoints: crop pixels and confidence
    keypoints2d: torch.Tensor  #: (K, 3) true keypoints: crop pixels and visibility
    pose: torch.Tensor  #: (J, 3, 3)
    shape: torch.Tensor  #: (S,)
    camera: Camera  #: batch of 1, crop pixels, true depth
    box: CropBox  #: batch of 1, full frame -> crop
    index: int
    world: torch.Tensor  #: (K, 4) mediapipe's 3D world landmarks with confidence (zero: none)


@dataclass(frozen=True)
class FrameBatch:
    """A batch of B frames: network inputs and ground truth, all in the crop's pixel frame.

    Attributes:
        rgb: (B, 3, S, S) uint8 crops.
        keypoints: (B, K, 3) input keypoints (detector-like): crop pixels and confidence.
        keypoints2d: (B, K, 3) true keypoints: crop pixels and visibility.
        pose: (B, J, 3, 3) true bone rotations.
        shape: (B, S) true body shapes.
        camera: true Eq. 3 camera in crop pixels (true root depth).
        box: the crops, full frame -> crop.
        index: (B,) frame index in the dataset.
        world: (B, K, 4) mediapipe's 3D world landmarks of the frames with confidence, all zero
            where the clip has none (``synth --world-landmarks``), mediapipe found nobody, or
            augmentation withheld them; mirrored with the crop.
    """

    rgb: torch.Tensor
    keypoints: torch.Tensor
    keypoints2d: torch.Tensor
    pose: torch.Tensor
    shape: torch.Tensor
    camera: Camera
    box: CropBox
    index: torch.Tensor
    world: torch.Tensor

    def __len__(self) -> int:
        return self.rgb.shape[0]

    def to(self, device: torch.device | str) -> "FrameBatch":
        moved = {}
        for f in fields(self):
            value = getattr(self, f.name)
            is_box = isinstance(value, CropBox)
            moved[f.name] = CropBox(value.offset.to(device), value.scale.to(device)) if is_box else value.to(device)
        return FrameBatch(**moved)


def collate_frames(samples: Sequence[FrameSample]) -> FrameBatch:
    return FrameBatch(
        rgb=torch.stack([s.rgb for s in samples]),
        keypoints=torch.stack([s.keypoints for s in samples]),
        keypoints2d=torch.stack([s.keypoints2d for s in samples]),
        pose=torch.stack([s.pose for s in samples]),
        shape=torch.stack([s.shape for s in samples]),
        camera=Camera.cat([s.camera for s in samples]),
        box=CropBox(offset=torch.cat([s.box.offset for s in samples]), scale=torch.cat([s.box.scale for s in samples])),
        index=torch.tensor([s.index for s in samples]),
        world=torch.stack([s.world for s in samples]),
    )


def keypoint_heatmaps(keypoints: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """(B, K, 3) keypoints (pixel u, v, confidence) -> (B, K, size, size) Gaussian heatmaps.

    ``H[b, k, i, j] = c exp(-((j + 0.5 - u)^2 + (i + 0.5 - v)^2) / (2 sigma^2))`` at pixel centres.
    """
    if keypoints.ndim != 3 or keypoints.shape[-1] != 3:
        raise ValueError(f"keypoints must be (B, K, 3), got {tuple(keypoints.shape)}")
    centres = torch.arange(size, dtype=keypoints.dtype, device=keypoints.device) + 0.5
    gx = torch.exp(-((centres - keypoints[..., 0:1]) ** 2) / (2 * sigma**2))  # (B, K, size)
    gy = torch.exp(-((centres - keypoints[..., 1:2]) ** 2) / (2 * sigma**2))
    return keypoints[..., 2, None, None] * gy[..., :, None] * gx[..., None, :]


def network_input(rgb: torch.Tensor, keypoints: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, 3, S, S) uint8 crops and (B, K, 3) keypoints -> (B, 3 + K, S, S) float network input."""
    if rgb.ndim != 4 or rgb.shape[1] != 3 or rgb.shape[2] != rgb.shape[3]:
        raise ValueError(f"rgb must be (B, 3, S, S), got {tuple(rgb.shape)}")
    mean = torch.tensor(RGB_MEAN, device=rgb.device)[:, None, None]
    std = torch.tensor(RGB_STD, device=rgb.device)[:, None, None]
    image = (rgb.float() / 255 - mean) / std
    return torch.cat([image, keypoint_heatmaps(keypoints.float(), rgb.shape[-1], sigma)], dim=1)


def flip_camera(camera: Camera, size: int) -> Camera:
    """The camera of the horizontally mirrored crop (the body mirrored by ``diag(-1, 1, 1)``)."""
    m = MIRROR_X.to(camera.rotation)
    sign = torch.tensor([-1.0, 1.0], dtype=camera.trans.dtype, device=camera.trans.device)
    return camera.replace(
        rotation=m @ camera.rotation @ m,
        trans=camera.trans * sign,
        principal=torch.stack([size - camera.principal[:, 0], camera.principal[:, 1]], dim=1),
    )


def flip_keypoints(keypoints: torch.Tensor, size: int) -> torch.Tensor:
    """(..., K, 3) crop keypoints of the mirrored crop: ``u -> S - u``, left/right swapped."""
    out = keypoints[..., list(KEYPOINT_FLIP), :].clone()
    out[..., 0] = size - out[..., 0]
    return out


def flip_world(world: torch.Tensor) -> torch.Tensor:
    """(..., K, 4) 3D keypoints (camera axes) of the mirrored crop: ``x -> -x``, left/right swapped."""
    out = world[..., list(KEYPOINT_FLIP), :].clone()
    out[..., 0] = -out[..., 0]
    return out


def _keypoints_to_crop(keypoints: np.ndarray, box: CropBox) -> torch.Tensor:
    """(K, 3) frame keypoints -> (K, 3) crop keypoints of a batch-of-1 box (third column kept)."""
    k = torch.tensor(keypoints, dtype=torch.float32)
    return torch.cat([box.frame_to_crop(k[None, :, :2])[0], k[:, 2:]], dim=1)


def _colour_jitter(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    brightness, contrast, saturation = rng.uniform(1 - amount, 1 + amount, size=3)
    img = image.astype(np.float32) * brightness
    gray = img.mean(axis=2, keepdims=True)
    img = gray + (img - gray) * saturation
    img = img.mean() + (img - img.mean()) * contrast
    return np.clip(img, 0, 255).astype(np.uint8)


def _cached(cache: OrderedDict, key: int, load):
    """``cache[key]``, loaded with ``load()`` on a miss; the least recently used of more than
    ``_LABEL_CACHE_CLIPS`` entries is dropped."""
    if key in cache:
        cache.move_to_end(key)
    else:
        cache[key] = load()
        if len(cache) > _LABEL_CACHE_CLIPS:
            cache.popitem(last=False)
    return cache[key]


class FrameDataset(Dataset):
    """All frames of the clips under ``roots``, as :class:`FrameSample`.

    Keys are a frame index (no augmentation) or ``(index, seed)`` (augmented with that seed when
    ``config.augment``). ``body`` (a :class:`~selfmocap.body.BodyModelConfig`) locates body model
    files for datasets whose labels need them (SURREAL).
    """

    def __init__(self, roots: Sequence[str | Path], size: int, config: FrameConfig = FrameConfig(), body=None):
        self.clips: list[Clip] = [clip for root in roots for clip in list_clips(root, body=body)]
        self.size = size
        self.config = config
        counts = np.array([len(c) for c in self.clips])
        self.starts = np.concatenate([[0], np.cumsum(counts)])
        models = sorted({c.meta.body_model for c in self.clips})
        if len(models) > 1:
            raise ValueError(f"the clips of {', '.join(map(str, roots))} mix body models ({', '.join(models)}); use one")
        #: the body model the clips' labels are for
        self.body_model = models[0] if models else "anny"
        self.pose_flip = pose_flip_index(self.body_model)
        self._labels: OrderedDict[int, ClipLabels] = OrderedDict()
        self._world: OrderedDict[int, np.ndarray | None] = OrderedDict()

    def __len__(self) -> int:
        return int(self.starts[-1])

    def locate(self, index: int) -> tuple[int, int]:
        """Frame index -> (clip index, frame in clip)."""
        if not 0 <= index < len(self):
            raise IndexError(f"frame index {index} out of range for {len(self)} frames")
        ci = int(np.searchsorted(self.starts, index, side="right") - 1)
        return ci, int(index - self.starts[ci])

    def labels(self, ci: int) -> ClipLabels:
        """Labels of clip ``ci`` through a small per-process cache (a fresh Clip does not keep them)."""
        return _cached(self._labels, ci, self.clips[ci].read_labels)

    def world(self, ci: int) -> np.ndarray | None:
        """World landmarks of clip ``ci`` (None: not computed), through the same kind of cache."""
        return _cached(self._world, ci, self.clips[ci].world_landmarks)

    def __getitem__(self, key: int | tuple[int, int]) -> FrameSample:
        index, seed = (key, None) if isinstance(key, (int, np.integer)) else key
        rng = np.random.default_rng(seed) if seed is not None and self.config.augment else None
        ci, t = self.locate(int(index))
        clip, labels, cfg, size = self.clips[ci], self.labels(ci), self.config, self.size
        true2d = labels.keypoints2d[t].astype(np.float64)  # (K, 3) frame pixels
        inputs = true2d.copy()
        inputs[:, 2] = inputs[:, 2] > 0
        if rng is not None:
            extent = float(np.ptp(true2d[:, :2], axis=0).max())
            inputs[:, :2] += rng.normal(0.0, cfg.keypoint_noise * extent, size=(len(inputs), 2))
            inputs[:, 2] *= rng.uniform(size=len(inputs)) >= cfg.keypoint_dropout
        centre, side = square_box(self._box_points(clip, t, inputs, true2d), margin=cfg.margin)
        if rng is not None:
            side *= float(np.exp(rng.uniform(-cfg.jitter_scale, cfg.jitter_scale)))
            centre = centre + rng.uniform(-cfg.jitter_shift, cfg.jitter_shift, size=2) * side
        offset = centre - side / 2
        scale = size / side
        rgb = crop_image(clip.rgb(t), offset, scale, size)
        if rng is not None:
            rgb = _colour_jitter(rgb, cfg.colour_jitter, rng)
        box = CropBox(offset=torch.tensor(offset[None], dtype=torch.float32), scale=torch.tensor([scale], dtype=torch.float32))
        keypoints, keypoints2d = _keypoints_to_crop(inputs, box), _keypoints_to_crop(true2d, box)
        camera = box.camera_to_crop(Camera.from_array(torch.tensor(labels.camera[t : t + 1], dtype=torch.float32)))
        pose = roma.rotvec_to_rotmat(torch.tensor(labels.pose[t], dtype=torch.float32))
        rgb_t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)
        clip_world = self.world(ci)
        world = torch.zeros(len(true2d), 4) if clip_world is None else torch.from_numpy(clip_world[t].copy())
        if rng is not None and cfg.flip and rng.uniform() < 0.5:
            rgb_t = rgb_t.flip(-1)
            keypoints, keypoints2d = flip_keypoints(keypoints, size), flip_keypoints(keypoints2d, size)
            pose, camera = flip_pose(pose, self.pose_flip), flip_camera(camera, size)
            world = flip_world(world)
        # drawn last, so the draws before it (and the samples of clips without landmarks) are unchanged
        if rng is not None and clip_world is not None and rng.uniform() < cfg.world_dropout:
            world = torch.zeros_like(world)
        return FrameSample(
            rgb=rgb_t.contiguous(),
            keypoints=keypoints,
            keypoints2d=keypoints2d,
            pose=pose,
            shape=torch.tensor(labels.shape, dtype=torch.float32),
            camera=camera,
            box=box,
            index=int(index),
            world=world,
        )

    def _box_points(self, clip: Clip, t: int, inputs: np.ndarray, true2d: np.ndarray) -> np.ndarray:
        """Points the person box is built around: visible input keypoints, else the input silhouette."""
        visible = inputs[:, 2] > 0
        if self.config.box_source == "keypoints" and visible.sum() >= MIN_BOX_KEYPOINTS:
            return inputs[visible, :2]
        ys, xs = np.nonzero(clip.input_mask(t))
        if len(xs):
            return np.stack([xs, ys], axis=1) + 0.5
        return true2d[:, :2]  # the person is entirely hidden: its projected keypoints


class TrainOrder(Sampler):
    """Endless, resumable training order: keys ``(frame index, augmentation seed)`` for one rank.

    The global sample stream is epoch after epoch of seeded permutations; global batch ``s`` is
    stream positions ``[s B, (s + 1) B)`` and rank ``r`` of ``W`` takes its ``r``-th ``B / W``
    slice. Each position has its own augmentation seed, so the batches of a step are the same for
    any worker count, world size or restart point.
    """

    def __init__(self, num_frames: int, global_batch: int, seed: int, start_step: int = 0, rank: int = 0, world_size: int = 1):
        if global_batch % world_size:
            raise ValueError(f"global batch {global_batch} is not divisible by {world_size} ranks")
        if num_frames < 1:
            raise ValueError("no frames to train on")
        self.num_frames, self.global_batch, self.seed = num_frames, global_batch, seed
        self.start_step, self.rank, self.world_size = start_step, rank, world_size

    def permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_frames)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        per_rank = self.global_batch // self.world_size
        step, epoch, perm = self.start_step, -1, np.empty(0, dtype=np.int64)
        while True:
            for i in range(self.rank * per_rank, (self.rank + 1) * per_rank):
                position = step * self.global_batch + i
                e, j = divmod(position, self.num_frames)
                if e != epoch:
                    epoch, perm = e, self.permutation(e)
                yield int(perm[j]), int(np.random.SeedSequence([self.seed, position]).generate_state(1)[0])
            step += 1


def frame_loader(dataset: Dataset, batch_size: int, workers: int, sampler: Sampler | None = None) -> DataLoader:
    """A DataLoader of :class:`FrameBatch` (in order when no sampler is given)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        shuffle=False,
        num_workers=workers,
        collate_fn=collate_frames,
        persistent_workers=False,
    )
