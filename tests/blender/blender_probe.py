"""Run by ``tests/blender`` in a subprocess (bpy is heavy and keeps global state): import a
capture's ``motion.glb`` and ``motion.bvh`` into real Blender (``bpy``) and write what Blender
sees to a JSON file and the evaluated mesh to an ``.npz``.

    python blender_probe.py MOTION.glb MOTION.bvh FPS OUT_PREFIX

Blender is z-up: the glTF importer maps glTF (x, y, z) to Blender (x, -z, y); the BVH importer
(``axis_forward="-Z", axis_up="Y"``, the defaults) does the same.
"""

from __future__ import annotations

import json
import sys

import bpy
import numpy as np


def evaluated_vertices(obj) -> np.ndarray:
    """(V, 3) world coordinates of ``obj``'s mesh after its modifiers (the armature) at the current frame."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    co = np.empty(3 * len(mesh.vertices))
    mesh.vertices.foreach_get("co", co)
    matrix = np.array(evaluated.matrix_world)
    evaluated.to_mesh_clear()
    return co.reshape(-1, 3) @ matrix[:3, :3].T + matrix[:3, 3]


def armature(before: set) -> "bpy.types.Object":
    (arm,) = [o for o in bpy.data.objects if o.type == "ARMATURE" and o.name not in before]
    return arm


def keyed_frames(action) -> list[float]:
    frames = sorted({k.co[0] for fc in action.fcurves for k in fc.keyframe_points})
    return frames


def main(glb: str, bvh: str, fps: float, prefix: str) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    # one video frame per Blender frame (docs/exports.md: set the frame rate before importing the glb)
    scene.render.fps = max(1, round(fps))
    scene.render.fps_base = scene.render.fps / fps
    bpy.ops.import_scene.gltf(filepath=glb)
    arm = armature(set())
    body = bpy.data.objects["body"]
    camera = bpy.data.objects["capture_camera"]
    frames = keyed_frames(arm.animation_data.action)
    out = {"glb": {
        "bones": len(arm.data.bones),
        "bone_names": [b.name for b in arm.data.bones],
        "keyed_frames": frames,
        "scene_fps": scene.render.fps / scene.render.fps_base,
        "mesh_vertices": len(body.data.vertices),
        "mesh_armature": [m.object.name for m in body.modifiers if m.type == "ARMATURE"] == [arm.name],
        "camera": list(camera.matrix_world.translation),
        "frames": {},
    }}
    vertices = {}
    for f in frames[:2] + [frames[-1], 1.0]:
        scene.frame_set(int(f))
        v = evaluated_vertices(body)
        vertices[f"frame_{int(f)}"] = v
        out["glb"]["frames"][str(int(f))] = {
            "lowest_z": float(v[:, 2].min()),
            "root": list(arm.matrix_world @ arm.pose.bones[arm.data.bones[0].name].head),
            "bones": {b.name: list(arm.matrix_world @ b.head) for b in arm.pose.bones},
        }
    np.savez(prefix + "_glb.npz", **vertices)

    before = {o.name for o in bpy.data.objects}
    bpy.ops.import_anim.bvh(filepath=bvh, global_scale=0.01, update_scene_fps=True, update_scene_duration=True)
    arm = armature(before)
    frames = keyed_frames(arm.animation_data.action)
    scene.frame_set(int(frames[0]))
    root = arm.pose.bones[arm.data.bones[0].name]
    out["bvh"] = {
        "bones": len(arm.data.bones),
        "bone_names": [b.name for b in arm.data.bones],
        "keyed_frames": frames,
        "scene_fps": scene.render.fps / scene.render.fps_base,
        "frame_end": scene.frame_end,
        "root_first": list(arm.matrix_world @ root.head),
    }
    with open(prefix + ".json", "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4])
