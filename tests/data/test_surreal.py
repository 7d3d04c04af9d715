"""The SURREAL reader on a two-clip miniature written in SURREAL's own layout (``.mp4`` and
``scipy.io.savemat`` files, ``surreal_miniature.py``), read through ``list_clips`` like a download,
and predict / adapt / evaluate / pretrain on it through the commands."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import roma
import torch

from selfmocap.body import BodyModelConfig
from selfmocap.body.names import SMPL_JOINT_NAMES, mirror_index
from selfmocap.cli import main
from selfmocap.data import list_clips
from selfmocap.data.surreal import SurrealClip, forward_flow_from_backward, mirrored_pose
from selfmocap.geometry.camera import Camera, project, to_camera_space
from selfmocap.render import rasterize
from selfmocap.synth.generator import correspondence_flow

IDS = ["01_01_c0001", "01_01_c0002"]


def clips_of(surreal):
    run, smpl, _ = surreal
    return list_clips(run, body=BodyModelConfig(body_model_path=smpl))


def test_list_clips_recognises_the_layout(surreal):
    run, smpl, _ = surreal
    clips = clips_of(surreal)
    assert [c.meta.clip_id for c in clips] == IDS and all(isinstance(c, SurrealClip) for c in clips)
    meta = clips[1].meta
    assert (meta.width, meta.height, meta.num_frames, meta.fps) == (320, 240, 5, 30.0)
    assert meta.body_model == "smpl" and meta.split == "test" and meta.motion_family == "01_01_c0002"
    assert [c.meta.gender for c in clips] == ["female", "male"]
    # from higher up the ids keep the folders; one clip by its video
    assert [c.meta.clip_id for c in list_clips(run.parent.parent.parent)] == [f"cmu-test-run0-{i}" for i in IDS]
    assert [c.meta.clip_id for c in list_clips(run / "01_01" / "01_01_c0002.mp4")] == ["01_01_c0002"]
    with pytest.raises(ValueError, match="SURREAL's ground truth is SMPL"):
        list_clips(run, body=BodyModelConfig(body_model="anny"))


def test_labels_reproduce_surreals_joints_through_the_mirror(surreal):
    """SURREAL's extrinsics mirror the body: the labels' joints, projected with the labels' camera
    (a proper rotation), land on SURREAL's rounded joints2D with left and right swapped."""
    swap = list(mirror_index(SMPL_JOINT_NAMES))
    for clip in clips_of(surreal):
        lab = clip.labels
        camera = Camera.from_array(torch.from_numpy(lab.camera).double())
        assert torch.allclose(torch.linalg.det(camera.rotation), torch.ones(5, dtype=torch.float64))
        uv = project(torch.from_numpy(lab.joints3d).double(), camera).numpy()
        assert np.abs(uv[:, swap] - clip.info.joints2d).max() <= 0.5 + 1e-3
        assert np.allclose(lab.pose, mirrored_pose(clip.info.pose[:, 3:].reshape(5, 23, 3)), atol=1e-5)
        assert np.allclose(lab.shape, clip.info.shape[0]) and lab.camera[0, 0] == 600.0
        assert tuple(lab.camera[0, 7:]) == (160.0, 120.0)
        assert lab.keypoints2d.shape == (5, 23, 3) and lab.keypoints2d[..., 2].mean() > 0.5


def test_labels_mesh_covers_the_segmentation(surreal):
    for clip in clips_of(surreal):
        lab, body = clip.labels, clip.smpl()
        out = body(torch.from_numpy(lab.pose), torch.from_numpy(lab.shape)[None])
        verts = to_camera_space(out.vertices.double(), Camera.from_array(torch.from_numpy(lab.camera).double())).float().numpy()
        for t in range(len(clip)):
            mask = rasterize(verts[t], body.faces.numpy(), 600.0, (160.0, 120.0), 240, 320).mask
            iou = (mask & clip.mask(t)).sum() / (mask | clip.mask(t)).sum()
            assert iou > 0.85  # SMPL's left/right asymmetry (here: random pose blend shapes) is all that differs


def test_frames_masks_depth_and_flow(surreal):
    _, _, written = surreal
    for clip in clips_of(surreal):
        w = written[clip.meta.clip_id]
        assert clip.rgb(2).shape == (240, 320, 3) and np.abs(clip.rgb(2).astype(float) - w["images"][2]).mean() < 15  # mp4
        depth = clip.depth()
        for t in range(len(clip)):
            frag = w["frags"][t]
            assert np.array_equal(clip.mask(t), frag.mask)
            assert np.allclose(depth[t], frag.depth, atol=1e-5) and (depth[t][~frag.mask] == 0).all()
        flow, valid = clip.flow()
        assert flow.shape == (4, 240, 320, 2) and valid.shape == (4, 240, 320)
        for t in range(len(clip) - 1):  # against the forward flow of the surface itself
            truth, true_valid = correspondence_flow(w["frags"][t], w["faces"], w["verts_cam"][t + 1].astype(np.float32),
                                                    w["frags"][t + 1].depth, 600.0, np.array([160.0, 120.0], np.float32))
            person = w["frags"][t].mask & true_valid
            both = valid[t] & person
            error = np.linalg.norm(flow[t] - truth, axis=-1)[both]
            assert both.sum() > 0.6 * person.sum() and error.mean() < 0.2 and (error > 1.0).mean() < 0.03


def test_forward_flow_from_backward_on_a_moving_disc():
    rows, cols = np.mgrid[0:60, 0:80] + 0.5
    shift = np.array([3.2, -1.7])
    mask = (cols - 30) ** 2 + (rows - 30) ** 2 < 12**2
    mask_next = (cols - 30 - shift[0]) ** 2 + (rows - 30 - shift[1]) ** 2 < 12**2
    backward = np.where(mask_next[..., None], -shift, 0.0)
    flow, valid = forward_flow_from_backward(backward, mask, mask_next)
    assert np.allclose(flow[mask & valid], shift, atol=1e-4) and valid[mask].mean() > 0.9
    assert (flow[~mask] == 0).all() and not valid[mask_next & ~mask].any() and valid[~mask & ~mask_next].all()


def test_evaluate_ground_truth_gives_zero_with_the_gendered_truth(surreal, tmp_path):
    """Ground truth written as predictions (the neutral model) scores 0 on the female clip (whose
    truth falls back to the neutral file) and not on the male one (truth posed with SMPL_MALE)."""
    from selfmocap.adapt.network import to_clip_prediction
    from selfmocap.body import load_body_model
    from selfmocap.data.predictions import write_prediction

    run, smpl, _ = surreal
    neutral = load_body_model("smpl", smpl)
    for clip in clips_of(surreal):
        lab = clip.labels
        pose = roma.rotvec_to_rotmat(torch.from_numpy(lab.pose))
        shape = torch.from_numpy(lab.shape).expand(len(clip), -1)
        camera = Camera.from_array(torch.from_numpy(lab.camera))
        write_prediction(tmp_path / "truth", clip.meta.clip_id, to_clip_prediction(neutral, pose, shape, camera, torch.ones(len(clip), dtype=bool)))
    out = tmp_path / "m.json"
    assert main(["evaluate", "--pred", str(tmp_path / "truth"), "--data", str(run), "--body-model-path", str(smpl), "--json", str(out)]) == 0
    clips = json.loads(out.read_text())["clips"]
    assert clips[IDS[0]]["per_joint_mm"] < 1e-2 and clips[IDS[0]]["surface_mm"] < 1e-2
    assert clips[IDS[1]]["surface_mm"] > 1.0


@pytest.fixture(scope="module")
def smpl_checkpoint(tmp_path_factory):
    import dataclasses

    from selfmocap.data.config import FrameConfig
    from selfmocap.models.network import BodyOutputSpec, MocapNet
    from selfmocap.models.config import NetworkConfig
    from selfmocap.models.pretrained import ModelCard, export_pretrained

    torch.manual_seed(0)
    config, spec = NetworkConfig(width=4, fc_factor=4), BodyOutputSpec("smpl", 23, 10, None)
    card = ModelCard(network=dataclasses.asdict(config), frames=dataclasses.asdict(FrameConfig()), recipe={}, data={}, metrics={},
                     step=0, images_seen=0, versions={}, created="test", body=dataclasses.asdict(spec))
    return export_pretrained(MocapNet(config, spec), card, tmp_path_factory.mktemp("ckpt") / "smpl.pt")


@pytest.mark.slow  # predict, adapt, pretrain and evaluate
def test_predict_adapt_pretrain_evaluate_on_surreal(surreal, smpl_checkpoint, tmp_path, monkeypatch, capsys):
    run, smpl, _ = surreal
    path = ["--body-model-path", str(smpl)]
    assert main(["predict", "--data", str(run), "--out", str(tmp_path / "pred"), "--checkpoint", str(smpl_checkpoint), *path]) == 0
    assert main(["adapt", "--data", str(run), "--out", str(tmp_path / "adapted"), "--checkpoint", str(smpl_checkpoint),
                 "--iters", "2", "--batch", "2", "--inputs", "oracle", *path]) == 0
    for name in ("pred", "adapted"):
        out = tmp_path / f"{name}.json"
        assert main(["evaluate", "--pred", str(tmp_path / name), "--data", str(run), "--json", str(out), *path]) == 0
        overall = json.loads(out.read_text())["overall"]
        assert overall["frames"] == 10 and all(math.isfinite(overall[k]) for k in ("per_joint_mm", "surface_mm", "accel_mm"))
    # the paper's protocol pretrains on SURREAL's train split: the same reader feeds pretraining
    assert main(["pretrain", "--data", str(run), "--out", str(tmp_path / "run"), "--steps", "1", "--batch", "2", "--width", "4",
                 "--fc-factor", "4", "--workers", "0", "--threads", "1", *path]) == 0
    # labels need SMPL's files: without them, a one-line error says where SMPL comes from
    monkeypatch.delenv("SELFMOCAP_SMPL_PATH", raising=False)
    capsys.readouterr()
    assert main(["evaluate", "--pred", str(tmp_path / "pred"), "--data", str(run)]) == 2
    err = capsys.readouterr().err
    assert "https://smpl.is.tue.mpg.de" in err and err.count("\n") == 1
