"""SMPL through smplx: loading (npz, chumpy-free pkl, folders, errors), the forward pass against
smplx's own SMPL class and a slow reference LBS, the body-frame conventions and the keypoints."""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import pytest
import roma
import torch
from tiny_smpl import REST_JOINTS, build_tiny_smpl, write_tiny_smpl

from selfmocap.body import BodyModelConfig, load_body_model
from selfmocap.body.names import KEYPOINT_NAMES, SMPL_JOINT_NAMES
from selfmocap.body.smpl_body import (
    SMPL_PATH_ENV,
    SMPLFileError,
    convert_smpl_pickle,
    find_smpl_file,
    read_smpl_file,
)
from selfmocap.errors import UserError

C = np.diag([1.0, -1.0, -1.0])  # SMPL axes -> body frame


def reference_smpl(arrays: dict, rot: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slow, obvious SMPL (Loper et al. 2015, Eq. 1-4): one frame, SMPL axes, root rotation identity.
    rot: (23, 3, 3) local joint rotations; returns vertices (V, 3) and joints (24, 3)."""
    s = len(betas)
    v_shaped = arrays["v_template"] + arrays["shapedirs"][:, :, :s] @ betas
    joints = arrays["J_regressor"] @ v_shaped
    rots = [np.eye(3)] + list(rot)
    feature = np.concatenate([(r - np.eye(3)).ravel() for r in rots[1:]])
    v_posed = v_shaped + arrays["posedirs"] @ feature
    parents = arrays["kintree_table"][0]
    world = []
    for j in range(24):
        local = np.eye(4)
        local[:3, :3] = rots[j]
        local[:3, 3] = joints[j] - (joints[parents[j]] if j else 0)
        world.append(local if j == 0 else world[parents[j]] @ local)
    skinning = []
    for j in range(24):
        a = world[j].copy()
        a[:3, 3] -= world[j][:3, :3] @ joints[j]
        skinning.append(a)
    homogeneous = np.concatenate([v_posed, np.ones((len(v_posed), 1))], axis=1)
    verts = np.zeros_like(v_posed)
    for j in range(24):
        verts += arrays["weights"][:, j : j + 1] * (homogeneous @ skinning[j].T)[:, :3]
    return verts, np.stack([w[:3, 3] for w in world])


@pytest.fixture(scope="module")
def smpl64(tiny_smpl_path):
    return load_body_model("smpl", tiny_smpl_path, dtype=torch.float64)


def test_forward_matches_the_reference_lbs_and_maps_to_the_body_frame(smpl64):
    arrays = build_tiny_smpl()
    rng = np.random.default_rng(1)
    pose = rng.normal(0, 0.4, (2, 23, 3))
    betas = rng.normal(0, 1.0, (2, 10))
    out = smpl64(torch.from_numpy(pose), torch.from_numpy(betas))
    assert out.vertices.shape == (2, len(arrays["v_template"]), 3)
    assert out.joints.shape == (2, 24, 3) and out.keypoints.shape == (2, 23, 3)
    for b in range(2):
        verts, joints = reference_smpl(arrays, roma.rotvec_to_rotmat(torch.from_numpy(pose[b])).numpy(), betas[b])
        assert np.allclose(out.vertices[b].numpy(), (verts - joints[0]) @ C.T, atol=1e-9)
        assert np.allclose(out.joints[b].numpy(), (joints - joints[0]) @ C.T, atol=1e-9)


def test_forward_matches_smplx_SMPL(tiny_smpl_path):
    smplx = pytest.importorskip("smplx")
    from smplx.utils import Struct

    body = load_body_model("smpl", tiny_smpl_path)
    # smplx's SMPL reads extra joints at fixed vertex ids of the 6890-vertex mesh: give it valid ones
    keys = ["nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"]
    keys += [h + t for h in "lr" for t in ("thumb", "index", "middle", "ring", "pinky")]
    model = smplx.SMPL(model_path=str(tiny_smpl_path), data_struct=Struct(**dict(np.load(tiny_smpl_path))),
                       vertex_ids=dict.fromkeys(keys, 0), create_transl=False)
    torch.manual_seed(0)
    pose, betas = torch.randn(3, 23, 3) * 0.4, torch.randn(3, 10)
    ref = model(betas=betas, body_pose=pose.reshape(3, -1), global_orient=torch.zeros(3, 3))
    mine = body(pose, betas)
    c = torch.from_numpy(C).float()
    assert torch.allclose(mine.vertices, (ref.vertices - ref.joints[:, :1]) @ c.T, atol=1e-5)
    assert torch.allclose(mine.joints, (ref.joints[:, :24] - ref.joints[:, :1]) @ c.T, atol=1e-5)


def test_body_frame_conventions(smpl_body):
    out = smpl_body(torch.zeros(1, 23, 3), smpl_body.default_shape[None])
    j = dict(zip(SMPL_JOINT_NAMES, out.joints[0]))
    k = dict(zip(KEYPOINT_NAMES, out.keypoints[0]))
    assert torch.equal(out.joints[0, 0], torch.zeros(3))  # root at the origin
    assert j["head"][1] < 0 < j["left_ankle"][1]  # y down
    assert j["left_shoulder"][0] > 0 > j["right_shoulder"][0]  # x towards the subject's left
    assert k["nose"][2] < j["head"][2]  # the subject faces -z
    assert torch.allclose(out.joints[0], torch.from_numpy((REST_JOINTS - REST_JOINTS[0]) @ C.T).float(), atol=1e-6)


def test_pose_is_in_smpl_axes(smpl64):
    """A joint rotation R given in SMPL's axes turns the child bone by C R C^T in the body frame."""
    i = SMPL_JOINT_NAMES.index("left_shoulder")
    rotvec = np.array([0.3, -0.5, 0.9])
    pose = np.zeros((1, 23, 3))
    pose[0, i - 1] = rotvec
    out = smpl64(torch.from_numpy(pose), smpl64.default_shape[None])
    rest = smpl64(torch.zeros(1, 23, 3, dtype=torch.float64), smpl64.default_shape[None])
    r = roma.rotvec_to_rotmat(torch.from_numpy(rotvec)).numpy()
    e = SMPL_JOINT_NAMES.index("left_elbow")
    bone_rest = (rest.joints[0, e] - rest.joints[0, i]).numpy()
    bone = (out.joints[0, e] - out.joints[0, i]).numpy()
    assert np.allclose(bone, C @ r @ C.T @ bone_rest, atol=1e-9)


@pytest.mark.parametrize("batch", [(1,), (5,)])
def test_batch_shapes_and_rotation_matrices(smpl_body, batch):
    pose = torch.randn(*batch, 23, 3) * 0.3
    out = smpl_body(pose, torch.zeros(1, 10))  # a (1, S) shape broadcasts
    out_rot = smpl_body(roma.rotvec_to_rotmat(pose), torch.zeros(*batch, 10))
    assert out.vertices.shape[0] == batch[0]
    assert torch.allclose(out.vertices, out_rot.vertices, atol=1e-5)
    with pytest.raises(ValueError, match="pose must have shape"):
        smpl_body(torch.zeros(23, 3), torch.zeros(1, 10))
    with pytest.raises(ValueError, match="shape must have shape"):
        smpl_body(pose, torch.zeros(1, 6))


@pytest.mark.slow  # gradcheck of the whole SMPL layer
def test_gradcheck_float64(smpl64):
    """Gradients w.r.t. an arm chain's rotations and three betas, on the hand and elbow keypoints."""
    joints = [SMPL_JOINT_NAMES.index(n) - 1 for n in ("left_collar", "left_shoulder", "left_elbow")]
    rest = torch.randn(1, 23, 3, dtype=torch.float64) * 0.3
    rot = rest[:, joints].clone().requires_grad_()
    betas = torch.randn(1, 3, dtype=torch.float64).requires_grad_()
    kp = [KEYPOINT_NAMES.index(n) for n in ("left_elbow", "left_wrist", "nose")]

    def keypoints(r, b):
        pose = rest.clone()
        pose[:, joints] = r
        return smpl64(pose, torch.cat([b, torch.zeros(1, 7, dtype=b.dtype)], 1)).keypoints[:, kp]

    assert torch.autograd.gradcheck(keypoints, (rot, betas), eps=1e-6, atol=1e-6)


def test_chumpy_free_pickle_with_a_sparse_regressor_loads_the_same(tmp_path, tiny_smpl_path):
    pkl = write_tiny_smpl(tmp_path / "model.pkl")
    a, b = load_body_model("smpl", pkl), load_body_model("smpl", tiny_smpl_path)
    pose = torch.randn(2, 23, 3) * 0.3
    assert torch.allclose(a(pose, torch.ones(1, 10)).vertices, b(pose, torch.ones(1, 10)).vertices, atol=1e-5)
    npz = convert_smpl_pickle(pkl, tmp_path / "converted.npz")
    assert np.array_equal(read_smpl_file(npz).j_regressor, read_smpl_file(tiny_smpl_path).j_regressor)


def test_official_chumpy_pickles_get_a_clear_error(tmp_path, monkeypatch):
    fake = types.ModuleType("chumpy.ch")

    class Ch:  # stands in for chumpy's array class, only to write a pickle referring to it
        pass

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    fake.Ch = Ch
    monkeypatch.setitem(sys.modules, "chumpy", types.ModuleType("chumpy"))
    monkeypatch.setitem(sys.modules, "chumpy.ch", fake)
    path = tmp_path / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
    path.write_bytes(pickle.dumps({**build_tiny_smpl(), "shapedirs": Ch()}, protocol=2))
    monkeypatch.delitem(sys.modules, "chumpy.ch")
    with pytest.raises(SMPLFileError, match="chumpy") as err:
        load_body_model("smpl", path)
    assert "\n" not in str(err.value) and "convert" in str(err.value)


def test_pickles_cannot_run_code(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"v_template": print}))
    with pytest.raises(SMPLFileError, match="cannot read"):
        read_smpl_file(path)


def test_missing_files_say_where_smpl_comes_from(tmp_path, monkeypatch):
    monkeypatch.delenv(SMPL_PATH_ENV, raising=False)
    for path in (None, tmp_path / "nowhere.npz", tmp_path):
        with pytest.raises(UserError) as err:
            load_body_model("smpl", path)
        message = str(err.value)
        assert "https://smpl.is.tue.mpg.de" in message and "licence" in message and "\n" not in message
        if path is not None:
            assert str(path) in message
    with pytest.raises(UserError, match="not an SMPL model"):
        bad = tmp_path / "bad.npz"
        np.savez(bad, **{**build_tiny_smpl(), "J_regressor": np.zeros((52, 728))})
        load_body_model("smpl", bad)


def test_folders_genders_and_the_environment_variable(tmp_path, monkeypatch):
    neutral = write_tiny_smpl(tmp_path / "SMPL_NEUTRAL.npz")
    (tmp_path / "smpl").mkdir()
    male = write_tiny_smpl(tmp_path / "smpl" / "basicmodel_m_lbs_10_207_0_v1.1.0.pkl", seed=1)
    assert find_smpl_file(tmp_path) == neutral
    assert find_smpl_file(tmp_path, "male") == male
    assert find_smpl_file(tmp_path, "female") == neutral  # falls back to the neutral model
    monkeypatch.setenv(SMPL_PATH_ENV, str(tmp_path))
    assert load_body_model("smpl").model_path == neutral
    assert BodyModelConfig(body_model="smpl").load().model_path == neutral


def test_body_model_config_resolution():
    assert BodyModelConfig().resolve() == "anny"
    assert BodyModelConfig().resolve("smpl") == "smpl"
    with pytest.raises(UserError, match="does not match"):
        BodyModelConfig(body_model="anny").resolve("smpl", "checkpoint x")
    with pytest.raises(UserError, match="is for SMPL"):
        load_body_model("anny", "/some/smpl.npz")


def test_keypoint_regressors(tmp_path, tiny_smpl_path, smpl_body):
    # a regressor stored in the file wins
    stored = np.random.default_rng(0).dirichlet(np.ones(728), size=23)
    body = load_body_model("smpl", write_tiny_smpl(tmp_path / "kp.npz", keypoint_regressor=stored))
    assert "stored" in body.keypoint_source and np.allclose(body.keypoint_regressor.numpy(), stored, atol=1e-7)
    # the fallback for other topologies: limbs from J_regressor, face/feet points near their targets
    assert smpl_body.keypoint_source.startswith("approximate")
    out = smpl_body(torch.zeros(1, 23, 3), torch.zeros(1, 10))
    k = dict(zip(KEYPOINT_NAMES, out.keypoints[0]))
    j = dict(zip(SMPL_JOINT_NAMES, out.joints[0]))
    assert torch.allclose(k["left_elbow"], j["left_elbow"], atol=1e-6)
    assert float((k["nose"] - j["head"]).norm()) < 0.15 and k["left_eye"][0] > 0 > k["right_eye"][0]
    assert float((k["left_heel"] - j["left_ankle"]).norm()) < 0.12 and k["left_big_toe"][2] < k["left_heel"][2]
    # SMPL's own topology: smplx's vertex ids for SMPL-H
    arrays = build_tiny_smpl()
    pad = 6890 - len(arrays["v_template"])
    weights = np.concatenate([arrays["weights"], np.eye(24)[np.zeros(pad, int)]])
    big = {k: np.concatenate([v, np.zeros((pad, *v.shape[1:]))]) for k, v in arrays.items() if k in ("v_template", "shapedirs", "posedirs")}
    path = tmp_path / "full.npz"
    np.savez(path, **{**arrays, **big, "weights": weights, "J_regressor": np.pad(arrays["J_regressor"], ((0, 0), (0, pad)))})
    from smplx.vertex_ids import vertex_ids

    full = load_body_model("smpl", path)
    assert "vertex ids" in full.keypoint_source
    a = full.keypoint_regressor.numpy()
    assert a[KEYPOINT_NAMES.index("nose"), vertex_ids["smplh"]["nose"]] == 1.0
    assert a[KEYPOINT_NAMES.index("right_heel"), vertex_ids["smplh"]["RHeel"]] == 1.0
    assert np.allclose(a.sum(1), 1.0, atol=1e-6)


def test_texture_layout_and_skinning_weights(smpl_body):
    from selfmocap.render.texture import PARTS, SurfaceLayout

    layout = SurfaceLayout.from_body(smpl_body)
    assert layout.face_uv.shape == smpl_body.faces.shape and layout.uv.min() >= 0 and layout.uv.max() <= 1
    parts = {PARTS[i] for i in np.unique(layout.face_part)}
    assert {"torso", "hips", "hand", "foot", "upperarm01", "lowerarm01", "upperleg01", "lowerleg01", "scalp"} <= parts
    assert smpl_body.lbs_weights.shape == (728, 24) and torch.allclose(smpl_body.lbs_weights.sum(1), torch.ones(728))
