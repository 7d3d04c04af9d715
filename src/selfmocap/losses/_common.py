"""Shared plumbing of the self-supervised losses: shape checks, pixel scales, batch reduction.

Every loss here follows one batch rule (``docs/losses.md``): a frame's loss is normalised
within the frame (by its confidence sum, visible-vertex count, pixel count), then frames are
averaged. A frame without evidence (zero confidence, no visible vertex, an empty mask) gives
zero and is left out of the average; when no frame has evidence the loss is an exact zero that
is still connected to the graph, so ``loss.backward()`` never fails in the adaptation loop.
"""

from __future__ import annotations

from typing import Literal

import torch

Reduction = Literal["mean", "none"]


def check_shape(name: str, tensor: torch.Tensor, shape: tuple[int | None, ...], spec: str) -> None:
    """Raise ``ValueError`` unless ``tensor.shape`` matches ``shape`` (None matches any size)."""
    ok = tensor.ndim == len(shape) and all(s is None or s == t for s, t in zip(shape, tensor.shape))
    if not ok:
        raise ValueError(f"{name} must be {spec}, got {tuple(tensor.shape)}")


def pixel_scale(scale: float | torch.Tensor, batch: int, like: torch.Tensor) -> torch.Tensor:
    """(B,) positive pixel scale from a float or a (B,) / () tensor, in ``like``'s dtype/device."""
    s = torch.as_tensor(scale, dtype=like.dtype, device=like.device)
    if s.ndim == 0:
        s = s.expand(batch)
    if s.shape != (batch,):
        raise ValueError(f"scale must be a float or a (B,) tensor with B = {batch}, got {tuple(s.shape)}")
    if not bool((s > 0).all()):
        raise ValueError("scale must be positive")
    return s


def reduce_frames(per_frame: torch.Tensor, has_evidence: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    """Average ``per_frame`` (B,) over the frames with evidence, or return it as is (``"none"``).

    Frames without evidence must already hold zero in ``per_frame``.
    """
    if reduction == "none":
        return per_frame
    if reduction != "mean":
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    count = has_evidence.sum()
    # per_frame is zero where there is no evidence; the sum keeps the graph when count == 0
    return per_frame.sum() / count.clamp_min(1).to(per_frame.dtype)
