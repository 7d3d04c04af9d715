"""SMPL-X through smplx, body pose only: loading (files, folders, environment variables, errors),
the forward pass against smplx's own ``SMPLX`` class, the joints kept at rest, the folded skinning
weights and the keypoints."""

from __future__ import annotations

import numpy as np
import pytest
import roma
import torch
from tiny_smpl import SMPLX_REST_JOINTS, build_tiny_smpl, write_tiny_smpl

from selfmocap.body import BodyModelConfig, load_body_model
from selfmocap.body.names import KEYPOINT_NAMES, SMPL_JOINT_NAMES, SMPLX_JOINT_NAMES, SMPLX_JOINT_PARENTS
from selfmocap.body.smpl_body import SMPL_PATH_ENV, SMPLFileError, SMPLModelData, find_smpl_file, keypoint_regressor
from selfmocap.body.smplx_body import SMPLX_FAMILY, SMPLX_PATH_ENV
from selfmocap.errors import UserError

C = np.diag([1.0, -1.0, -1.0])  # SMPL-X axes -> body frame


def test_names_and_tree_are_smplx_s():
    import smplx.joint_names

    assert SMPLX_JOINT_NAMES == tuple(smplx.joint_names.JOINT_NAMES[:55])
    assert SMPLX_JOINT_PARENTS[22:28] == (15, 15, 15, 20, 25, 26) and SMPLX_JOINT_PARENTS[40] == 21
    from selfmocap.body.smplx_body import SMPLXBody

    assert SMPLXBody.joint_names == SMPL_JOINT_NAMES[:22] and SMPLXBody.num_pose_joints == 21
    assert "left_hand" not in SMPLXBody.joint_names


def test_forward_matches_smplx_SMPLX(tiny_smplx_path, tmp_path, monkeypatch):
    """smplx's SMPLX with flat hands, zero jaw/eyes/expression is our forward pass, in the body frame."""
    smplx = pytest.importorskip("smplx")
    import smplx.body_models

    body = load_body_model("smplx", tiny_smplx_path, dtype=torch.float64)
    arrays = dict(np.load(tiny_smplx_path))
    # SMPLX's constructor also reads the hand PCA and face landmarks of the official files, and
    # extra joints at fixed vertex ids of the 10475-vertex mesh: give it harmless ones
    extra = {"hands_componentsl": np.eye(45), "hands_componentsr": np.eye(45), "hands_meanl": np.zeros(45),
             "hands_meanr": np.zeros(45), "lmk_faces_idx": np.zeros(0, np.int64), "lmk_bary_coords": np.zeros((0, 3))}
    np.savez(tmp_path / "SMPLX_NEUTRAL.npz", **arrays, **extra)
    keys = ["nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"]
    keys += [h + t for h in "lr" for t in ("thumb", "index", "middle", "ring", "pinky")]
    monkeypatch.setitem(smplx.body_models.VERTEX_IDS, "smplx", dict.fromkeys(keys, 0))
    model = smplx.SMPLX(model_path=str(tmp_path / "SMPLX_NEUTRAL.npz"), use_pca=False, flat_hand_mean=True, batch_size=3,
                        num_expression_coeffs=0, use_face_contour=False, create_transl=False, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    pose, betas = torch.randn(3, 21, 3, generator=g, dtype=torch.float64) * 0.4, torch.randn(3, 10, generator=g, dtype=torch.float64)
    ref = model(betas=betas, body_pose=pose.reshape(3, -1), global_orient=torch.zeros(3, 3, dtype=torch.float64))
    mine = body(pose, betas)
    c = torch.from_numpy(C)
    assert mine.vertices.shape == (3, len(arrays["v_template"]), 3) and mine.joints.shape == (3, 22, 3)
    # smplx keeps some arrays in float32 (errors ~1e-7 m); a wrong joint or axis errs by centimetres
    assert torch.allclose(mine.vertices, (ref.vertices - ref.joints[:, :1]) @ c.T, atol=1e-6)
    assert torch.allclose(mine.joints, (ref.joints[:, :22] - ref.joints[:, :1]) @ c.T, atol=1e-6)
    # the pose is in SMPL-X's axes: turning the left shoulder by R turns the upper arm by C R C^T
    rest = body(torch.zeros(1, 21, 3, dtype=torch.float64), body.default_shape[None]).joints[0]
    turned = torch.zeros(1, 21, 3, dtype=torch.float64)
    s, e = SMPL_JOINT_NAMES.index("left_shoulder"), SMPL_JOINT_NAMES.index("left_elbow")
    turned[0, s - 1] = torch.tensor([0.3, -0.5, 0.9])
    out = body(turned, body.default_shape[None]).joints[0]
    r = roma.rotvec_to_rotmat(turned[0, s - 1])
    assert torch.allclose(out[e] - out[s], c @ r @ c.T @ (rest[e] - rest[s]), atol=1e-9)


def test_non_body_joints_stay_at_rest_and_their_weights_fold(smplx_body):
    """Fingers move rigidly with their wrist, so folding their skinning weights into it is exact."""
    weights = smplx_body.lbs_weights
    folded = smplx_body.skinning_weights()
    assert weights.shape[1] == 55 and folded.shape == (len(weights), 22)
    assert torch.allclose(folded.sum(1), torch.ones(len(weights)))
    fingers = [i for i, n in enumerate(SMPLX_JOINT_NAMES) if n.startswith("left_") and n[-1] in "123"]
    wrist = SMPL_JOINT_NAMES.index("left_wrist")
    assert torch.allclose(folded[:, wrist], weights[:, wrist] + weights[:, fingers].sum(1))
    head = SMPL_JOINT_NAMES.index("head")
    assert torch.allclose(folded[:, head], weights[:, [head, 22, 23, 24]].sum(1))
    hand = folded[:, wrist] > 0.99  # vertices of the left hand
    labels = smplx_body.vertex_bone_labels()
    assert hand.sum() > 100 and {labels[i] for i in hand.nonzero()[:, 0].tolist()} == {"left_wrist"}
    # a rotated elbow moves the hand rigidly: every hand vertex keeps its distance to the wrist
    pose = torch.zeros(1, 21, 3)
    pose[0, SMPL_JOINT_NAMES.index("left_elbow") - 1] = torch.tensor([0.2, 1.0, -0.3])
    smplx_posedirs = smplx_body.posedirs
    smplx_body.posedirs = torch.zeros_like(smplx_posedirs)  # pose correctives would deform it a little
    try:
        rest = smplx_body(torch.zeros(1, 21, 3), smplx_body.default_shape[None])
        posed = smplx_body(pose, smplx_body.default_shape[None])
    finally:
        smplx_body.posedirs = smplx_posedirs
    def to_wrist(out):
        return (out.vertices[0, hand] - out.joints[0, wrist]).norm(dim=1)

    assert torch.allclose(to_wrist(rest), to_wrist(posed), atol=1e-5)
    assert not torch.allclose(rest.vertices[0, hand], posed.vertices[0, hand], atol=1e-2)


def test_rest_skeleton_and_body_frame(smplx_body):
    out = smplx_body(torch.zeros(1, 21, 3), smplx_body.default_shape[None])
    expected = (SMPLX_REST_JOINTS[:22] - SMPLX_REST_JOINTS[0]) @ C.T
    assert torch.allclose(out.joints[0], torch.from_numpy(expected).float(), atol=1e-6)
    k = dict(zip(KEYPOINT_NAMES, out.keypoints[0]))
    j = dict(zip(SMPL_JOINT_NAMES, out.joints[0]))
    assert torch.allclose(k["left_wrist"], j["left_wrist"], atol=1e-6)
    assert k["nose"][2] < j["head"][2] and k["left_eye"][0] > 0 > k["right_eye"][0]  # faces -z, x left
    assert float((k["left_heel"] - j["left_ankle"]).norm()) < 0.12


def test_smplx_topology_uses_smplx_vertex_ids():
    """On SMPL-X's 10475-vertex mesh the face and foot points are smplx's ``vertex_ids['smplx']``."""
    from smplx.vertex_ids import vertex_ids

    arrays = build_tiny_smpl(smplx=True)
    v, pad = 10475, 10475 - len(arrays["v_template"])
    data = SMPLModelData(
        v_template=np.concatenate([arrays["v_template"], np.zeros((pad, 3))]),
        shapedirs=np.broadcast_to(0.0, (v, 3, 10)), posedirs=np.broadcast_to(0.0, (v, 3, 486)),
        j_regressor=np.pad(arrays["J_regressor"], ((0, 0), (0, pad))),
        weights=np.concatenate([arrays["weights"], np.eye(55)[np.zeros(pad, int)]]),
        parents=np.array(SMPLX_JOINT_PARENTS), faces=arrays["f"], keypoint_regressor=None, path=None,
        family=SMPLX_FAMILY,
    )
    a, source = keypoint_regressor(data)
    assert "'smplx'" in source
    assert a[KEYPOINT_NAMES.index("nose"), vertex_ids["smplx"]["nose"]] == 1.0
    assert a[KEYPOINT_NAMES.index("left_heel"), vertex_ids["smplx"]["LHeel"]] == 1.0
    assert np.allclose(a[KEYPOINT_NAMES.index("right_knee")], data.j_regressor[SMPL_JOINT_NAMES.index("right_knee")])
    assert np.allclose(a.sum(1), 1.0)


def test_betas_and_expression_columns(tmp_path):
    """Files with 10 betas + 10 expression columns (SMPL-X v1.0) give 10 betas, as smplx reads them."""
    arrays = build_tiny_smpl(smplx=True, num_betas=20)
    np.savez(tmp_path / "v10.npz", **arrays)
    body = load_body_model("smplx", tmp_path / "v10.npz")
    assert body.shape_dim == 10 and body.shapedirs.shape[2] == 10 and body.shape_range is None
    assert torch.equal(body.shapedirs, torch.tensor(arrays["shapedirs"][:, :, :10], dtype=torch.float32))
    with pytest.raises(SMPLFileError, match="has 10 shape components, 12 were asked for"):
        load_body_model("smplx", tmp_path / "v10.npz", num_betas=12)
    assert load_body_model("smplx", tmp_path / "v10.npz", num_betas=4).shape_dim == 4


def test_missing_and_wrong_files_are_one_line_errors(tmp_path, monkeypatch, tiny_smpl_path, tiny_smplx_path):
    monkeypatch.delenv(SMPLX_PATH_ENV, raising=False)
    monkeypatch.delenv(SMPL_PATH_ENV, raising=False)
    for path in (None, tmp_path / "nowhere.npz", tmp_path):
        with pytest.raises(UserError) as err:
            load_body_model("smplx", path)
        message = str(err.value)
        assert "https://smpl-x.is.tue.mpg.de" in message and "licence" in message and "\n" not in message
        if path is not None:
            assert str(path) in message
    with pytest.raises(UserError, match="is not an SMPL-X model .*--body-model smpl") as err:
        load_body_model("smplx", tiny_smpl_path)  # an SMPL file
    assert str(tiny_smpl_path) in str(err.value)
    with pytest.raises(UserError, match="is not an SMPL model .*--body-model smplx"):
        load_body_model("smpl", tiny_smplx_path)  # an SMPL-X file
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="cannot read SMPL-X model .*junk.npz"):
        load_body_model("smplx", tmp_path / "junk.npz")


def test_folders_and_environment_variables(tmp_path, monkeypatch):
    (tmp_path / "smplx").mkdir()
    neutral = write_tiny_smpl(tmp_path / "smplx" / "SMPLX_NEUTRAL.npz", smplx=True)
    female = write_tiny_smpl(tmp_path / "smplx" / "SMPLX_FEMALE_2020.npz", seed=1, smplx=True)
    assert find_smpl_file(tmp_path, "neutral", SMPLX_FAMILY) == neutral
    assert find_smpl_file(tmp_path, "female", SMPLX_FAMILY) == female
    assert find_smpl_file(tmp_path, "male", SMPLX_FAMILY) == neutral  # falls back to the neutral model
    # $SELFMOCAP_SMPLX_PATH first, else SMPL's variable (one smplx-style models/ folder for both)
    monkeypatch.delenv(SMPLX_PATH_ENV, raising=False)
    monkeypatch.setenv(SMPL_PATH_ENV, str(tmp_path))
    assert load_body_model("smplx").model_path == neutral
    monkeypatch.setenv(SMPLX_PATH_ENV, str(female))
    assert BodyModelConfig(body_model="smplx").load().model_path == female
    assert BodyModelConfig().resolve("smplx") == "smplx"


def test_procedural_motions_limits_and_flip_carry_over_by_joint_name(body, smplx_body):
    """Anny's motions drive SMPL-X's body joints (limbs within 2 degrees), its joint limits judge
    them, and the flip augmentation swaps SMPL-X's left and right joints."""
    from body.test_retarget import bone_angles

    from selfmocap.body.retarget import motion_pose_for_body, pose_limit_violation
    from selfmocap.body.names import pose_flip_index
    from selfmocap.synth.motion import TRAIN_FAMILIES, generate_motion

    motion = generate_motion(TRAIN_FAMILIES[0], np.random.default_rng(3), num_frames=8)
    anny = body(torch.from_numpy(motion.pose), body.default_shape[None]).joints
    pose = motion_pose_for_body(motion.pose, smplx_body)
    assert pose.shape == (8, 21, 3)
    assert bone_angles(anny, smplx_body(torch.from_numpy(pose), smplx_body.default_shape[None]).joints).max() < 2.0
    assert float(pose_limit_violation(smplx_body, roma.rotvec_to_rotmat(torch.from_numpy(pose))).max()) < 1e-8
    flip = pose_flip_index("smplx")
    names = SMPL_JOINT_NAMES[1:22]
    assert names[flip[names.index("left_wrist")]] == "right_wrist" and names[flip[names.index("neck")]] == "neck"
