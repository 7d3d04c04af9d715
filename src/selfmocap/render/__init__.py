"""Ray casting, visibility and synthetic shading of the body mesh (numpy in, numpy out).

Stage of the pipeline: mesh -> projection/raycast. :mod:`~selfmocap.render.raycast` casts rays
with Embree (``Fragments`` for every pixel), :mod:`~selfmocap.render.visibility` is the paper's
facet/vertex visibility, :mod:`~selfmocap.render.texture` and :mod:`~selfmocap.render.shading`
make SURREAL-like RGB frames.
"""

from selfmocap.render.raycast import Fragments, RayCaster, RayHits, pixel_ray_directions, rasterize
from selfmocap.render.shading import (
    LIGHT_PALETTES,
    Light,
    LightPalette,
    sample_light,
    shade,
    vertex_normals,
)
from selfmocap.render.texture import (
    PALETTES,
    PARTS,
    REGIONS,
    Appearance,
    Palette,
    PaletteName,
    Pattern,
    SurfaceLayout,
    sample_appearance,
)
from selfmocap.render.visibility import face_visibility, vertex_visibility

__all__ = [
    "LIGHT_PALETTES",
    "PALETTES",
    "PARTS",
    "REGIONS",
    "Appearance",
    "Fragments",
    "Light",
    "LightPalette",
    "Palette",
    "PaletteName",
    "Pattern",
    "RayCaster",
    "RayHits",
    "SurfaceLayout",
    "face_visibility",
    "pixel_ray_directions",
    "rasterize",
    "sample_appearance",
    "sample_light",
    "shade",
    "vertex_normals",
    "vertex_visibility",
]
