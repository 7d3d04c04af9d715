"""Training checkpoints: everything needed to continue a run exactly.

The data order and augmentation are pure functions of (seed, step) (:class:`TrainOrder`), so the
step is the data position; the torch RNG state is kept for anything else drawing from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from selfmocap.models.pretrained import CheckpointError, read_torch_file, write_torch_file

TRAIN_FORMAT = "selfmocap-train-v1"


@dataclass(frozen=True)
class TrainState:
    """A training checkpoint: state dicts of the model (unwrapped), optimizer and scheduler."""

    step: int
    images_seen: int
    config: dict
    model: dict
    optimizer: dict
    scheduler: dict
    rng: dict

    def save(self, path: str | Path) -> None:
        write_torch_file({"format": TRAIN_FORMAT, **self.__dict__}, path)

    @staticmethod
    def load(path: str | Path) -> "TrainState":
        keys = ("format", "step", "images_seen", "config", "model", "optimizer", "scheduler", "rng")
        obj = read_torch_file(path, "training checkpoint", keys)
        if obj["format"] != TRAIN_FORMAT:
            raise CheckpointError(f"training checkpoint {path} has format {obj['format']!r}, expected {TRAIN_FORMAT!r}")
        return TrainState(**{k: obj[k] for k in keys[1:]})


def rng_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def config_differences(saved: dict, current: dict, allowed: frozenset[str], prefix: str = "") -> list[str]:
    """Dotted names of the (nested) config entries that differ, except ``allowed`` ones."""
    out = []
    for key in sorted(set(saved) | set(current)):
        name = prefix + key
        a, b = saved.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += config_differences(a, b, allowed, prefix=name + ".")
        elif a != b and name not in allowed:
            out.append(f"{name}: {a!r} -> {b!r}")
    return out
