"""The configs of the bench stage: ``selfmocap bench`` and its real-motion table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from selfmocap import config as cfg
from selfmocap.adapt.config import AdaptOptions, ObjectiveConfig, StepOptions
from selfmocap.errors import UserError
from selfmocap.losses.world3d import WORLD_ALIGNMENTS

#: The reference row of the real-motion table (a name no variant may take).
MEDIAPIPE_ROW = "mediapipe world landmarks"
#: Clip frame size in pixels (the bench's and ``selfmocap synth``'s default).
FRAME_SIZE = 256


@dataclass(frozen=True)
class ObjectiveVariant:
    """One adaptation row of the real-motion table: its name and the objective it adapts with."""

    name: str
    objective: ObjectiveConfig

    @classmethod
    def parse(cls, spec: str) -> ObjectiveVariant:
        """``NAME=LOSSES[:ALIGNMENT]`` (``adapted+world3d=kpt,seg,motion,world3d:scale``) with the
        other objective settings at their defaults; ALIGNMENT is the world3d alignment."""
        name, sep, rest = spec.partition("=")
        losses, _, align = rest.partition(":")
        if not sep or not name.strip() or not losses.strip():
            raise UserError(f"--real-motion-variant {spec!r}: write NAME=LOSSES[:ALIGNMENT], e.g. adapted=kpt,seg,motion")
        try:
            extra = {"world3d_alignment": align.strip()} if align.strip() else {}
            if extra and extra["world3d_alignment"] not in WORLD_ALIGNMENTS:
                raise ValueError(f"the world3d alignment must be similarity or scale, got {align.strip()!r}")
            return cls(name.strip(), ObjectiveConfig(losses=cfg.comma_list(losses), **extra))
        except ValueError as err:
            raise UserError(f"--real-motion-variant {spec!r}: {err}") from None


#: The default rows: the method with its defaults. A new loss is one more entry, e.g.
#: ``ObjectiveVariant("adapted+world3d", ObjectiveConfig(losses=("kpt", "seg", "motion", "world3d")))``.
DEFAULT_VARIANTS: tuple[ObjectiveVariant, ...] = (ObjectiveVariant("adapted", ObjectiveConfig()),)


@dataclass(frozen=True)
class RealMotionOptions:
    """``selfmocap bench --real-motion DIR``: the real-motion table instead of the paper's tables."""

    motions: Path | None = cfg.field(None, flag="--real-motion", help="BVH file or folder (searched for *.bvh): compute the real-motion table on one clip per file (docs/bench.md) instead of the paper's tables")
    files: int = cfg.field(0, help="at most this many files (0: all); more files are thinned evenly in sorted order")
    frames: int = cfg.field(30, help="frames per clip (at 30 fps)")
    window: Literal["middle", "random"] = cfg.field("middle", help="which window of each file: its middle, or a random one drawn with --seed")
    iters: int = cfg.field(AdaptOptions.iters, help="adaptation steps of every variant (the method's default)")
    batch: int = cfg.field(StepOptions.batch, help="frame pairs per adaptation step")
    size: int = cfg.field(FRAME_SIZE, help="frame width and height of the rendered clips (pixels)")
    mediapipe: bool = cfg.field(True, help="compute the reference row of mediapipe's world landmarks")
    variants: tuple[ObjectiveVariant, ...] = cfg.field(DEFAULT_VARIANTS, flag="", help="the adaptation rows (CLI: --real-motion-variant NAME=LOSSES[:ALIGNMENT], repeatable)")

    def __post_init__(self) -> None:
        if self.files < 0:
            raise UserError(f"--real-motion-files must be 0 (all) or more, got {self.files}")
        if self.frames < 3:
            raise UserError(f"--real-motion-frames must be at least 3 (adaptation pairs and acceleration), got {self.frames}")
        if self.iters < 0 or self.batch < 1:
            raise UserError(f"--real-motion-iters must be >= 0 and --real-motion-batch >= 1, got {self.iters} and {self.batch}")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names) or "pretrained" in names or MEDIAPIPE_ROW in names:
            raise UserError(f"the real-motion variants need distinct names other than 'pretrained', got {', '.join(names)}")

    @property
    def needs_world(self) -> bool:
        """Whether any variant adapts with mediapipe's world landmarks (the ``world3d`` loss)."""
        return any("world3d" in v.objective.losses for v in self.variants)


@dataclass(frozen=True)
class BenchConfig:
    """``selfmocap bench``."""

    out: Path = cfg.field(help="folder for data, predictions, tables and figures")
    quick: bool = cfg.field(False, help="a few small clips and short runs (smoke check, under 10 minutes)")
    checkpoint: Path | None = cfg.field(None, help="pretrained network (default: the shipped checkpoint)")
    seed: int = cfg.field(100, help="seed of the bench's synthetic clips (disjoint from the model card's)")
    workers: int = cfg.field(2, help="synth worker processes")
    inputs: Literal["both", "oracle", "estimated"] = cfg.field(
        "both", help="which input mode's rows to compute; run the two halves at once (two processes or machines) and join them with --combine")
    combine: tuple[Path, ...] = cfg.field((), help="instead of running: join the results of bench folders A,B (comma-separated; same scale, seed, checkpoint) into --out")
    real_motion: RealMotionOptions = cfg.field(default_factory=RealMotionOptions, prefix="real-motion-",
                                               help="the real-motion table (bench/real_motion.py), run instead of the paper's tables when --real-motion is given")
