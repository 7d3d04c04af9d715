"""Binary glTF 2.0 (``.glb``) export: a rigged, skinned, animated body.

Contents (``docs/exports.md``):

* node per joint of the body model (``body.joint_names``), parented like ``body.joint_parents``,
  with the rest skeleton at the captured shape as translations and identity rest rotations
  (Anny's pose is local-ref, so the pose rotations are the joints' local rotations);
* the mesh at the captured shape in the zero pose (the bind pose), with smooth normals, a skin
  over those joints (inverse bind matrices = the rest joint translations negated), ``JOINTS_0``
  / ``WEIGHTS_0`` with at most 4 influences per vertex (:func:`top_k_influences`);
* one animation: the root joint's world translation and rotation and every other joint's local
  rotation, one keyframe per video frame at ``t / fps`` seconds, LINEAR interpolation;
* the capture camera at its estimated height and pitch above the world origin, with the vertical
  field of view of the focal length assumed (:attr:`~selfmocap.export.world.WorldFrame.focal`);
* a ``ground`` node: a grey square at y = 0 under the camera and the root's path.

Everything is in the world frame of :mod:`selfmocap.export.world` (metres, y up, the ground at
y = 0), which is glTF's own orientation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygltflib as gl
import roma
import torch

from selfmocap.io import write_bytes
from selfmocap.export.motion import CapturedMotion, frame_ranges
from selfmocap.export.skeleton import RestPose, forward_kinematics, rest_pose, world_motion
from selfmocap.geometry.rotations import continuous_quaternions
from selfmocap.render.shading import vertex_normals

#: Influences per vertex written to JOINTS_0 / WEIGHTS_0 (glTF's one set, the common importers' limit).
MAX_INFLUENCES = 4


@dataclass(frozen=True)
class SkinInfluences:
    """Per-vertex joint influences as glTF stores them.

    Attributes:
        joints: (V, k) int joint indices (unused slots: joint 0 with weight 0).
        weights: (V, k) float32 weights, each row summing to 1, sorted in decreasing order.
    """

    joints: np.ndarray
    weights: np.ndarray

    def dense(self, num_joints: int) -> np.ndarray:
        """(V, J) weights over all joints."""
        out = np.zeros((len(self.joints), num_joints))
        np.add.at(out, (np.arange(len(self.joints))[:, None], self.joints), self.weights)
        return out


def top_k_influences(weights: np.ndarray, k: int = MAX_INFLUENCES) -> SkinInfluences:
    """Keep each vertex's ``k`` largest weights of (V, J) ``weights`` and renormalise them."""
    weights = np.asarray(weights, np.float64)
    if weights.ndim != 2 or (weights < 0).any() or not np.allclose(weights.sum(1), 1.0, atol=1e-4):
        raise ValueError(f"weights must be (V, J), non-negative, rows summing to 1; got {weights.shape}")
    k = min(k, weights.shape[1])
    joints = np.argsort(-weights, axis=1, kind="stable")[:, :k]
    kept = np.take_along_axis(weights, joints, axis=1)
    kept /= kept.sum(axis=1, keepdims=True)
    joints = np.where(kept > 0, joints, 0)
    weights32 = kept.astype(np.float32)
    # make each float32 row sum to 1 as exactly as float32 allows (glTF validators check it)
    weights32[:, 0] = np.float32(1.0) - weights32[:, 1:].sum(axis=1, dtype=np.float32)
    return SkinInfluences(joints=joints, weights=weights32)


def linear_blend_skinning(
    rest: RestPose, influences: SkinInfluences, positions: np.ndarray, rotations: np.ndarray
) -> np.ndarray:
    """What a glTF viewer shows: (T, V, 3) vertices of ``rest.vertices`` skinned with the joints'
    world positions (T, J, 3) and rotations (T, J, 3, 3) (the rig has identity rest rotations, so
    joint j moves a rest point x to ``G_j (x - j_rest) + x_j``)."""
    # einsum legend: t frame, v vertex, k influence, i/c xyz
    g = rotations[:, influences.joints]  # (T, V, k, 3, 3)
    local = rest.vertices[:, None, :] - rest.joints[influences.joints]  # (V, k, 3)
    moved = np.einsum("tvkic,vkc->tvki", g, local) + positions[:, influences.joints]
    return np.einsum("vk,tvki->tvi", influences.weights.astype(np.float64), moved)


class _Buffer:
    """The .glb's one binary buffer, its views and accessors."""

    def __init__(self, gltf: gl.GLTF2):
        self.gltf = gltf
        self.chunks: list[bytes] = []
        self.length = 0

    def accessor(self, array: np.ndarray, kind: str, *, target: int | None = None, bounds: bool = False) -> int:
        component = {
            np.dtype(np.float32): gl.FLOAT,
            np.dtype(np.uint8): gl.UNSIGNED_BYTE,
            np.dtype(np.uint16): gl.UNSIGNED_SHORT,
            np.dtype(np.uint32): gl.UNSIGNED_INT,
        }[array.dtype]
        data = np.ascontiguousarray(array).tobytes()
        pad = -self.length % 4
        self.chunks.append(b"\x00" * pad + data)
        offset = self.length + pad
        self.length = offset + len(data)
        self.gltf.bufferViews.append(gl.BufferView(buffer=0, byteOffset=offset, byteLength=len(data), target=target))
        flat = array.reshape(len(array), -1)
        self.gltf.accessors.append(
            gl.Accessor(
                bufferView=len(self.gltf.bufferViews) - 1,
                componentType=component,
                count=len(array),
                type=kind,
                min=flat.min(axis=0).tolist() if bounds else None,
                max=flat.max(axis=0).tolist() if bounds else None,
            )
        )
        return len(self.gltf.accessors) - 1

    def blob(self) -> bytes:
        return b"".join(self.chunks)


def write_glb(path: str | Path, motion: CapturedMotion, body) -> Path:
    """Write ``motion`` as a rigged, skinned, animated binary glTF 2.0 (module docstring)
    atomically; return ``path``."""
    if motion.body_model != body.name:
        raise ValueError(f"motion is for body model {motion.body_model!r}, got {body.name!r}")
    from selfmocap import __version__

    rest = rest_pose(body, motion.shape)
    world = world_motion(motion, body)
    placed = motion.placed()
    influences = top_k_influences(body.skinning_weights().detach().cpu().double().numpy())
    num_joints = len(rest.joint_names)
    gltf = gl.GLTF2(asset=gl.Asset(version="2.0", generator=f"selfmocap {__version__}"))
    gltf.buffers.append(gl.Buffer())
    buf = _Buffer(gltf)

    # joints: identity rest rotations, rest offsets as translations
    offsets = rest.offsets
    for j, name in enumerate(rest.joint_names):
        children = [c for c, p in enumerate(rest.joint_parents) if p == j]
        gltf.nodes.append(gl.Node(name=name, translation=offsets[j].tolist(), children=children or None))

    # mesh in the bind (zero) pose
    vertices = rest.vertices.astype(np.float32)
    faces = rest.faces
    attributes = gl.Attributes(
        POSITION=buf.accessor(vertices, gl.VEC3, target=gl.ARRAY_BUFFER, bounds=True),
        NORMAL=buf.accessor(vertex_normals(vertices, faces), gl.VEC3, target=gl.ARRAY_BUFFER),
        JOINTS_0=buf.accessor(
            influences.joints.astype(np.uint8 if num_joints < 256 else np.uint16), gl.VEC4, target=gl.ARRAY_BUFFER
        ),
        WEIGHTS_0=buf.accessor(influences.weights, gl.VEC4, target=gl.ARRAY_BUFFER),
    )
    indices = buf.accessor(faces.astype(np.uint32).reshape(-1), gl.SCALAR, target=gl.ELEMENT_ARRAY_BUFFER)
    gltf.materials.append(
        gl.Material(
            name="body",
            pbrMetallicRoughness=gl.PbrMetallicRoughness(
                baseColorFactor=[0.55, 0.75, 1.0, 1.0], metallicFactor=0.0, roughnessFactor=0.8
            ),
        )
    )
    gltf.meshes.append(gl.Mesh(name="body", primitives=[gl.Primitive(attributes=attributes, indices=indices, material=0)]))
    inverse_bind = np.tile(np.eye(4), (num_joints, 1, 1))
    inverse_bind[:, :3, 3] = -rest.joints
    # glTF matrices are column-major: store each transpose row by row.
    ibm = buf.accessor(inverse_bind.transpose(0, 2, 1).astype(np.float32), gl.MAT4)
    root = next(j for j, p in enumerate(rest.joint_parents) if p < 0)
    gltf.skins.append(gl.Skin(name="skeleton", joints=list(range(num_joints)), inverseBindMatrices=ibm, skeleton=root))
    gltf.nodes.append(gl.Node(name="body", mesh=0, skin=0))
    mesh_node = len(gltf.nodes) - 1

    # the capture camera (glTF cameras look down their -z with y up), placed like the estimated one
    width, height = motion.image_size
    focal = placed.focal
    gltf.cameras.append(
        gl.Camera(
            name="capture_camera",
            type=gl.PERSPECTIVE,
            perspective=gl.Perspective(
                yfov=2.0 * math.atan(height / (2.0 * focal)), aspectRatio=width / height, znear=0.05, zfar=100.0
            ),
        )
    )
    camera_rotation = roma.rotmat_to_unitquat(torch.as_tensor(placed.camera_rotation_gl())).numpy()
    gltf.nodes.append(gl.Node(name="capture_camera", camera=0, translation=placed.camera_position.tolist(),
                              rotation=camera_rotation.tolist()))
    camera_node = len(gltf.nodes) - 1

    # the ground: a square at y = 0 covering the camera and the root's path (1 m margin)
    xz = np.concatenate([world.root_position[:, [0, 2]], placed.camera_position[None, [0, 2]]])
    (x0, z0), (x1, z1) = xz.min(0) - 1.0, xz.max(0) + 1.0
    square = np.array([[x0, 0, z0], [x0, 0, z1], [x1, 0, z1], [x1, 0, z0]], np.float32)
    gltf.materials.append(gl.Material(name="ground", pbrMetallicRoughness=gl.PbrMetallicRoughness(
        baseColorFactor=[0.5, 0.5, 0.5, 1.0], metallicFactor=0.0, roughnessFactor=1.0)))
    ground_attributes = gl.Attributes(
        POSITION=buf.accessor(square, gl.VEC3, target=gl.ARRAY_BUFFER, bounds=True),
        NORMAL=buf.accessor(np.tile(np.float32([0, 1, 0]), (4, 1)), gl.VEC3, target=gl.ARRAY_BUFFER),
    )
    ground_indices = buf.accessor(np.array([0, 1, 2, 0, 2, 3], np.uint32), gl.SCALAR, target=gl.ELEMENT_ARRAY_BUFFER)
    gltf.meshes.append(gl.Mesh(name="ground", primitives=[gl.Primitive(attributes=ground_attributes, indices=ground_indices,
                                                                        material=1)]))
    gltf.nodes.append(gl.Node(name="ground", mesh=1))
    ground_node = len(gltf.nodes) - 1

    # animation: root translation + every joint's rotation, one key per frame
    times = (np.arange(motion.num_frames) / motion.fps).astype(np.float32)
    time_accessor = buf.accessor(times, gl.SCALAR, bounds=True)
    samplers, channels = [], []

    def channel(node: int, path: str, values: np.ndarray, kind: str) -> None:
        samplers.append(gl.AnimationSampler(input=time_accessor, output=buf.accessor(values.astype(np.float32), kind), interpolation=gl.ANIM_LINEAR))
        channels.append(gl.AnimationChannel(sampler=len(samplers) - 1, target=gl.AnimationChannelTarget(node=node, path=path)))

    channel(root, "translation", world.root_position, gl.VEC3)
    # (T, J, 4) XYZW, signs continuous along time: interpolating between keys takes the short way
    quats = continuous_quaternions(roma.rotmat_to_unitquat(torch.as_tensor(world.rotations, dtype=torch.float64))).numpy()
    for j in range(num_joints):
        channel(j, "rotation", quats[:, j], gl.VEC4)
    gltf.animations.append(gl.Animation(name="capture", samplers=samplers, channels=channels))

    gltf.scenes.append(
        gl.Scene(
            name="selfmocap",
            nodes=[root, mesh_node, camera_node, ground_node],
            extras={
                "body_model": motion.body_model,
                "fps": float(motion.fps),
                "frames": int(motion.num_frames),
                "image_size": list(motion.image_size),
                "frames_without_person": [list(r) for r in frame_ranges(~np.asarray(motion.detected))],
                "world": "y up, metres, ground plane y = 0",
                "focal_px": float(placed.focal),
                "camera_height_m": float(placed.camera_position[1]),
                "camera_pitch_deg": float(placed.camera_pitch),
            },
        )
    )
    gltf.scene = 0
    gltf.set_binary_blob(buf.blob())
    gltf.buffers[0].byteLength = buf.length
    return write_bytes(path, b"".join(gltf.save_to_bytes()))


def glb_vertices(motion: CapturedMotion, body) -> np.ndarray:
    """(T, V, 3) world vertices the .glb's skin produces (top-4 linear blend skinning), for
    measuring how close it is to the body model (``benchmarks/bench_export_skinning.py``)."""
    rest = rest_pose(body, motion.shape)
    positions, rotations = forward_kinematics(rest, world_motion(motion, body))
    influences = top_k_influences(body.skinning_weights().detach().cpu().double().numpy())
    return linear_blend_skinning(rest, influences, positions, rotations)
