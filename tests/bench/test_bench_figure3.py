"""Figure 3's Lk+Ls+Lm curve is recorded during the bench's default adaptation instead of being
run a second time: the recorded curve must be the one a separate run gives."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from selfmocap.adapt.adapt import adapt_network
from selfmocap.adapt.inputs import InputConfig, prepare_inputs
from selfmocap.adapt.objective import ObjectiveConfig
from selfmocap.bench.run import QUICK, _adapt_options, _ErrorCurve, figure3_curves
from selfmocap.data.clip import list_clips
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
