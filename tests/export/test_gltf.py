from dataclasses import replace

import numpy as np
import pytest
import pygltflib
import trimesh

from selfmocap.body.names import JOINT_NAMES
from selfmocap.export.gltf import MAX_INFLUENCES, glb_vertices, top_k_influences, write_glb
from export_helpers import FPS, NUM_FRAMES, evaluate_glb, read_accessor


@pytest.fixture(scope="module")
def glb(body, motion, tmp_path_factory):
    path = write_glb(tmp_path_factory.mktemp("glb") / "motion.glb", motion, body)
    gltf = pygltflib.GLTF2().load(str(path))
    return path, gltf, gltf.binary_blob()


def test_trimesh_loads_the_glb_as_a_scene(glb, body):
    scene = trimesh.load(str(glb[0]))
    assert isinstance(scene, trimesh.Scene)
    assert sorted(scene.geometry) == ["body", "ground"]
    mesh = scene.geometry["body"]
    assert mesh.vertices.shape == (body.faces.max() + 1, 3) and len(mesh.faces) == len(body.faces)


def test_animation_skin_and_weights(glb, body):
    _, gltf, blob = glb
    assert [n.name for n in gltf.nodes[: len(JOINT_NAMES)]] == list(JOINT_NAMES)
    (skin,) = gltf.skins
    assert skin.joints == list(range(len(JOINT_NAMES)))
    assert gltf.accessors[skin.inverseBindMatrices].count == len(JOINT_NAMES)
    (animation,) = gltf.animations
    assert len(animation.channels) == len(JOINT_NAMES) + 1  # every rotation + the root translation
    for sampler in animation.samplers:
        assert sampler.interpolation == "LINEAR"
        assert gltf.accessors[sampler.input].count == gltf.accessors[sampler.output].count == NUM_FRAMES
    times = read_accessor(gltf, blob, animation.samplers[0].input)[:, 0]
    assert np.allclose(times, np.arange(NUM_FRAMES) / FPS)
    prim = gltf.meshes[0].primitives[0]
    weights = read_accessor(gltf, blob, prim.attributes.WEIGHTS_0)
    joints = read_accessor(gltf, blob, prim.attributes.JOINTS_0)
    assert weights.shape[1] == joints.shape[1] == MAX_INFLUENCES
    assert np.allclose(weights.sum(1), 1.0, atol=1e-6) and (weights >= 0).all()
    assert joints.max() < len(JOINT_NAMES)
    assert gltf.scenes[0].extras["frames_without_person"] == [[2, 2]]


def test_glb_skinning_reproduces_the_body_model(glb, body, motion, world_reference):
    _, gltf, blob = glb
    joints_world, vertices_world = world_reference
    ours = glb_vertices(motion, body)
    for t in range(NUM_FRAMES):
        joint_world, skinned = evaluate_glb(gltf, blob, t)
        # the joints are exact; the skin matches the package's LBS and is close to Anny's mesh
        assert np.abs(joint_world[:, :3, 3] - joints_world[t]).max() < 1e-5
        assert np.abs(skinned - ours[t]).max() < 1e-4
        error = np.linalg.norm(skinned - vertices_world[t], axis=1)
        # top-4 linear blend skinning of folded weights (docs/exports.md has the measured numbers)
        assert error.mean() < 1e-3 and error.max() < 0.04, (t, error.mean(), error.max())


def test_camera_and_ground_in_the_world_frame(glb, body, motion):
    """The camera node sits at the estimated height and pitch; the skinned mesh seen through it
    (the file's own yfov, the image's centre as principal point) lands where the world frame's
    projection puts it, and near where Eq. 3 put the camera-frame mesh."""
    import math

    import torch

    from selfmocap.geometry.camera import project
    from export_helpers import quaternion_matrix

    _, gltf, blob = glb
    world = motion.world
    node = next(n for n in gltf.nodes if n.name == "capture_camera")
    assert np.allclose(node.translation, world.camera_position)
    rotation = quaternion_matrix(np.array(node.rotation))
    assert np.allclose(rotation, world.camera_rotation_gl(), atol=1e-6)
    camera = gltf.cameras[node.camera].perspective
    width, height = motion.image_size
    focal = height / 2 / math.tan(camera.yfov / 2)
    assert focal == pytest.approx(world.focal) and camera.aspectRatio == pytest.approx(width / height)
    ground = next(n for n in gltf.nodes if n.name == "ground")
    corners = read_accessor(gltf, blob, gltf.meshes[ground.mesh].primitives[0].attributes.POSITION)
    assert np.all(corners[:, 1] == 0.0)
    assert gltf.scenes[0].extras["camera_height_m"] == pytest.approx(world.camera_position[1])
    with torch.no_grad():
        vertices = body(torch.from_numpy(motion.pose), torch.from_numpy(motion.shape)[None]).vertices.double()
    eq3 = project(vertices, motion.cameras()).numpy()
    ours = world.project(vertices.numpy(), motion.camera[:, 7:9])
    # without foot locking and the lift only the perspective of the new distance moves it
    rigid = replace(world, translation=world.translation - world.foot_offset).project(vertices.numpy(), motion.camera[:, 7:9])
    assert np.linalg.norm(rigid - eq3, axis=-1).mean() < 0.02 * height
    for t in range(NUM_FRAMES):
        _, skinned = evaluate_glb(gltf, blob, t)
        x = (skinned - world.camera_position) @ rotation  # glTF camera axes: x right, y up, looking down -z
        seen = np.stack([focal * x[:, 0] / -x[:, 2] + width / 2, -focal * x[:, 1] / -x[:, 2] + height / 2], 1)
        assert np.abs(seen - ours[t]).max() < 0.5  # pixels: top-4 skinning only


def test_skinning_weights_cover_the_joints(body):
    weights = body.skinning_weights().double().numpy()
    assert weights.shape == (len(body.faces.unique()), len(JOINT_NAMES))
    assert np.allclose(weights.sum(1), 1.0, atol=1e-6) and (weights >= 0).all()
    assert (weights.max(0) > 0.4).all()  # every joint moves some vertices substantially


def test_top_k_influences():
    weights = np.array([[0.1, 0.2, 0.3, 0.05, 0.35], [1.0, 0.0, 0.0, 0.0, 0.0]])
    kept = top_k_influences(weights, k=3)
    assert kept.joints.tolist() == [[4, 2, 1], [0, 0, 0]]
    assert np.allclose(kept.weights, [[0.35 / 0.85, 0.3 / 0.85, 0.2 / 0.85], [1.0, 0.0, 0.0]])
    assert np.allclose(kept.dense(5).sum(1), 1.0)
    with pytest.raises(ValueError, match="rows summing to 1"):
        top_k_influences(weights * 2)
