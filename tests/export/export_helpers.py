"""Helpers of the export tests: a small hand-made motion and an independent glTF evaluator."""

from __future__ import annotations

import numpy as np

from selfmocap.body.limits import ANNY_JOINT_LIMITS, euler_to_pose

#: Frames, image size (W, H) and frame rate of the test motion.
NUM_FRAMES = 4
IMAGE_SIZE = (64, 48)
FPS = 25.0


def make_motion_arrays(num_frames: int = NUM_FRAMES, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random joint-limited poses, a non-average shape and cameras 4 m away that turn the body.

    Returns pose (T, 19, 3), shape (6,), camera (T, 9) for an image of ``IMAGE_SIZE``.
    """
    rng = np.random.default_rng(seed)
    euler = rng.uniform(ANNY_JOINT_LIMITS.lower, ANNY_JOINT_LIMITS.upper, size=(num_frames, 19, 3))
    pose = euler_to_pose(euler).astype(np.float32)
    shape = np.array([0.3, 0.7, 0.4, 0.6, 0.8, 0.45], np.float32)
    camera = np.zeros((num_frames, 9), np.float32)
    camera[:, 0] = 40.0  # f: the 1.7 m body spans ~17 px of the 48 px height at 4 m
    camera[:, 1:4] = rng.normal(0.0, 0.4, size=(num_frames, 3))  # alpha, beta, gamma
    camera[:, 2] += np.linspace(0.0, 1.2, num_frames)  # the subject turns about the vertical
    camera[:, 4:6] = rng.normal(0.0, 0.2, size=(num_frames, 2))  # Tx, Ty
    camera[:, 6] = 4.0  # depth
    camera[:, 7:9] = (IMAGE_SIZE[0] / 2, IMAGE_SIZE[1] / 2)
    return pose, shape, camera


# --- an independent glTF evaluator: reads the file's own data, as a viewer would ---

_COMPONENTS = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def read_accessor(gltf, blob: bytes, index: int) -> np.ndarray:
    """(count, width) array of accessor ``index`` (tightly packed views, as glb writers make them)."""
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    dtype = np.dtype(_COMPONENTS[acc.componentType])
    width = _WIDTH[acc.type]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    data = np.frombuffer(blob, dtype=dtype, count=acc.count * width, offset=start)
    return data.reshape(acc.count, width)


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """(4,) glTF quaternion (x, y, z, w) -> (3, 3) rotation, the textbook formula."""
    x, y, z, w = np.asarray(q, np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def evaluate_glb(gltf, blob: bytes, key: int) -> tuple[np.ndarray, np.ndarray]:
    """Pose every node with keyframe ``key`` of the first animation and skin the first mesh.

    Returns the world matrices of the skin's joints (J, 4, 4) and the skinned vertices (V, 3).
    """
    trs = {}
    for i, node in enumerate(gltf.nodes):
        trs[i] = {
            "translation": np.array(node.translation or [0.0, 0.0, 0.0], np.float64),
            "rotation": np.array(node.rotation or [0.0, 0.0, 0.0, 1.0], np.float64),
            "scale": np.array(node.scale or [1.0, 1.0, 1.0], np.float64),
        }
    animation = gltf.animations[0]
    for channel in animation.channels:
        sampler = animation.samplers[channel.sampler]
        trs[channel.target.node][channel.target.path] = read_accessor(gltf, blob, sampler.output)[key].astype(np.float64)
    local = {}
    for i, t in trs.items():
        m = np.eye(4)
        m[:3, :3] = quaternion_matrix(t["rotation"]) * t["scale"][None, :]
        m[:3, 3] = t["translation"]
        local[i] = m
    world = {}

    def visit(i: int, parent: np.ndarray) -> None:
        world[i] = parent @ local[i]
        for c in gltf.nodes[i].children or []:
            visit(c, world[i])

    for i in gltf.scenes[gltf.scene].nodes:
        visit(i, np.eye(4))
    skin = gltf.skins[0]
    # glTF matrices are column-major
    inverse_bind = read_accessor(gltf, blob, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    joint_world = np.stack([world[j] for j in skin.joints])
    joint_matrices = joint_world @ inverse_bind
    prim = gltf.meshes[0].primitives[0]
    positions = read_accessor(gltf, blob, prim.attributes.POSITION).astype(np.float64)
    joints = read_accessor(gltf, blob, prim.attributes.JOINTS_0).astype(np.int64)
    weights = read_accessor(gltf, blob, prim.attributes.WEIGHTS_0).astype(np.float64)
    homogeneous = np.concatenate([positions, np.ones((len(positions), 1))], axis=1)
    # einsum legend: v vertex, k influence, i/c homogeneous xyz1
    moved = np.einsum("vkic,vc->vki", joint_matrices[joints], homogeneous)[..., :3]
    return joint_world, np.einsum("vk,vki->vi", weights, moved)
