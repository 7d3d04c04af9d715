"""What each synthetic split draws from. ``test`` is ``train``'s appearance, shapes and cameras with
disjoint random streams (the paper's "Surreal" setting) and the core motion families, a subset of
``train``'s, so its numbers stay comparable across checkpoints (docs/motion.md); ``shift`` is a
deliberate domain gap (the "Human3.6M" setting): other motions, body shapes, clothing palette,
backgrounds, lighting and camera ranges, and silhouettes from background subtraction instead of
the true ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from selfmocap.synth.motion import CORE_FAMILIES, SHIFT_FAMILIES, TRAIN_FAMILIES

Split = Literal["train", "test", "shift"]
SPLITS: tuple[str, ...] = ("train", "test", "shift")
#: Mixed into every clip's random stream so that splits never share one, whatever ``--seed``.
SPLIT_CODES = {"train": 0, "test": 1, "shift": 2}


@dataclass(frozen=True)
class SplitSpec:
    """Sampling ranges of one split (angles in degrees, distances in metres)."""

    families: tuple[str, ...]
    shape_low: tuple[float, ...]  #: per phenotype (gender, age, muscle, weight, height, proportions)
    shape_high: tuple[float, ...]
    extreme_shapes: bool  #: push weight/height/muscle to the tails of their range
    distance: tuple[float, float]
    elevation: tuple[float, float]
    focal_factor: tuple[float, float]  #: focal length / frame size
    palette: str
    light_palette: str
    degraded_mask: bool


_TRAIN = SplitSpec(
    families=TRAIN_FAMILIES,
    shape_low=(0.0, 0.35, 0.2, 0.2, 0.2, 0.3),
    shape_high=(1.0, 0.85, 0.8, 0.8, 0.8, 0.7),
    extreme_shapes=False,
    distance=(2.5, 5.0),
    elevation=(-10.0, 15.0),
    focal_factor=(1.0, 1.6),
    palette="train",
    light_palette="train",
    degraded_mask=False,
)
SPEC: dict[str, SplitSpec] = {
    "train": _TRAIN,
    "test": replace(_TRAIN, families=CORE_FAMILIES),
    "shift": SplitSpec(
        families=SHIFT_FAMILIES,
        shape_low=(0.0, 0.5, 0.0, 0.0, 0.0, 0.0),
        shape_high=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        extreme_shapes=True,
        distance=(3.5, 6.5),
        elevation=(15.0, 35.0),
        focal_factor=(1.6, 2.4),
        palette="shift",
        light_palette="shift",
        degraded_mask=True,
    ),
}


def sample_shape(rng: np.random.Generator, spec: SplitSpec) -> np.ndarray:
    """(6,) Anny phenotypes for one subject."""
    shape = rng.uniform(spec.shape_low, spec.shape_high)
    if spec.extreme_shapes:
        for i in (2, 3, 4):  # muscle, weight, height: from the tails the train split never sees
            shape[i] = rng.uniform(0.0, 0.18) if rng.uniform() < 0.5 else rng.uniform(0.82, 1.0)
    return shape.astype(np.float32)


#: SMPL betas: standard deviation of the ``train``/``test`` draws, the cap on their magnitude, and the
#: tail interval of the ``shift`` split's first two betas (SMPL's first components are mostly
#: stature and girth).
BETA_STD = 1.0
BETA_LIMIT = 2.5
SHIFT_BETA_TAIL = (2.0, 3.0)


def sample_betas(rng: np.random.Generator, spec: SplitSpec, dim: int) -> np.ndarray:
    """(dim,) SMPL betas for one subject: ``N(0, 1)`` capped at +-2.5 (``train``, ``test``); the
    ``shift`` split pushes the first two to the tails, ``|beta|`` in [2, 3]."""
    betas = np.clip(rng.normal(0.0, BETA_STD, size=dim), -BETA_LIMIT, BETA_LIMIT)
    if spec.extreme_shapes:
        for i in range(min(2, dim)):
            betas[i] = rng.choice([-1.0, 1.0]) * rng.uniform(*SHIFT_BETA_TAIL)
    return betas.astype(np.float32)


def sample_body_shape(rng: np.random.Generator, spec: SplitSpec, body) -> np.ndarray:
    """(S,) shape of one subject for ``body``: Anny phenotypes (:func:`sample_shape`) or SMPL /
    SMPL-X betas (:func:`sample_betas`; both models' first betas are mostly stature and girth)."""
    if body.name == "anny":
        return sample_shape(rng, spec)
    if body.name in ("smpl", "smplx"):
        return sample_betas(rng, spec, body.shape_dim)
    raise ValueError(f"no shape distribution for body model {body.name!r}")


def clip_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random stream of clip ``index`` of ``split``: independent of worker count and order."""
    return np.random.default_rng([int(seed), SPLIT_CODES[split], int(index)])
