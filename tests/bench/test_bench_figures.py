"""The bench's figures on tiny clips: Figure 3's Lk+Ls+Lm curve is recorded during the default
adaptation instead of being run a second time (the recorded curve must be the one a separate run
gives), and Figure 4 is drawn from predictions, so ``--combine`` can draw it again from a folder."""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import replace

import cv2

import pytest

from selfmocap.adapt.adapt import adapt_network
from selfmocap.adapt.config import AdaptOptions, InputConfig, ObjectiveConfig, StepOptions
from selfmocap.adapt.inputs import prepare_inputs
from selfmocap.adapt.network import predict_clip
from selfmocap.bench.run import QUICK, _adapt_options, _ErrorCurve, combine_results, figure3_curves, figure4, redraw_figure4, write_outputs
from selfmocap.data.clip import list_clips
from selfmocap.data.predictions import write_prediction
from selfmocap.models.pretrained import load_pretrained


@pytest.mark.anny
@pytest.mark.slow
def test_recorded_default_adaptation_is_figure3s_curve(tiny_clips, tiny_checkpoint, body):
    pretrained = load_pretrained(tiny_checkpoint)
    sigma = pretrained.card.frame_config.heatmap_sigma
    clips = list_clips(tiny_clips)
    inputs = [prepare_inputs(c, InputConfig(inputs="oracle"), pretrained.card.network_config.input_size) for c in clips]
    scale = replace(QUICK, adapt_iters=4, figure_every=2, batch=2)

    recorded = _ErrorCurve(pretrained.model, body, clips, inputs, scale, sigma)
    adapt_network(copy.deepcopy(pretrained.model), body, inputs, _adapt_options(scale), ObjectiveConfig(), sigma, progress=None, callback=recorded)
    assert [s for s, _ in recorded.points] == [0, 2, 4]

    def errors(points):
        return [e for _, e in points]

    fresh = figure3_curves(pretrained.model, body, clips, inputs, scale, sigma)
    assert [s for s, _ in fresh["Lk+Ls+Lm"]] == [0, 2, 4]
    assert errors(fresh["Lk+Ls+Lm"]) == pytest.approx(errors(recorded.points), rel=1e-6)
    assert fresh["Lk+Ls+Lm"][-1][1] != fresh["Lk"][-1][1]  # the curves differ by their losses
    reused = figure3_curves(pretrained.model, body, clips, inputs, scale, sigma, done={"Lk+Ls+Lm": recorded.points})
    assert reused["Lk+Ls+Lm"] is recorded.points
    assert errors(reused["Lk"]) == pytest.approx(errors(fresh["Lk"]), rel=1e-6)


@pytest.mark.anny
@pytest.mark.slow
def test_figure4_from_predictions_and_redrawn_by_combine(tiny_clips, tiny_checkpoint, body, tmp_path):
    pretrained = load_pretrained(tiny_checkpoint)
    sigma = pretrained.card.frame_config.heatmap_sigma
    folder = tmp_path / "bench-estimated"
    clips, inputs, preds = {}, {}, {}
    for split in ("test", "shift"):  # the tiny shift clips stand in for both splits
        shutil.copytree(tiny_clips, folder / "data" / split)
        clips[split] = list_clips(folder / "data" / split)
        inputs[split] = [prepare_inputs(c, InputConfig(inputs="estimated")) for c in clips[split]]
        net = copy.deepcopy(pretrained.model)
        if split == "shift":
            adapt_network(net, body, inputs[split], AdaptOptions(iters=2, step=StepOptions(batch=2)), ObjectiveConfig(losses=("kpt",)), sigma, progress=None)
        preds[split] = {"pretrained": {i.clip_id: predict_clip(pretrained.model, body, i, sigma) for i in inputs[split]},
                        "pretrained+self-sup": {i.clip_id: predict_clip(net, body, i, sigma) for i in inputs[split]}}
        for method, by_clip in preds[split].items():
            for clip_id, pred in by_clip.items():
                write_prediction(folder / "predictions" / f"{split}-estimated" / method, clip_id, pred)

    direct = figure4(tmp_path / "direct.png", clips, inputs, preds, body, per_split=1)
    assert direct["frames"] == sum(len(c) for c in clips["shift"])
    assert 0.0 <= direct["shift_mask_iou_adapted_mesh"] <= 1.0 and 0.0 < direct["shift_mask_iou_given"] <= 1.0
    assert cv2.imread(str(tmp_path / "direct.png")).shape[0] == 2 * 160  # one clip of each split

    redrawn = redraw_figure4(folder, tmp_path / "redrawn.png")
    assert redrawn == pytest.approx(direct)
    assert cv2.imread(str(tmp_path / "redrawn.png")).shape[0] == 2 * 2 * 160  # both clips of each split

    half = {"scale": {"clips": 2}, "seed": 100, "checkpoint": "shipped", "seconds": 1.0, "tables": {}, "drift_guards": {},
            "decomposition": {}, "figure3": {"estimated": {"Lk": [(0, 1.0)]}}, "figure4": {"shift_mask_iou_given": 0.0, "shift_mask_iou_adapted_mesh": 0.0, "frames": 0}}
    write_outputs(half, folder)
    joined = combine_results([folder], tmp_path / "joined")
    assert joined["figure4"] == pytest.approx(direct)  # drawn again from the data, not copied
    assert json.loads((tmp_path / "joined" / "results.json").read_text())["figure4"] == pytest.approx(direct)
    assert (tmp_path / "joined" / "figure4.png").read_bytes() == (tmp_path / "redrawn.png").read_bytes()
