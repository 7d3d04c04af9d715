"""End-to-end: predict, a two-iteration adapt, evaluate, on tiny clips with a tiny network."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from selfmocap.adapt.config import CropConfig, InputConfig
from selfmocap.adapt.inputs import chain_flow, prepare_inputs
from selfmocap.cli import main
from selfmocap.data import list_clips
from selfmocap.data.predictions import read_prediction
from selfmocap.eval.evaluate import METRIC_KEYS


def test_oracle_inputs_hold_no_3d_and_match_the_clip(tiny_clips):
    clip = list_clips(tiny_clips)[0]
    inp = prepare_inputs(clip, InputConfig(inputs="oracle", crop=CropConfig(pair_gap=2)))
    t = len(clip)
    assert inp.rgb_crops.shape == (t, 3, 128, 128) and inp.rgb_crops.dtype == torch.uint8
    assert inp.flow.shape == (t - 2, 96, 96, 2) and inp.masks.shape == (t, 96, 96)
    assert np.array_equal(inp.masks[0].numpy(), clip.mask(0))
    vis = clip.labels.keypoints2d[..., 2] > 0.5
    assert np.allclose(inp.keypoints_frame[..., :2].numpy()[vis], clip.labels.keypoints2d[..., :2][vis], atol=1e-4)
    # crop keypoints are the frame keypoints through the crop boxes
    back = inp.box.crop_to_frame(inp.keypoints_crop[..., :2])
    assert torch.allclose(back, inp.keypoints_frame[..., :2], atol=1e-3)


def test_estimated_inputs_are_noisy_and_deterministic(tiny_clips):
    clip = list_clips(tiny_clips)[0]
    a = prepare_inputs(clip, InputConfig(inputs="estimated", noise_seed=3))
    b = prepare_inputs(clip, InputConfig(inputs="estimated", noise_seed=3))
    oracle = prepare_inputs(clip, InputConfig(inputs="oracle"))
    assert torch.equal(a.keypoints_frame, b.keypoints_frame) and torch.equal(a.flow, b.flow)
    assert not torch.allclose(a.keypoints_frame[..., :2], oracle.keypoints_frame[..., :2])
    assert not torch.equal(a.masks, oracle.masks)  # shift: background subtraction


def test_chain_flow_composes_translations():
    flows = np.zeros((3, 20, 20, 2), np.float32)
    flows[..., 0] = 1.5
    flows[1, ..., 1] = -0.5
    chained, valid = chain_flow(flows, np.ones((3, 20, 20), bool), gap=2)
    assert chained.shape == (2, 20, 20, 2)
    assert np.allclose(chained[0, 5:15, 5:15], [3.0, -0.5], atol=1e-5)


def test_predict_adapt_evaluate_end_to_end(tiny_clips, tiny_checkpoint, tmp_path, capsys):
    pred, adapted = tmp_path / "pred", tmp_path / "adapted"
    assert main(["predict", "--data", str(tiny_clips), "--out", str(pred), "--checkpoint", str(tiny_checkpoint)]) == 0
    code = main([
        "adapt", "--data", str(tiny_clips), "--out", str(adapted), "--checkpoint", str(tiny_checkpoint),
        "--iters", "2", "--batch", "2", "--inputs", "oracle", "--lr", "1e-3", "--vertices",
    ])
    assert code == 0
    p = read_prediction(pred / "shift_000000.npz")
    a = read_prediction(adapted / "shift_000000.npz")
    assert p.pose.shape == (5, 19, 3) and p.camera.shape == (5, 9) and a.vertices.shape == (5, 13718, 3)
    assert not np.allclose(p.pose, a.pose)  # the weights moved
    rows = (adapted / "adapt_log.csv").read_text().splitlines()
    assert rows[0] == "step,clip,total,keypoint,segmentation,motion,world3d" and len(rows) == 3
    assert (adapted / "adapt_curves.png").is_file()
    assert json.loads((adapted / "run.json").read_text())["method"] == "pretrained+self-sup"
    out = tmp_path / "metrics.json"
    assert main(["evaluate", "--pred", str(adapted), "--data", str(tiny_clips), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["overall"]) == set(METRIC_KEYS) and result["overall"]["frames"] == 10
    assert set(result["clips"]) == {"shift_000000", "shift_000001"}
    assert result["overall"]["per_joint_mm"] > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--losses", "kpt,foo"], "--losses must be"),
        (["--checkpoint", "/nonexistent.pt"], "does not exist"),
    ],
)
def test_adapt_bad_arguments(tiny_clips, tiny_checkpoint, tmp_path, capsys, args, message):
    base = ["adapt", "--data", str(tiny_clips), "--out", str(tmp_path / "o")]
    if "--checkpoint" not in args:
        base += ["--checkpoint", str(tiny_checkpoint)]
    assert main(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_adapt_missing_data(tmp_path, tiny_checkpoint, capsys):
    assert main(["adapt", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o"), "--checkpoint", str(tiny_checkpoint)]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("init", ["random", "gt-rotation", "gt-rotation-translation", "gt-pose"])
def test_optimize_baseline_inits(tiny_clips, tmp_path, body, init):
    from selfmocap.adapt.config import OptimizeConfig
    from selfmocap.adapt.optimize import METHOD_NAMES, initial_parameters, optimize_clip

    clip = list_clips(tiny_clips)[0]
    inputs = prepare_inputs(clip, InputConfig(inputs="oracle"))
    params = initial_parameters(clip, inputs, init, 4.0, np.random.default_rng(0), body)
    trainable = {n for n, p in params.named_parameters() if p.requires_grad}
    expected = {
        "random": {"pose6d", "shape_logit", "rot6d", "trans", "log_focal"},
        "gt-rotation": {"pose6d", "shape_logit", "rot6d", "trans", "log_focal"},
        "gt-rotation-translation": {"pose6d", "shape_logit", "rot6d", "trans", "log_focal"},
        "gt-pose": {"shape_logit", "log_focal"},
    }[init]
    assert trainable == expected
    _, _, camera = params(torch.arange(len(clip)))
    true_rot = torch.from_numpy(clip.labels.camera[:, 1:4]).float()
    from selfmocap.geometry.camera import euler_to_rotmat

    assert torch.allclose(camera.rotation, euler_to_rotmat(true_rot), atol=1e-4) == (init != "random")
    pred = optimize_clip(clip, inputs, body, OptimizeConfig(data=tiny_clips, out=tmp_path, init=init, iters=2, batch=2), progress=False)
    assert pred.pose.shape == (len(clip), 19, 3) and np.isfinite(pred.camera).all()
    assert METHOD_NAMES[init].startswith("optimization")


def test_a_world_input_checkpoint_is_given_mediapipe_landmarks(tiny_clips, tmp_path, body):
    import dataclasses

    from selfmocap.adapt.network import predict_clip
    from selfmocap.data.config import FrameConfig
    from selfmocap.models.config import NetworkConfig
    from selfmocap.models.network import MocapNet
    from selfmocap.models.pretrained import ModelCard, export_pretrained, load_pretrained

    torch.manual_seed(0)
    config = NetworkConfig(width=4, fc_factor=4, world_input=True)
    net = MocapNet(config)
    with torch.no_grad():
        net.world.weight.normal_()
    card = ModelCard(network=dataclasses.asdict(config), frames=dataclasses.asdict(FrameConfig()), recipe={}, data={},
                     metrics={}, step=0, images_seen=0, versions={}, created="test")
    ckpt = export_pretrained(net, card, tmp_path / "world.pt")
    assert main(["predict", "--data", str(tiny_clips), "--out", str(tmp_path / "pred"), "--checkpoint", str(ckpt)]) == 0
    loaded = load_pretrained(ckpt)
    clip = list_clips(tiny_clips)[0]
    inputs = prepare_inputs(clip, InputConfig(), 128, world=True)  # mediapipe on the clip's RGB frames
    sigma = loaded.card.frame_config.heatmap_sigma
    expected = predict_clip(loaded.model, body, inputs, sigma)
    assert np.allclose(read_prediction(tmp_path / "pred" / f"{clip.meta.clip_id}.npz").pose, expected.pose, atol=1e-5)
    # the landmarks reach the network: other landmarks, another prediction
    world = torch.cat([torch.randn(len(clip), 23, 3), torch.ones(len(clip), 23, 1)], dim=-1)
    other = predict_clip(loaded.model, body, dataclasses.replace(inputs, world=world), sigma)
    assert not np.allclose(other.pose, expected.pose, atol=1e-3)
