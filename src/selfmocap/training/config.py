"""The resolved configuration of ``selfmocap pretrain`` (saved as ``RUN_DIR/config.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from selfmocap.body.config import BodyModelConfig
from selfmocap.config import field
from selfmocap.data.config import FrameConfig
from selfmocap.models.config import NetworkConfig
from selfmocap.training.losses import LossWeights

#: Fields that may differ between a run and its ``--resume`` (none changes what is trained; other
#: thread counts or devices may change the last bits of floating-point sums).
RESUMABLE_CHANGES = frozenset(
    {"resume", "val", "val_every", "val_frames", "checkpoint_every", "log_every", "threads", "device", "frames.workers",
     "body.body_model_path"}
)


@dataclass(frozen=True)
class PretrainConfig:
    """Supervised pretraining on synthetic clips."""

    data: Path = field(help="training clips folder (from `selfmocap synth --split train`)")
    out: Path = field(help="run folder: config, logs, curves, checkpoint, pretrained export")
    val: tuple[str, ...] = field((), help="validation sets NAME=DIR", flag="")
    steps: int = field(6000, help="optimizer steps")
    batch: int = field(32, help="global batch size (split evenly across DDP ranks)")
    lr: float = field(3e-4, help="peak Adam learning rate (docs/pretraining.md: why not the paper's 1e-4)")
    warmup_steps: int = field(300, help="linear learning-rate warm-up steps")
    final_lr_fraction: float = field(0.05, help="cosine decay ends at this fraction of the peak rate")
    grad_clip: float = field(5.0, help="clip the global gradient norm to this (0: off)")
    seed: int = field(0, help="seed of the initial weights, data order and augmentation")
    checkpoint_every: int = field(250, help="write RUN_DIR/checkpoint.pt every N steps (and at the end)")
    val_every: int = field(1000, help="validate every N steps (and at the end)")
    val_frames: int = field(512, help="frames per validation set (evenly spaced; 0: all)")
    log_every: int = field(10, help="write a train.csv row every N steps")
    threads: int = field(0, help="torch threads per rank (0: CPU cores / local ranks; use fewer on a shared machine)")
    precision: Literal["fp32", "bf16"] = field("fp32", help="network forward/backward precision (bf16: autocast, fp32 weights; fast with AMX or on GPU)")
    device: Literal["auto", "cpu", "cuda"] = field("auto", help="where to train (auto: CUDA when available)")
    resume: bool = field(False, help="continue RUN_DIR/checkpoint.pt exactly where it stopped")
    init: Path | None = field(None, help="start from the weights of this pretrained export (a warm start: fresh optimizer and schedule; the network config must match)")
    network: NetworkConfig = field(default_factory=NetworkConfig, help="network")
    frames: FrameConfig = field(default_factory=FrameConfig, help="crops and augmentation")
    loss: LossWeights = field(default_factory=LossWeights, help="loss weights", prefix="weight-")
    body: BodyModelConfig = field(default_factory=BodyModelConfig, help="body model (default: the training clips')")

    def __post_init__(self) -> None:
        positive = {"steps": self.steps, "batch": self.batch, "checkpoint_every": self.checkpoint_every,
                    "val_every": self.val_every, "log_every": self.log_every}
        bad = [f"--{k.replace('_', '-')} {v}" for k, v in positive.items() if v < 1]
        if bad or self.lr <= 0:
            raise ValueError(f"must be positive: {', '.join(bad) or f'--lr {self.lr}'}")
