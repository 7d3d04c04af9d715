"""SMPL-X (Pavlakos et al., CVPR 2019) as a selfmocap body model, body only, through ``smplx``.

SMPL-X's files are not free to redistribute: the user registers at https://smpl-x.is.tue.mpg.de,
accepts its licence and points selfmocap at the files (``--body-model smplx --body-model-path``,
or ``$SELFMOCAP_SMPLX_PATH``; when that is unset, ``$SELFMOCAP_SMPL_PATH``, so that one smplx-style
``models/`` folder holding ``smpl/`` and ``smplx/`` serves both). Nothing of SMPL-X ships with
selfmocap or is written into checkpoints.

Files: an ``.npz`` (or chumpy-free ``.pkl``) with SMPL-X's keys (``v_template`` (V, 3),
``shapedirs`` (V, 3, 300 betas + 100 expression components, or 10 + 10 in v1.0 files, or fewer),
``posedirs`` (V, 3, 486), ``J_regressor`` (55, V), ``weights`` (V, 55), ``kintree_table`` (2, 55),
``f``); the hand PCA, landmark and other keys of the official files are ignored. A folder is
searched for ``SMPLX_{NEUTRAL,MALE,FEMALE}`` (and their ``_2020`` versions), also in ``smplx/``.

What is articulated. The network predicts the body pose only, like the paper (and SMPL here):
``pose`` is SMPL-X's ``body_pose``, the 21 body joints after the pelvis (axis-angle, SMPL-X's
own world-aligned rest axes, which are SMPL's: ``axes_to_body`` is the same 180 degree rotation
about x). ``joint_names`` are the root and those 21 joints, named like SMPL's first 22. The jaw,
the eyes and the 30 finger joints stay at their rest rotation (flat hands, neutral face) and the
expression is zero; the forward pass still runs SMPL-X's linear blend skinning over all 55 joints
(``smplx.lbs.lbs``, the non-body ones identity). :meth:`skinning_weights` folds their weights into
their nearest exported ancestor (wrists, head), which is exact since they stay at rest relative to
it. ``shape`` is the betas (10 by default; ``num_betas=`` up to the file's 300).

Keypoints: as SMPL's (``smpl_body`` module docstring), with smplx's ``vertex_ids['smplx']`` for the
face and foot points on SMPL-X's 10475-vertex mesh, and the same approximate nearest-vertex
fallback for other meshes.
"""

from __future__ import annotations

from typing import Final

from selfmocap.body.names import SMPLX_BODY_JOINT_NAMES, SMPLX_JOINT_NAMES, SMPLX_JOINT_PARENTS
from selfmocap.body.smpl_body import SMPL_PATH_ENV, ModelFamily, SMPLBody

#: Environment variable read when no path is given (then ``$SELFMOCAP_SMPL_PATH``).
SMPLX_PATH_ENV: Final[str] = "SELFMOCAP_SMPLX_PATH"
#: Where SMPL-X comes from, said in every error about missing or unreadable files.
SMPLX_SOURCE: Final[str] = (
    "SMPL-X is not redistributable: register at https://smpl-x.is.tue.mpg.de, accept its licence "
    "(it is yours to accept), download the model and pass --body-model-path FILE_OR_FOLDER or set "
    f"${SMPLX_PATH_ENV} (an .npz, or a .pkl without chumpy objects; docs/smpl.md)"
)
#: Vertex count of SMPL-X's mesh: the topology of smplx's ``vertex_ids['smplx']``.
SMPLX_NUM_VERTICES: Final[int] = 10475
#: Betas of a full SMPL-X file (its later ``shapedirs`` columns are expression components).
SMPLX_SHAPE_SPACE: Final[int] = 300

SMPLX_FAMILY: Final[ModelFamily] = ModelFamily(
    name="SMPL-X",
    source=SMPLX_SOURCE,
    env_vars=(SMPLX_PATH_ENV, SMPL_PATH_ENV),
    file_stems={g: (f"smplx_{g}", f"smplx_{g}_2020") for g in ("neutral", "male", "female")},
    subfolder="smplx",
    joint_names=SMPLX_JOINT_NAMES,
    parents=SMPLX_JOINT_PARENTS,
    num_vertices=SMPLX_NUM_VERTICES,
    vertex_ids_key="smplx",
    shape_space=SMPLX_SHAPE_SPACE,
)


class SMPLXBody(SMPLBody):
    """Stateless SMPL-X layer, body pose only (see the module docstring):
    ``forward(pose (B, 21, 3) or (B, 21, 3, 3), betas (B, S)) -> BodyOutput`` with 22 joints.

    Args:
        path: model file or folder (None: ``$SELFMOCAP_SMPLX_PATH``, else ``$SELFMOCAP_SMPL_PATH``).
        gender: which file of a folder to use.
        num_betas: shape components S (default: 10, or the file's count if smaller).
        dtype: float dtype of the buffers.
    """

    name = "smplx"
    family = SMPLX_FAMILY
    joint_names = SMPLX_BODY_JOINT_NAMES
    joint_parents = SMPLX_JOINT_PARENTS[: len(SMPLX_BODY_JOINT_NAMES)]
    num_pose_joints = len(SMPLX_BODY_JOINT_NAMES) - 1


__all__ = ["SMPLXBody", "SMPLX_FAMILY", "SMPLX_PATH_ENV", "SMPLX_SOURCE"]
