"""The Blender tier: a short capture's ``motion.glb`` and ``motion.bvh`` imported by real Blender
(``bpy``, the optional extra ``selfmocap[blender]``), in a subprocess (``blender_probe.py``).

Skipped when ``bpy`` is not installed. Blender is z-up: a glTF/world point (x, y, z) is Blender's
(x, -z, y), so the ground y = 0 is Blender's z = 0.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("bpy") is None:
    pytest.skip("bpy (Blender as a Python module, pip install 'selfmocap[blender]') is not installed",
                allow_module_level=True)

from selfmocap.capture.demo import write_video
from selfmocap.cli import main
from selfmocap.data.clip import Clip
from selfmocap.synth.config import SynthConfig
from selfmocap.synth.run import generate

FRAMES = 6
PROBE = Path(__file__).with_name("blender_probe.py")


def to_blender(points: np.ndarray) -> np.ndarray:
    """(..., 3) glTF / world y-up points -> Blender z-up: (x, -z, y)."""
    points = np.asarray(points, np.float64)
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], -1)


@pytest.fixture(scope="module")
def captured(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("blender")
    # seed 3 of the test split: a person mediapipe finds in every frame at this size (as tests/capture)
    clip = Clip(generate(SynthConfig(out=root / "clip", split="test", clips=1, frames=FRAMES, seed=3, size=256))[0])
    video = write_video((clip.rgb(t) for t in range(len(clip))), root / "clip.mp4", clip.meta.fps)
    out = root / "result"
    assert main(["capture", str(video), "--out", str(out), "--iters", "2", "--batch", "2", "--no-overlay"]) == 0
    return out


@pytest.fixture(scope="module")
def seen(captured):
    """What Blender sees of the glb and the bvh (JSON) and the evaluated glb mesh (npz)."""
    from selfmocap.export import read_motion_npz

    motion = read_motion_npz(captured / "motion.npz")
    prefix = captured.parent / "probe"
    run = subprocess.run([sys.executable, str(PROBE), str(captured / "motion.glb"), str(captured / "motion.bvh"),
                          str(motion.fps), str(prefix)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    info = json.loads(Path(str(prefix) + ".json").read_text())
    with np.load(str(prefix) + "_glb.npz") as z:
        vertices = {k: z[k] for k in z.files}
    return motion, info, vertices


def test_armatures_have_the_body_models_bones(seen, body):
    _, info, _ = seen
    for kind in ("glb", "bvh"):
        assert info[kind]["bones"] == len(body.joint_names), kind
        assert sorted(info[kind]["bone_names"]) == sorted(body.joint_names), kind
    assert info["glb"]["mesh_vertices"] == len(body.skinning_weights()) and info["glb"]["mesh_armature"]


def test_actions_have_every_frame_at_the_videos_fps(seen):
    motion, info, _ = seen
    # the glb's keys are seconds: at the scene's frame rate set to the video's, one per Blender frame from 0
    assert info["glb"]["keyed_frames"] == [float(f) for f in range(FRAMES)]
    assert info["glb"]["scene_fps"] == pytest.approx(motion.fps)
    # the bvh importer starts at frame 1 and adopts the file's frame time
    assert info["bvh"]["keyed_frames"] == [float(f) for f in range(1, FRAMES + 1)]
    assert info["bvh"]["scene_fps"] == pytest.approx(motion.fps, rel=1e-3)


def test_skinned_mesh_follows_the_bones(seen, body):
    """Blender's evaluated mesh (armature modifier, depsgraph) moves between two frames, and at each
    frame it is the mesh our own skinning of the file predicts (so it follows the bones)."""
    from selfmocap.export.gltf import glb_vertices

    motion, info, vertices = seen
    ours = to_blender(glb_vertices(motion, body))
    last = FRAMES - 1
    for f in (0, last):
        assert np.abs(vertices[f"frame_{f}"] - ours[f]).max() < 1e-3, f  # metres
    moved = np.linalg.norm(vertices[f"frame_{last}"] - vertices["frame_0"], axis=1)
    assert moved.max() > 0.01
    # the vertices move with the bone that dominates them: the wrist's hand follows the wrist
    weights = body.skinning_weights().detach().numpy()
    for bone in ("left_wrist", "right_ankle"):
        j = list(body.joint_names).index(bone)
        own = weights[:, j] > 0.9
        head = {f: np.array(info["glb"]["frames"][str(f)]["bones"][bone]) for f in (0, last)}
        # rigid with the bone: the distances of its own vertices to the bone's head do not change
        d0 = np.linalg.norm(vertices["frame_0"][own] - head[0], axis=1)
        d1 = np.linalg.norm(vertices[f"frame_{last}"][own] - head[last], axis=1)
        assert np.abs(d0 - d1).max() < 0.01, bone


def test_feet_on_the_ground_and_the_root_at_the_captured_distance(seen):
    motion, info, vertices = seen
    world = motion.world
    for f in ("0", "1"):
        lowest = info["glb"]["frames"][f]["lowest_z"]
        assert abs(lowest) < 0.02, (f, lowest)  # metres: Blender's ground z = 0
    camera = np.array(info["glb"]["camera"])
    assert np.allclose(camera, to_blender(world.camera_position), atol=1e-4)
    distance = float(world.distance()[0])
    assert not np.isclose(distance, 4.0, atol=0.05)  # not Eq. 3's fixed depth
    for root in (info["glb"]["frames"]["0"]["root"], info["bvh"]["root_first"]):
        assert np.linalg.norm(np.array(root) - camera) == pytest.approx(distance, abs=0.01)
