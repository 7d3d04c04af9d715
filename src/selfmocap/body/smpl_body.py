"""SMPL (Loper et al., SIGGRAPH Asia 2015) as a selfmocap body model, through the ``smplx`` package.

SMPL's files are not free to redistribute: the user registers at https://smpl.is.tue.mpg.de,
accepts its licence and points selfmocap at the files (``--body-model-path`` or
``$SELFMOCAP_SMPL_PATH``). Nothing of SMPL ships with selfmocap or is written into checkpoints.

Files. Either a model file or a folder holding them:

* ``.npz`` with SMPL's keys (``v_template`` (V, 3), ``shapedirs`` (V, 3, S), ``posedirs``
  (V, 3, 207), ``J_regressor`` (24, V), ``weights`` (V, 24), ``kintree_table`` (2, 24), ``f``
  (F, 3)); optionally ``keypoint_regressor`` (23, V), see *Keypoints* below;
* ``.pkl`` with the same keys and plain numpy / scipy.sparse values. The official SMPL ``.pkl``
  files hold ``chumpy`` objects: they need chumpy to unpickle, which selfmocap does not install;
  convert them once where chumpy is installed (:func:`convert_smpl_pickle`, ``docs/smpl.md``).
  Pickles are read with a restricted unpickler that only builds numpy and scipy.sparse objects.

A folder is searched for ``SMPL_{NEUTRAL,MALE,FEMALE}`` and the official ``basicModel_*``
names (``.npz`` first), also in a ``smpl/`` sub-folder (smplx's layout).

SMPL-X (``smplx_body``) is read by the same code: :class:`ModelFamily` holds what differs between
the two (files, environment variables, kinematic tree, topology, beta columns) and
:class:`SMPLBody` exports a prefix of the family's joints, keeping the others at rest.

Conventions (``docs/conventions.md``, ``docs/smpl.md``). SMPL is y-up with the subject facing
+z and x towards the subject's left. The outputs are mapped to the body frame (x left, y down,
z back, root at the origin) by ``SMPL_TO_BODY = diag(1, -1, -1)``, a 180 degree rotation about x.
``pose`` stays in SMPL's own axes: the 23 non-root joint rotations of SMPL's ``pose[3:72]``
(local, world-aligned rest axes, like Anny's ``local-ref``), so SMPL parameters from other tools
(SURREAL, AMASS) go in unchanged; a rotation ``R`` in SMPL axes is ``C R C^T`` in the body
frame. The global orientation is the camera rotation of Eq. 3, so SMPL's root rotation is the
identity here. ``shape`` is the betas (10 by default, fewer if the file has fewer).

Keypoints (Eq. 2, ``X_kpt = A X`` on the posed vertices): the limb keypoints (shoulders, elbows,
wrists, hips, knees, ankles) are SMPL's ``J_regressor`` rows of those joints applied to the posed
mesh; face and foot points are single vertices, smplx's ``vertex_ids['smplh']`` (SMPL and SMPL-H
share the 6890-vertex topology). A file with a ``keypoint_regressor`` (K, V) array uses it
instead. Any other vertex count (e.g. a test model) falls back to the rest-pose vertex nearest to
an anatomical offset from a joint (:data:`LANDMARK_OFFSETS`): approximate, and said so in
:attr:`SMPLBody.keypoint_source`.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import torch
from smplx.lbs import lbs
from smplx.vertex_ids import vertex_ids as SMPLX_VERTEX_IDS

from selfmocap.body.model import BodyOutput, check_shape_vector, pose_to_rotmat
from selfmocap.body.names import KEYPOINT_NAMES, SMPL_JOINT_NAMES, SMPL_JOINT_PARENTS, SMPL_TO_BODY
from selfmocap.errors import UserError

Gender = Literal["neutral", "male", "female"]
#: Environment variable read when no path is given.
SMPL_PATH_ENV: Final[str] = "SELFMOCAP_SMPL_PATH"
#: Where SMPL comes from, said in every error about missing or unreadable files.
SMPL_SOURCE: Final[str] = (
    "SMPL is not redistributable: register at https://smpl.is.tue.mpg.de, accept its licence "
    "(it is yours to accept), download the model and pass --body-model-path FILE_OR_FOLDER or set "
    f"${SMPL_PATH_ENV} (an .npz, or a .pkl without chumpy objects; docs/smpl.md)"
)
#: Vertex count of SMPL's (and SMPL-H's) mesh: the topology smplx's vertex ids refer to.
SMPL_NUM_VERTICES: Final[int] = 6890
NUM_SMPL_JOINTS: Final[int] = 24
DEFAULT_NUM_BETAS: Final[int] = 10


#: File stems searched in a folder, per gender (lower case; ``.npz`` before ``.pkl``).
SMPL_FILE_STEMS: Final[dict[str, tuple[str, ...]]] = {
    "neutral": ("smpl_neutral", "basicmodel_neutral_lbs_10_207_0_v1.0.0", "basicmodel_neutral_lbs_10_207_0_v1.1.0"),
    "male": ("smpl_male", "basicmodel_m_lbs_10_207_0_v1.0.0", "basicmodel_m_lbs_10_207_0_v1.1.0"),
    "female": ("smpl_female", "basicmodel_f_lbs_10_207_0_v1.0.0", "basicmodel_f_lbs_10_207_0_v1.1.0"),
}
_REQUIRED_KEYS: Final[tuple[str, ...]] = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")


@dataclass(frozen=True)
class ModelFamily:
    """What differs between the SMPL-format models read here (SMPL, SMPL-X): their files, where
    they come from, their full kinematic tree and mesh topology.

    Attributes:
        name: display name (``"SMPL"``).
        source: where the files come from and how to pass them, said in every file error.
        env_vars: environment variables read, in order, when no path is given.
        file_stems: per gender, file stems searched in a folder (lower case; ``.npz`` before ``.pkl``).
        subfolder: sub-folder also searched (smplx's ``models/`` layout).
        joint_names: all joints of the file (``J_regressor`` rows, ``weights`` columns), root first.
        parents: (J,) parent of each joint, -1 for the root (the file's ``kintree_table[0]``).
        num_vertices: vertex count of the official mesh, the topology ``vertex_ids_key`` refers to.
        vertex_ids_key: key of smplx's ``vertex_ids`` for that topology.
        shape_space: None when every ``shapedirs`` column is a beta (SMPL); else the number of
            betas of a full file, whose later columns are expression components; files with fewer
            columns hold 10 betas, then expression (SMPL-X v1.0), as smplx reads them.
    """

    name: str
    source: str
    env_vars: tuple[str, ...]
    file_stems: dict[str, tuple[str, ...]]
    subfolder: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    num_vertices: int
    vertex_ids_key: str
    shape_space: int | None = None

    def available_betas(self, columns: int) -> int:
        """How many of ``columns`` ``shapedirs`` columns are betas (the rest: expression)."""
        if self.shape_space is None:
            return columns
        return self.shape_space if columns >= self.shape_space else min(DEFAULT_NUM_BETAS, columns)


#: SMPL's family: 24 joints, 6890 vertices, every shapedirs column a beta.
SMPL_FAMILY: Final[ModelFamily] = ModelFamily(
    name="SMPL", source=SMPL_SOURCE, env_vars=(SMPL_PATH_ENV,), file_stems=SMPL_FILE_STEMS, subfolder="smpl",
    joint_names=SMPL_JOINT_NAMES, parents=SMPL_JOINT_PARENTS, num_vertices=SMPL_NUM_VERTICES, vertex_ids_key="smplh",
)

#: Keypoints regressed by a joint's ``J_regressor`` row: keypoint name -> SMPL joint name.
KEYPOINT_JOINTS: Final[dict[str, str]] = {
    f"{side}_{part}": f"{side}_{joint}"
    for side in ("left", "right")
    for part, joint in (("shoulder", "shoulder"), ("elbow", "elbow"), ("wrist", "wrist"),
                        ("hip", "hip"), ("knee", "knee"), ("ankle", "ankle"))
}
#: Keypoints that are one vertex of the 6890-vertex topology: keypoint name -> smplx vertex-id key.
KEYPOINT_VERTEX_KEYS: Final[dict[str, str]] = {
    "nose": "nose", "left_eye": "leye", "right_eye": "reye", "left_ear": "lear", "right_ear": "rear",
    "left_big_toe": "LBigToe", "right_big_toe": "RBigToe", "left_small_toe": "LSmallToe",
    "right_small_toe": "RSmallToe", "left_heel": "LHeel", "right_heel": "RHeel",
}
#: Fallback for other topologies: keypoint -> (SMPL joint, offset in metres in SMPL axes, x left,
#: y up, z forward) for an average adult in the rest pose; the nearest rest-pose vertex is taken.
#: Right-side offsets are the left ones with x negated.
LANDMARK_OFFSETS: Final[dict[str, tuple[str, tuple[float, float, float]]]] = {
    "nose": ("head", (0.0, 0.04, 0.10)),
    "left_eye": ("head", (0.032, 0.075, 0.08)),
    "left_ear": ("head", (0.075, 0.045, -0.01)),
    "left_big_toe": ("left_foot", (-0.015, -0.03, 0.07)),
    "left_small_toe": ("left_foot", (0.035, -0.03, 0.05)),
    "left_heel": ("left_ankle", (0.0, -0.07, -0.06)),
}


class SMPLFileError(UserError):
    """SMPL files are missing, unreadable or not an SMPL model (a one-line message)."""


@dataclass(frozen=True)
class SMPLModelData:
    """The arrays of an SMPL-format model file, validated against its ``family`` (V vertices,
    S shape components, J = 24 joints for SMPL, 55 for SMPL-X, F faces).

    Attributes:
        v_template: (V, 3) rest mesh, SMPL axes, metres.
        shapedirs: (V, 3, S) shape (SMPL-X: and expression) blend shapes.
        posedirs: (V, 3, 9 (J - 1)) pose blend shapes.
        j_regressor: (J, V) dense joint regressor.
        weights: (V, J) skinning weights.
        parents: (J,) parent joint of each joint, -1 for the root.
        faces: (F, 3) int64 triangles.
        keypoint_regressor: (23, V) keypoint regressor stored in the file, or None.
        path: the file it was read from.
        family: the model family the file must belong to.
    """

    v_template: np.ndarray
    shapedirs: np.ndarray
    posedirs: np.ndarray
    j_regressor: np.ndarray
    weights: np.ndarray
    parents: np.ndarray
    faces: np.ndarray
    keypoint_regressor: np.ndarray | None
    path: Path
    family: ModelFamily = SMPL_FAMILY

    def __post_init__(self) -> None:
        v = len(self.v_template)
        j = len(self.family.joint_names)
        problems = []
        if self.v_template.shape != (v, 3):
            problems.append(f"v_template {self.v_template.shape}")
        if self.shapedirs.ndim != 3 or self.shapedirs.shape[:2] != (v, 3):
            problems.append(f"shapedirs {self.shapedirs.shape}")
        if self.posedirs.shape != (v, 3, 9 * (j - 1)):
            problems.append(f"posedirs {self.posedirs.shape} (expected ({v}, 3, {9 * (j - 1)}))")
        if self.j_regressor.shape != (j, v):
            problems.append(f"J_regressor {self.j_regressor.shape} (expected ({j}, {v}): {self.family.name} has {j} joints)")
        if self.weights.shape != (v, j):
            problems.append(f"weights {self.weights.shape}")
        if tuple(self.parents.tolist()) != self.family.parents:
            problems.append(f"kintree_table parents {self.parents.tolist()} are not {self.family.name}'s")
        if self.faces.ndim != 2 or self.faces.shape[1] != 3 or self.faces.min() < 0 or self.faces.max() >= v:
            problems.append(f"f {self.faces.shape}")
        if self.keypoint_regressor is not None and self.keypoint_regressor.shape != (len(KEYPOINT_NAMES), v):
            problems.append(f"keypoint_regressor {self.keypoint_regressor.shape}")
        if problems:
            others = "; SMPL files need --body-model smpl, SMPL-X files --body-model smplx, SMPL-H is not supported"
            raise SMPLFileError(
                f"{self.path} is not an {self.family.name} model ({j} joints{others}): " + "; ".join(problems)
                + f". {self.family.source}"
            )


def find_smpl_file(path: str | Path | None = None, gender: Gender = "neutral", family: ModelFamily = SMPL_FAMILY) -> Path:
    """The model file to use: ``path`` itself, or the ``gender`` file in the folder ``path``
    (the first of ``family.env_vars`` that is set when ``path`` is None: ``$SELFMOCAP_SMPL_PATH``
    for SMPL). A folder without the requested male/female file falls back to its neutral one.
    Raises :class:`SMPLFileError` naming what was tried."""
    if path is None:
        path = next((os.environ[v] for v in family.env_vars if os.environ.get(v)), None)
        if path is None:
            raise SMPLFileError(f"the {family.name} body model needs its model file, and none was given. {family.source}")
    path = Path(path).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise SMPLFileError(f"{family.name} model {path} does not exist. {family.source}")
    folders = (path, path / family.subfolder)
    files = {p.name.lower(): p for folder in folders if folder.is_dir() for p in folder.iterdir() if p.is_file()}
    for wanted in (gender, "neutral") if gender != "neutral" else ("neutral",):
        for stem in family.file_stems[wanted]:
            for ext in (".npz", ".pkl"):
                if stem + ext in files:
                    return files[stem + ext]
    tried = ", ".join(f"{s}.npz/.pkl" for s in family.file_stems[gender])
    raise SMPLFileError(
        f"no {family.name} {gender} model in {path} (looked for {tried}, also in {family.subfolder}/). {family.source}"
    )


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and scipy.sparse matrices only (no arbitrary code); chumpy objects
    (the official SMPL pickles) raise :class:`SMPLFileError` with the way out."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("copyreg", "_reconstructor"), ("builtins", "object"),
        ("_codecs", "encode"),  # how protocol-2 pickles store bytes
    }
    _SPARSE_MODULES = frozenset({
        "scipy.sparse", "scipy.sparse.csc", "scipy.sparse._csc", "scipy.sparse.csr", "scipy.sparse._csr",
        "scipy.sparse.coo", "scipy.sparse._coo", "scipy.sparse._arrays",
    })
    _SPARSE_NAMES = frozenset({"csc_matrix", "csr_matrix", "coo_matrix", "csc_array", "csr_array", "coo_array"})

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str):
        if module.split(".")[0] == "chumpy":
            raise SMPLFileError(
                f"{self.path} holds chumpy objects (the official SMPL .pkl): convert it once to .npz where chumpy is "
                "installed (docs/smpl.md: selfmocap.body.smpl_body.convert_smpl_pickle), or use a chumpy-free file"
            )
        # exact (module, name) pairs only; a dotted name (numpy + "interp._implementation.__builtins__.get")
        # would walk attributes to any object, so it is never allowed
        if "." not in name and ((module, name) in self._ALLOWED or (module in self._SPARSE_MODULES and name in self._SPARSE_NAMES)):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} (not numpy/scipy.sparse data)")


def _dense(value, name: str, path: Path) -> np.ndarray:
    if hasattr(value, "toarray"):  # scipy.sparse (SMPL's J_regressor)
        value = value.toarray()
    array = np.asarray(value)
    if array.dtype == object:
        raise SMPLFileError(f"{path}: {name} is not a plain array; save the model with dense numpy arrays (docs/smpl.md)")
    return array


def read_smpl_file(path: str | Path, family: ModelFamily = SMPL_FAMILY) -> SMPLModelData:
    """Read and validate an SMPL (``family``: SMPL-X) ``.npz`` or chumpy-free ``.pkl`` model file."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files if k in _REQUIRED_KEYS or k == "keypoint_regressor"}
        else:
            with open(path, "rb") as fh:
                raw = _NumpyOnlyUnpickler(fh, path).load()
    except SMPLFileError:
        raise
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as err:
        raise SMPLFileError(f"cannot read {family.name} model {path} ({type(err).__name__}: {err}). {family.source}") from None
    if not isinstance(raw, dict):
        raise SMPLFileError(f"{path} is not an {family.name} model file (no dictionary of arrays). {family.source}")
    missing = [k for k in _REQUIRED_KEYS if k not in raw]
    if missing:
        raise SMPLFileError(f"{path} is not an {family.name} model: missing {', '.join(missing)}. {family.source}")
    arrays = {k: _dense(raw[k], k, path) for k in _REQUIRED_KEYS}
    extra = raw.get("keypoint_regressor")
    kintree = arrays["kintree_table"][0].astype(np.int64)  # the root's parent: -1 or 2**32 - 1
    return SMPLModelData(
        v_template=arrays["v_template"].astype(np.float64),
        shapedirs=arrays["shapedirs"].astype(np.float64),
        posedirs=arrays["posedirs"].astype(np.float64),
        j_regressor=arrays["J_regressor"].astype(np.float64),
        weights=arrays["weights"].astype(np.float64),
        parents=np.where(kintree >= len(family.joint_names), -1, kintree),
        faces=arrays["f"].astype(np.int64),
        keypoint_regressor=None if extra is None else _dense(extra, "keypoint_regressor", path).astype(np.float64),
        path=path,
        family=family,
    )


def convert_smpl_pickle(source: str | Path, target: str | Path) -> Path:
    """Convert an official SMPL ``.pkl`` (chumpy objects) to a chumpy-free ``.npz`` (run once,
    where ``chumpy`` is installed; selfmocap never installs it). Also works on chumpy-free pickles.

    This uses the standard unpickler, which runs code from the file: only convert files
    downloaded from https://smpl.is.tue.mpg.de.
    """
    with open(source, "rb") as fh:
        data = pickle.load(fh, encoding="latin1")
    arrays = {}
    for key in _REQUIRED_KEYS:
        value = data[key]
        value = value.toarray() if hasattr(value, "toarray") else value
        arrays[key] = np.array(getattr(value, "r", value))  # chumpy arrays expose their value as .r
    target = Path(target)
    np.savez(target, **arrays)
    read_smpl_file(target)  # validate what was written
    return target


def keypoint_regressor(data: SMPLModelData) -> tuple[np.ndarray, str]:
    """(K, V) regressor A of :data:`KEYPOINT_NAMES` from the posed vertices (Eq. 2) and a short
    description of where it came from (see the module docstring)."""
    if data.keypoint_regressor is not None:
        return data.keypoint_regressor, "keypoint_regressor stored in the model file"
    family = data.family
    names = family.joint_names
    v = len(data.v_template)
    a = np.zeros((len(KEYPOINT_NAMES), v))
    for k, name in enumerate(KEYPOINT_NAMES):
        if name in KEYPOINT_JOINTS:
            a[k] = data.j_regressor[names.index(KEYPOINT_JOINTS[name])]
    face_feet = [k for k, n in enumerate(KEYPOINT_NAMES) if n in KEYPOINT_VERTEX_KEYS]
    if v == family.num_vertices:
        ids = SMPLX_VERTEX_IDS[family.vertex_ids_key]
        for k in face_feet:
            a[k, ids[KEYPOINT_VERTEX_KEYS[KEYPOINT_NAMES[k]]]] = 1.0
        return a, f"{family.name} joint regressor (limbs) and smplx's vertex ids {family.vertex_ids_key!r} (face, feet)"
    rest_joints = data.j_regressor @ data.v_template
    for k in face_feet:
        name = KEYPOINT_NAMES[k]
        right = name.startswith("right_")
        joint, offset = LANDMARK_OFFSETS[name.replace("right_", "left_")]
        joint = joint.replace("left_", "right_") if right else joint
        target = rest_joints[names.index(joint)] + np.array(offset) * ([-1.0, 1.0, 1.0] if right else 1.0)
        a[k, int(np.argmin(np.linalg.norm(data.v_template - target, axis=1)))] = 1.0
    return a, (
        f"approximate: {v} vertices is not {family.name}'s {family.num_vertices}, face and foot points are the "
        "rest-pose vertices nearest to anatomical offsets"
    )


def box_uv_atlas(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A procedural texture parametrisation for a mesh without UVs (SMPL's files have none).

    Each face is projected along the axis its rest-pose normal is closest to ("box" projection),
    with one UV per face corner so that faces of different projections do not share texels.
    Coordinates are divided by the mesh's largest extent, so a pattern has the same size
    everywhere; all six projections use the whole UV square (patterns repeat, which clothing
    textures tolerate).

    Args:
        vertices: (V, 3) rest-pose vertices. faces: (F, 3) triangles.
    Returns:
        uv (3F, 2) float32 in [0, 1] and face_uv (F, 3) int64 corner indices into it.
    """
    corners = vertices[faces]  # (F, 3 corners, 3 xyz)
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    axis = np.abs(normal).argmax(axis=1)
    lo, extent = vertices.min(axis=0), float(np.ptp(vertices, axis=0).max())
    scaled = (corners - lo) / max(extent, 1e-9)
    plane = np.array([[1, 2], [0, 2], [0, 1]])[axis]  # the two axes kept by each projection
    uv = np.take_along_axis(scaled, np.repeat(plane[:, None, :], 3, axis=1), axis=2)
    return uv.reshape(-1, 2).astype(np.float32), np.arange(3 * len(faces), dtype=np.int64).reshape(-1, 3)


class SMPLBody(torch.nn.Module):
    """Stateless SMPL layer: ``forward(pose, shape) -> BodyOutput`` in the body frame.

    Subclasses for other SMPL-format families (``SMPLXBody``) set :attr:`family`, :attr:`name`
    and the exported skeleton (:attr:`joint_names`, a prefix of the family's joints whose first
    :attr:`num_pose_joints` after the root are articulated); the family's other joints stay at
    their rest rotation.

    Args:
        path: model file or folder (None: ``$SELFMOCAP_SMPL_PATH``).
        gender: which file of a folder to use.
        num_betas: shape components S (default: 10, or the file's count if smaller).
        dtype: float dtype of the buffers.
    """

    name = "smpl"
    family: ModelFamily = SMPL_FAMILY
    joint_names = SMPL_JOINT_NAMES
    joint_parents = SMPL_JOINT_PARENTS
    keypoint_names = KEYPOINT_NAMES
    num_pose_joints = NUM_SMPL_JOINTS - 1
    shape_range = None  #: betas are unbounded

    def __init__(self, path: str | Path | None = None, gender: Gender = "neutral", num_betas: int | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.model_path = find_smpl_file(path, gender, self.family)
        data = read_smpl_file(self.model_path, self.family)
        available = self.family.available_betas(data.shapedirs.shape[2])
        wanted = min(DEFAULT_NUM_BETAS, available) if num_betas is None else num_betas
        if not 1 <= wanted <= available:
            raise SMPLFileError(f"{self.model_path} has {available} shape components, {wanted} were asked for")
        self.gender = gender
        self.shape_dim = wanted
        self.shape_names = tuple(f"beta{i}" for i in range(wanted))
        regressor, self.keypoint_source = keypoint_regressor(data)

        def buffer(name: str, value: np.ndarray) -> None:
            self.register_buffer(name, torch.tensor(value, dtype=dtype), persistent=False)

        buffer("v_template", data.v_template)
        buffer("shapedirs", data.shapedirs[:, :, :wanted])
        # smplx.lbs's layout: (9 (J - 1), V * 3)
        buffer("posedirs", data.posedirs.reshape(-1, data.posedirs.shape[-1]).T)
        buffer("J_regressor", data.j_regressor)
        buffer("lbs_weights", data.weights)  #: (V, J) skinning weights of all of the family's joints
        buffer("keypoint_regressor", regressor)
        buffer("axes_to_body", SMPL_TO_BODY)
        buffer("default_shape", np.zeros(wanted))
        self.register_buffer("parents", torch.tensor(data.parents), persistent=False)
        self.register_buffer("faces", torch.tensor(data.faces), persistent=False)
        # each of the family's joints -> its nearest exported ancestor (itself when exported)
        exported = []
        for joint in range(len(self.family.joint_names)):
            while joint >= len(self.joint_names):
                joint = int(data.parents[joint])
            exported.append(joint)
        self.register_buffer("exported_ancestor", torch.tensor(exported), persistent=False)
        uv, face_uv = box_uv_atlas(data.v_template @ SMPL_TO_BODY.T, data.faces)
        self.register_buffer("texture_coordinates", torch.tensor(uv), persistent=False)
        self.register_buffer("face_texture_indices", torch.tensor(face_uv), persistent=False)

    def extra_repr(self) -> str:
        return f"path={str(self.model_path)!r}, vertices={len(self.v_template)}, betas={self.shape_dim}"

    def vertex_bone_labels(self) -> list[str]:
        """(V,) name of the exported joint with the largest (folded) skinning weight for each vertex."""
        return [self.joint_names[i] for i in self.skinning_weights().argmax(dim=1).tolist()]

    def skinning_weights(self) -> torch.Tensor:
        """(V, J) linear-blend skinning weights over :attr:`joint_names` (rows sum to 1): the
        file's own weights, those of joints that are not exported (SMPL-X's jaw, eyes, fingers)
        folded into their nearest exported ancestor, which is exact because they stay at rest
        relative to it."""
        folded = torch.zeros(len(self.lbs_weights), len(self.joint_names), dtype=self.lbs_weights.dtype,
                             device=self.lbs_weights.device)
        return folded.index_add_(1, self.exported_ancestor, self.lbs_weights)

    def forward(self, pose: torch.Tensor, shape: torch.Tensor) -> BodyOutput:
        """Args:
            pose: (B, P, 3) axis-angle or (B, P, 3, 3) rotations of joints 1..P
                (P = :attr:`num_pose_joints`: 23 for SMPL), in the model's own axes.
            shape: (B, S) or (1, S) betas.
        """
        rot = pose_to_rotmat(pose, self.num_pose_joints)
        batch = rot.shape[0]
        dtype = self.v_template.dtype
        shape = check_shape_vector(shape, self.shape_dim, batch).to(dtype)
        # the root (global orientation is the camera's) and the joints not articulated stay at rest
        at_rest = len(self.family.joint_names) - self.num_pose_joints
        eye = torch.eye(3, dtype=dtype, device=rot.device).expand(batch, at_rest, 3, 3)
        full = torch.cat([eye[:, :1], rot.to(dtype), eye[:, 1:]], dim=1)
        vertices, joints = lbs(shape, full, self.v_template, self.shapedirs, self.posedirs, self.J_regressor,
                               self.parents, self.lbs_weights, pose2rot=False)
        joints = joints[:, : len(self.joint_names)]
        origin = joints[:, :1]
        # einsum legend: b batch, n points, v vertices, k keypoints, i/j xyz
        keypoints = torch.einsum("kv,bvi->bki", self.keypoint_regressor, vertices)

        def to_body(x: torch.Tensor) -> torch.Tensor:
            return torch.einsum("ij,bnj->bni", self.axes_to_body, x - origin)

        return BodyOutput(vertices=to_body(vertices), joints=to_body(joints), keypoints=to_body(keypoints))


__all__ = [
    "SMPL_FAMILY", "ModelFamily", "SMPLBody", "SMPLFileError", "SMPLModelData", "box_uv_atlas", "convert_smpl_pickle", "find_smpl_file",
    "keypoint_regressor", "read_smpl_file",
]
