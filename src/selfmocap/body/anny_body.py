"""Anny (Apache-2.0 code, CC0 MakeHuman assets) as a selfmocap body model.

Anny is Z-up with the subject facing -Y and x towards the subject's left; its pose deltas use the
``local-ref`` parameterisation (each bone's rotation relative to its parent, in world-aligned
rest axes, like SMPL's). We keep that for ``pose`` and map the outputs to the body frame of
:mod:`selfmocap.body.model`. Shape is Anny's six phenotype parameters, each in [0, 1].
"""

from __future__ import annotations

import contextlib
import functools
import io
import os

import torch

from selfmocap.body.model import BodyOutput, check_shape_vector, pose_to_rotmat
from selfmocap.body.names import (
    ANNY_ARTICULATED_BONES,
    ANNY_TO_BODY,
    JOINT_NAMES,
    JOINT_PARENTS,
    KEYPOINT_NAMES,
)



#: What Warp's native library prints on stderr on every machine without an NVIDIA driver.
_WARP_NO_CUDA = "Could not find or load the NVIDIA CUDA driver"


def _init_warp_quietly() -> None:
    """``warp.init()`` with its "no CUDA driver" warning (printed by native code on file
    descriptor 2, once per process on every CPU machine) removed; anything else it prints on
    stderr is passed on."""
    import tempfile

    import warp

    sys_stderr = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            warp.init()
        finally:
            os.dup2(sys_stderr, 2)
            os.close(sys_stderr)
        captured.seek(0)
        text = captured.read().decode("utf-8", "replace")
    kept = "".join(line for line in text.splitlines(keepends=True) if _WARP_NO_CUDA not in line)
    if kept:
        os.write(2, kept.encode("utf-8"))


@functools.lru_cache(maxsize=2)
def _load_anny(dtype: torch.dtype):
    """Build (first time: minutes, cached under ``$ANNY_CACHE_DIR``) and load the Anny model."""
    # Warp (Anny's skinning backend) prints its banner on stdout; keep the CLI output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        _init_warp_quietly()
        import anny

        model = anny.Anny(rig="anny", topology="anny", pose_parameterization="local-ref")
        regressor = anny.KeypointsRegressor.coco(model, labels=list(KEYPOINT_NAMES))
        model = model.to(dtype)
        regressor = regressor.to(dtype)
        model.requires_grad_(False)
        model()  # the first call compiles Warp's skinning kernel, which prints a banner
    return model, regressor


class AnnyBody(torch.nn.Module):
    """Stateless Anny layer: ``forward(pose, shape) -> BodyOutput`` in the body frame."""

    name = "anny"
    joint_names = JOINT_NAMES
    joint_parents = JOINT_PARENTS
    keypoint_names = KEYPOINT_NAMES
    shape_names = ("gender", "age", "muscle", "weight", "height", "proportions")
    num_pose_joints = len(ANNY_ARTICULATED_BONES)
    shape_dim = 6
    shape_range = (0.0, 1.0)  #: every phenotype lives in [0, 1]

    def __init__(self, dtype: torch.dtype = torch.float32):
        super().__init__()
        with contextlib.redirect_stdout(io.StringIO()):
            model, regressor = _load_anny(dtype)
        self._anny = model
        self._regressor = regressor
        labels = list(model.bone_labels)
        self.bone_labels = tuple(labels)
        self.register_buffer(
            "articulated_index",
            torch.tensor([labels.index(b) for b in ANNY_ARTICULATED_BONES]),
            persistent=False,
        )
        self.register_buffer("to_body", torch.tensor(ANNY_TO_BODY, dtype=dtype), persistent=False)
        self.register_buffer("faces", model.faces.clone().long(), persistent=False)
        self.register_buffer(
            "default_shape", torch.full((self.shape_dim,), 0.5, dtype=dtype), persistent=False
        )
        if list(model.phenotype_labels) != list(self.shape_names):
            raise RuntimeError(
                f"unexpected Anny phenotype labels {model.phenotype_labels}; "
                f"selfmocap expects {self.shape_names} (anny>=0.6.2)"
            )

    @property
    def axes_to_body(self) -> torch.Tensor:
        """(3, 3) rotation from Anny's axes (those of ``pose``) to the body frame."""
        return self.to_body

    @property
    def texture_coordinates(self) -> torch.Tensor:
        """(Vt, 2) UV coordinates of the MakeHuman texture layout."""
        return self._anny.texture_coordinates

    @property
    def face_texture_indices(self) -> torch.Tensor:
        """(F, 3) index of each face corner into :attr:`texture_coordinates`."""
        return self._anny.face_texture_coordinate_indices

    def vertex_bone_labels(self) -> list[str]:
        """(V,) name of the bone with the largest skinning weight for each vertex."""
        weights = self._anny.vertex_bone_weights
        indices = self._anny.vertex_bone_indices
        best = indices.gather(1, weights.argmax(dim=1, keepdim=True))[:, 0]
        return [self.bone_labels[i] for i in best.tolist()]

    def skinning_weights(self) -> torch.Tensor:
        """(V, J) skinning weights over :data:`JOINT_NAMES` (rows sum to 1).

        Anny skins with up to 9 of its 104 bones per vertex; the bones that are not articulated here
        (twist, finger, toe, face, intermediate spine/neck bones) keep their rest rotation relative
        to their nearest articulated ancestor, so each bone's weight is folded into that ancestor
        (the root bone's into ``pelvis``). Linear blend skinning of ``forward(zero_pose, shape)``
        with these weights is not exactly Anny's: Anny's zero pose (its reference orientations)
        differs from its bind pose by a few degrees per bone, which moves vertices shared by two
        joints by up to a few millimetres (measured in ``docs/exports.md``).
        """
        parents = self._anny.bone_parents
        # Anny bone index -> joint index: the root bone is joint 0, articulated bone k is joint k + 1.
        exported = {int(b): j for j, b in enumerate([0, *self.articulated_index.tolist()])}
        target = []
        for bone in range(len(self.bone_labels)):
            while bone not in exported:
                bone = parents[bone]
            target.append(exported[bone])
        weights = self._anny.vertex_bone_weights
        indices = torch.as_tensor(target, device=weights.device)[self._anny.vertex_bone_indices]
        folded = torch.zeros(weights.shape[0], len(self.joint_names), dtype=weights.dtype, device=weights.device)
        return folded.scatter_add_(1, indices, weights)

    def rest_bone_heads(self, shape: torch.Tensor) -> torch.Tensor:
        """Head of every Anny bone (:attr:`bone_labels` order, fingers and toes included) in the
        rest pose, in the body frame (root at the origin); motion retargeting uses them as bone ends.

        Args:
            shape: (B, 6) phenotypes in [0, 1].
        Returns:
            (B, len(bone_labels), 3) metres.
        """
        shape = check_shape_vector(shape, self.shape_dim, shape.shape[0]).to(self.to_body.dtype)
        deltas = torch.eye(4, dtype=shape.dtype, device=shape.device).repeat(shape.shape[0], len(self.bone_labels), 1, 1)
        heads = self._anny(pose_parameters=deltas, phenotype_kwargs=shape)["bone_poses"][:, :, :3, 3]
        # einsum legend: b batch, n bones, i/j xyz
        return torch.einsum("ij,bnj->bni", self.to_body, heads - heads[:, :1])

    def forward(self, pose: torch.Tensor, shape: torch.Tensor) -> BodyOutput:
        """Args:
            pose: (B, 19, 3) axis-angle or (B, 19, 3, 3) rotations of :data:`ANNY_ARTICULATED_BONES`.
            shape: (B, 6) or (1, 6) phenotypes in [0, 1].
        """
        rot = pose_to_rotmat(pose, self.num_pose_joints)
        batch = rot.shape[0]
        shape = check_shape_vector(shape, self.shape_dim, batch)
        dtype = self.to_body.dtype
        rot, shape = rot.to(dtype), shape.to(dtype)
        deltas = torch.eye(4, dtype=dtype, device=rot.device).repeat(
            batch, len(self.bone_labels), 1, 1
        )
        deltas[:, self.articulated_index, :3, :3] = rot
        out = self._anny(pose_parameters=deltas, phenotype_kwargs=shape)
        vertices = out["vertices"]
        heads = out["bone_poses"][:, :, :3, 3]
        root = heads[:, :1]
        joints = torch.cat([root, heads[:, self.articulated_index]], dim=1)
        keypoints = self._regressor({"vertices": vertices})
        # einsum legend: b batch, n points, i/j xyz
        def to_body(x: torch.Tensor) -> torch.Tensor:
            return torch.einsum("ij,bnj->bni", self.to_body, x - root)

        return BodyOutput(vertices=to_body(vertices), joints=to_body(joints), keypoints=to_body(keypoints))


def anny_cache_dir() -> str:
    """Where Anny keeps its built model (about 800 MB, built once in about 1-4 minutes)."""
    return os.environ.get("ANNY_CACHE_DIR", os.path.expanduser("~/.cache/anny"))
