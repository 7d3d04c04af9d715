"""Per-clip clothing and skin appearance, as procedural textures in the body's UV space.

The body is cut into fixed *parts* (from each vertex's dominant bone, plus a scalp cut from the
rest-pose head), and a clip's :class:`Appearance` maps parts to *regions* (skin, hair, top,
bottom, shoes, eyes): a short sleeve covers the upper arm's first bone, a long one the whole arm,
shorts the thigh, trousers the whole leg. Each region gets a procedural texture image (stripes,
checks, heathered noise, dots, prints, camouflage) over the UV atlas, so the pattern is glued to
the surface and moves with it, which is what optical flow needs. Two palettes: ``"train"``
(muted blues, teals and greys; plain, heather, stripes, checks) and ``"shift"`` (saturated reds,
magentas, yellows and greens; dots, prints, camouflage), so the shift split is a domain gap.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import cv2
import numpy as np
import torch

PaletteName = Literal["train", "shift"]
Pattern = Literal["plain", "heather", "stripes", "checks", "dots", "prints", "camo"]

#: Regions a clip colours differently, in the order of :attr:`Appearance.textures`.
REGIONS: tuple[str, ...] = ("skin", "hair", "top", "bottom", "shoes", "eyes")
SKIN, HAIR, TOP, BOTTOM, SHOES, EYES = range(len(REGIONS))

#: Arm parts from the shoulder down; a sleeve covers the first ``sleeve_length`` of them.
ARM_PARTS: tuple[str, ...] = ("upperarm01", "upperarm02", "lowerarm01", "lowerarm02")
#: Leg parts from the hip down; the bottoms cover the first ``leg_length`` of them.
LEG_PARTS: tuple[str, ...] = ("upperleg01", "upperleg02", "lowerleg01", "lowerleg02")
#: Fixed body parts, in the order of :attr:`SurfaceLayout.face_part`.
PARTS: tuple[str, ...] = (
    "head",
    "scalp",
    "eye",
    "hand",
    "torso",
    "hips",
    *ARM_PARTS,
    *LEG_PARTS,
    "foot",
)

#: Anny bone-name prefixes (side suffix ``.L``/``.R`` dropped) -> part; arm and leg bones map to
#: parts of the same name.
_BONE_PART: dict[str, str] = {
    "head": "head",
    "neck": "head",
    "eye": "eye",
    "wrist": "hand",
    "metacarpal": "hand",
    "finger": "hand",
    "spine01": "torso",
    "spine02": "torso",
    "spine03": "torso",
    "spine04": "torso",
    "spine05": "hips",  # lower belly and lower back: the waistband sits above it
    "clavicle": "torso",
    "shoulder": "torso",
    "pelvis": "hips",
    "foot": "foot",
    "toe": "foot",
    **{p: p for p in ARM_PARTS + LEG_PARTS},
}


#: SMPL joints (``body/names.py: SMPL_JOINT_NAMES``, each vertex's dominant skinning joint) -> part.
#: SMPL has no twist bones: an upper arm is all ``upperarm01``, a forearm all ``lowerarm01`` (a
#: sleeve "to the elbow" is then a short sleeve), likewise the legs; and no eye part.
_SMPL_JOINT_PART: dict[str, str] = {
    "pelvis": "hips",
    "spine1": "hips",
    "spine2": "torso",
    "spine3": "torso",
    "neck": "head",
    "head": "head",
    **{
        f"{side}_{joint}": part
        for side in ("left", "right")
        for joint, part in (("collar", "torso"), ("shoulder", "upperarm01"), ("elbow", "lowerarm01"),
                            ("wrist", "hand"), ("hand", "hand"), ("hip", "upperleg01"), ("knee", "lowerleg01"),
                            ("ankle", "foot"), ("foot", "foot"))
    },
}


class TexturedBody(Protocol):
    """What :meth:`SurfaceLayout.from_body` needs of a body model (``AnnyBody``, ``SMPLBody``)."""

    faces: torch.Tensor
    default_shape: torch.Tensor
    texture_coordinates: torch.Tensor
    face_texture_indices: torch.Tensor
    num_pose_joints: int
    shape_dim: int

    def vertex_bone_labels(self) -> list[str]: ...

    def __call__(self, pose: torch.Tensor, shape: torch.Tensor): ...


@dataclass(frozen=True)
class SurfaceLayout:
    """The body's fixed surface parametrisation, shared by all clips.

    Attributes:
        uv: (Vt, 2) float32 texture coordinates in [0, 1] (v up, OBJ convention).
        face_uv: (F, 3) int64 index of each face corner into ``uv``.
        face_part: (F,) int64 index into :data:`PARTS` of each face.
    """

    uv: np.ndarray
    face_uv: np.ndarray
    face_part: np.ndarray

    @staticmethod
    def from_body(body: TexturedBody) -> SurfaceLayout:
        """Parts from the dominant bone of each vertex (majority over a face's corners); the
        scalp is the head above a hairline running from the forehead down to the nape, found on
        the rest-pose mesh (body frame: y down, z back)."""
        vertex_part = np.array([PARTS.index(_bone_part(b)) for b in body.vertex_bone_labels()])
        with torch.no_grad():
            rest = (
                body(torch.zeros(1, body.num_pose_joints, 3), body.default_shape[None])
                .vertices[0]
                .numpy()
            )
        head = vertex_part == PARTS.index("head")
        lo, hi = rest[head].min(axis=0), rest[head].max(axis=0)
        down = (rest[:, 1] - lo[1]) / (hi[1] - lo[1])  # 0 at the crown, 1 at the chin/neck
        back = (rest[:, 2] - lo[2]) / (hi[2] - lo[2])  # 0 at the nose, 1 at the back of the head
        vertex_part[head & (down < 0.22 + 0.45 * back)] = PARTS.index("scalp")
        faces = body.faces.numpy()
        p0, p1, p2 = vertex_part[faces].T
        return SurfaceLayout(
            uv=body.texture_coordinates.numpy().astype(np.float32),
            face_uv=body.face_texture_indices.numpy().astype(np.int64),
            face_part=np.where(p1 == p2, p1, p0),
        )


def _bone_part(bone: str) -> str:
    if bone in _SMPL_JOINT_PART:
        return _SMPL_JOINT_PART[bone]
    name = bone.split(".")[0]
    for prefix, part in _BONE_PART.items():
        if name.startswith(prefix):
            return part
    raise ValueError(f"bone {bone!r} has no body part; extend selfmocap.render.texture._BONE_PART")


@dataclass(frozen=True)
class Palette:
    """Distribution of garment colours and patterns.

    Attributes:
        hue_ranges: garment hue intervals in degrees (pick an interval, then a hue in it).
        saturation: (low, high) garment saturation.
        value: (low, high) garment value (brightness).
        patterns: garment patterns drawn from.
    """

    hue_ranges: tuple[tuple[float, float], ...]
    saturation: tuple[float, float]
    value: tuple[float, float]
    patterns: tuple[Pattern, ...]


PALETTES: dict[PaletteName, Palette] = {
    "train": Palette(
        hue_ranges=((195.0, 250.0), (150.0, 195.0)),  # blues/denim, teals/dark greens; greys
        saturation=(0.0, 0.5),
        value=(0.12, 0.9),
        patterns=("plain", "heather", "stripes", "checks"),
    ),
    "shift": Palette(
        hue_ranges=((285.0, 360.0), (0.0, 12.0), (50.0, 160.0)),  # magentas/reds, yellows/greens
        saturation=(0.65, 1.0),
        value=(0.55, 1.0),
        patterns=("dots", "prints", "camo"),
    ),
}

#: Skin tones from light to dark (RGB in [0, 1]); a clip draws a point between two neighbours.
SKIN_TONES = np.array(
    [
        [0.96, 0.80, 0.69],
        [0.88, 0.67, 0.53],
        [0.76, 0.55, 0.40],
        [0.55, 0.37, 0.25],
        [0.34, 0.22, 0.15],
    ],
    dtype=np.float32,
)
HAIR_COLOURS = np.array(
    [
        [0.05, 0.04, 0.04],
        [0.18, 0.11, 0.07],
        [0.35, 0.22, 0.12],
        [0.75, 0.60, 0.35],
        [0.45, 0.18, 0.08],
        [0.6, 0.6, 0.6],
    ],
    dtype=np.float32,
)

#: Unit of pattern sizes: 1/512 of the UV square.
UV_UNIT = 512

#: Sleeve lengths (arm parts covered) and their probabilities: short, to the elbow, long.
SLEEVE_LENGTHS: dict[int, float] = {1: 0.35, 2: 0.15, 4: 0.5}
#: Leg lengths (leg parts covered) and their probabilities: shorts, to the knee, trousers.
LEG_LENGTHS: dict[int, float] = {2: 0.3, 3: 0.1, 4: 0.6}
#: Probability that the scalp is hair rather than skin.
HAIR_PROBABILITY = 0.85


@dataclass(frozen=True)
class Appearance:
    """One clip's look: a texture per region and which region each face belongs to.

    Attributes:
        uv: (Vt, 2) float32 texture coordinates (from the :class:`SurfaceLayout`).
        face_uv: (F, 3) int64 corner indices into ``uv``.
        face_region: (F,) int64 index into :data:`REGIONS` of each face.
        textures: (R, S, S, 3) uint8 albedo texture of each region, row 0 at v = 1.
        sleeve_length: arm parts (:data:`ARM_PARTS`) the top covers (:data:`SLEEVE_LENGTHS`).
        leg_length: leg parts (:data:`LEG_PARTS`) the bottoms cover (:data:`LEG_LENGTHS`).
        top_pattern, bottom_pattern: patterns of the garments.
        palette: the palette the garments were drawn from.
    """

    uv: np.ndarray
    face_uv: np.ndarray
    face_region: np.ndarray
    textures: np.ndarray
    sleeve_length: int
    leg_length: int
    top_pattern: Pattern
    bottom_pattern: Pattern
    palette: PaletteName


def sample_appearance(
    rng: np.random.Generator,
    layout: SurfaceLayout,
    palette: PaletteName = "train",
    texture_size: int = 512,
) -> Appearance:
    """Draw a clip's clothing, skin and hair (once per clip: about 60 ms at ``texture_size`` 512).

    Args:
        rng: the clip's random generator (the same state gives the same appearance).
        layout: the body's :class:`SurfaceLayout`.
        palette: ``"train"`` or ``"shift"`` garment distribution.
        texture_size: S, side of each region's texture image.
    """
    if palette not in PALETTES:
        raise ValueError(f"palette must be one of {sorted(PALETTES)}, got {palette!r}")
    if texture_size < 16:
        raise ValueError(f"texture_size must be at least 16, got {texture_size}")
    pal = PALETTES[palette]
    size = texture_size
    sleeve_length = int(rng.choice(list(SLEEVE_LENGTHS), p=list(SLEEVE_LENGTHS.values())))
    leg_length = int(rng.choice(list(LEG_LENGTHS), p=list(LEG_LENGTHS.values())))
    has_hair = rng.random() < HAIR_PROBABILITY

    part_region = np.full(len(PARTS), SKIN)
    part_region[PARTS.index("scalp")] = HAIR if has_hair else SKIN
    part_region[PARTS.index("eye")] = EYES
    part_region[PARTS.index("torso")] = TOP
    part_region[PARTS.index("hips")] = BOTTOM
    part_region[PARTS.index("foot")] = SHOES
    for i, part in enumerate(ARM_PARTS):
        part_region[PARTS.index(part)] = TOP if i < sleeve_length else SKIN
    for i, part in enumerate(LEG_PARTS):
        part_region[PARTS.index(part)] = BOTTOM if i < leg_length else SKIN

    k = rng.integers(len(SKIN_TONES) - 1)
    skin = SKIN_TONES[k] + rng.random() * (SKIN_TONES[k + 1] - SKIN_TONES[k])
    hair = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]
    top_pattern: Pattern = pal.patterns[rng.integers(len(pal.patterns))]
    bottom_pattern: Pattern = pal.patterns[rng.integers(len(pal.patterns))]

    textures = np.empty((len(REGIONS), size, size, 3), np.float32)
    blotches = _noise(rng, size, (6, 24), 1.0)
    textures[SKIN] = _blend(skin * 1.04, skin * 0.9, blotches) * _grain(rng, size, 0.04)
    textures[HAIR] = _hair(rng, size, hair)
    textures[TOP] = _garment(rng, size, pal, top_pattern)
    textures[BOTTOM] = _garment(rng, size, pal, bottom_pattern)
    textures[SHOES] = _garment(rng, size, pal, "plain")
    textures[EYES] = np.array([0.12, 0.09, 0.08], np.float32)
    return Appearance(
        uv=layout.uv,
        face_uv=layout.face_uv,
        face_region=part_region[layout.face_part],
        textures=np.clip(textures * 255.0 + 0.5, 0, 255).astype(np.uint8),
        sleeve_length=sleeve_length,
        leg_length=leg_length,
        top_pattern=top_pattern,
        bottom_pattern=bottom_pattern,
        palette=palette,
    )


def sample_texture(textures: np.ndarray, region: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of (N, 2) ``uv`` in the (N,) ``region``'s texture of (R, S, S, 3) uint8
    ``textures`` -> (N, 3) float32 albedo in [0, 1].

    Texel (row r, column c) is centred at uv ``((c + 0.5) / S, 1 - (r + 0.5) / S)``; uv outside
    the texel centres is clamped to the border texels.
    """
    size = textures.shape[1]
    x = np.clip(uv[:, 0] * size - 0.5, 0, size - 1)
    y = np.clip((1.0 - uv[:, 1]) * size - 0.5, 0, size - 1)
    x0 = np.minimum(x.astype(np.int64), size - 2)
    y0 = np.minimum(y.astype(np.int64), size - 2)
    wx, wy = (x - x0)[:, None], (y - y0)[:, None]
    top = (1 - wx) * textures[region, y0, x0] + wx * textures[region, y0, x0 + 1]
    bottom = (1 - wx) * textures[region, y0 + 1, x0] + wx * textures[region, y0 + 1, x0 + 1]
    return (((1 - wy) * top + wy * bottom) / 255.0).astype(np.float32)


def _garment_colour(rng: np.random.Generator, pal: Palette) -> np.ndarray:
    lo, hi = pal.hue_ranges[rng.integers(len(pal.hue_ranges))]
    hue = rng.uniform(lo, hi) / 360.0
    return np.array(
        colorsys.hsv_to_rgb(hue, rng.uniform(*pal.saturation), rng.uniform(*pal.value)), np.float32
    )


def _garment(rng: np.random.Generator, size: int, pal: Palette, pattern: Pattern) -> np.ndarray:
    """(S, S, 3) float32 garment texture: the pattern in palette colours, times a fabric grain.

    Pattern sizes are in units of 1/512 of the UV square (a texel of a 512 texture), about 3 mm
    on the torso and 5 mm on the legs of Anny's UV layout.
    """
    c0, c1, c2 = (_garment_colour(rng, pal) for _ in range(3))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) * np.float32(UV_UNIT / size)
    if pattern == "plain":
        image = _blend(c0, c0 * 0.85, _noise(rng, size, (8, 32), 1.0))
    elif pattern == "heather":
        image = _blend(c0, np.clip(c0 * 1.5 + 0.1, 0, 1), _noise(rng, size, (16, 64, 128), 0.6))
    elif pattern == "stripes":
        angle = rng.choice([0.0, np.pi / 2]) + rng.normal(0, 0.1)
        period = rng.uniform(10, 40)
        phase = (xx * np.cos(angle) + yy * np.sin(angle)) / period
        image = _blend(c0, c1, (phase % 1.0 < rng.uniform(0.3, 0.6)).astype(np.float32))
    elif pattern == "checks":
        period = rng.uniform(16, 48)
        bands_x = (xx / period) % 1.0 < 0.5
        bands_y = (yy / period) % 1.0 < 0.5
        image = _blend(c0, c1, 0.5 * bands_x + 0.5 * bands_y)
        thin = ((xx / period) % 1.0 < 0.08) | ((yy / period) % 1.0 < 0.08)
        image = np.where(thin[..., None], c2, image)
    elif pattern == "dots":
        period = rng.uniform(12, 36)
        cx, cy = (xx / period) % 1.0 - 0.5, (yy / period + 0.5 * np.floor(xx / period)) % 1.0 - 0.5
        image = _blend(c0, c1, (cx**2 + cy**2 < rng.uniform(0.05, 0.15)).astype(np.float32))
    elif pattern == "prints":
        image = np.ascontiguousarray(np.broadcast_to(c0, (size, size, 3)))
        for _ in range(UV_UNIT**2 // 400):
            _draw_shape(rng, image, (c1, c2)[rng.integers(2)])
    elif pattern == "camo":
        levels = _noise(rng, size, (12, 24, 48), 0.5)
        cut = np.quantile(levels, [0.35, 0.7])
        image = np.where(
            (levels < cut[0])[..., None], c0, np.where((levels < cut[1])[..., None], c1, c2)
        )
    else:
        raise ValueError(f"unknown pattern {pattern!r}; choose one of {get_args(Pattern)}")
    return image * _grain(rng, size, 0.08)


def _draw_shape(rng: np.random.Generator, image: np.ndarray, colour: np.ndarray) -> None:
    """Paint one random disc, square or triangle into ``image`` (S, S, 3) in place."""
    size = image.shape[0]
    centre = rng.uniform(0, size, 2)
    radius = rng.uniform(3, 9) * size / UV_UNIT
    corners = {"disc": 24, "square": 4, "triangle": 3}[rng.choice(["disc", "square", "triangle"])]
    angles = rng.uniform(0, 2 * np.pi) + np.linspace(0, 2 * np.pi, corners, endpoint=False)
    polygon = centre + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    cv2.fillPoly(image, [np.round(polygon).astype(np.int32)], colour.tolist())


def _hair(rng: np.random.Generator, size: int, colour: np.ndarray) -> np.ndarray:
    """(S, S, 3) hair: strands as noise stretched along a random UV direction."""
    streaks = cv2.resize(
        rng.random((8, 128)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC
    )
    if rng.random() < 0.5:
        streaks = streaks.T
    return _blend(
        colour * 0.7, np.clip(colour * 1.5 + 0.05, 0, 1), np.clip(streaks, 0, 1)
    ) * _grain(rng, size, 0.05)


def _noise(
    rng: np.random.Generator, size: int, cells: tuple[int, ...], persistence: float
) -> np.ndarray:
    """(S, S) float32 smooth value noise in [0, 1]: octaves on grids of ``cells`` cells per side,
    bicubically upsampled, amplitudes ``persistence ** octave``."""
    total = np.zeros((size, size), np.float32)
    for octave, n in enumerate(cells):
        grid = rng.random((n + 1, n + 1)).astype(np.float32)
        total += persistence**octave * cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def _grain(rng: np.random.Generator, size: int, amplitude: float) -> np.ndarray:
    """(S, S, 1) multiplicative fabric/skin grain around 1, features 3 to 6 UV units wide."""
    cells = tuple(min(n, size // 2) for n in (UV_UNIT // 6, UV_UNIT // 3))
    return (1.0 + amplitude * (2.0 * _noise(rng, size, cells, 0.7) - 1.0))[..., None]


def _blend(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(S, S, 3) ``a + weight (b - a)`` for colours a, b (3,) and weight (S, S)."""
    return a + weight[..., None] * (b - a)
