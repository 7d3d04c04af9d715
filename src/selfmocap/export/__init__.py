"""What ``selfmocap capture`` writes (``docs/exports.md``): ``motion.npz``, a rigged and animated
``.glb``, a ``.bvh``, per-frame meshes, the overlay video and the HTML report.

Every writer takes a :class:`CapturedMotion` and (except the npz) the body model; all share the
world frame of :mod:`selfmocap.export.world` (y up, the ground at y = 0, the motion's ``world``)
and the rest skeleton of :mod:`selfmocap.export.skeleton`, and all write atomically.
"""

from selfmocap.export.bvh import write_bvh
from selfmocap.export.config import WorldOptions
from selfmocap.export.gltf import write_glb
from selfmocap.export.meshes import write_meshes
from selfmocap.export.motion import (
    CapturedMotion,
    captured_motion,
    format_frame_ranges,
    frame_ranges,
    read_motion_npz,
    write_motion_npz,
)
from selfmocap.export.overlay import SideView, overlay_frame, write_overlay_video
from selfmocap.export.report import collect_versions, write_report
from selfmocap.export.world import WorldFrame, place_in_world, world_summary

__all__ = [
    "CapturedMotion",
    "SideView",
    "WorldFrame",
    "WorldOptions",
    "captured_motion",
    "collect_versions",
    "format_frame_ranges",
    "frame_ranges",
    "overlay_frame",
    "place_in_world",
    "read_motion_npz",
    "write_bvh",
    "write_glb",
    "write_meshes",
    "write_motion_npz",
    "write_overlay_video",
    "write_report",
    "world_summary",
]
