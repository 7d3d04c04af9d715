"""The shape anchor of adaptation (``AdaptOptions.shape_anchor``): its target comes from the
pretrained network on the unlabeled frames, it is logged, and it holds the shape where it is."""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import pytest
import torch

from selfmocap.adapt.adapt import AdaptLog, AdaptOptions, adapt_network, clip_mean_shapes
from selfmocap.adapt.inputs import InputConfig, prepare_inputs
from selfmocap.adapt.network import run_network
from selfmocap.adapt.objective import ObjectiveConfig
from selfmocap.data import list_clips
from selfmocap.models.pretrained import load_pretrained

pytestmark = [pytest.mark.anny, pytest.mark.slow]


@pytest.fixture(scope="module")
def setup(tiny_clips, tiny_checkpoint):
    pretrained = load_pretrained(tiny_checkpoint)
    inputs = [prepare_inputs(c, InputConfig(inputs="oracle"), pretrained.card.network_config.input_size) for c in list_clips(tiny_clips)]
    return pretrained, inputs, pretrained.card.frame_config.heatmap_sigma


def _shape_spread(net, inputs, sigma, targets) -> float:
    """Mean squared distance of every frame's predicted shape from its clip's target."""
    net.eval()
    with torch.no_grad():
        return float(torch.cat([((run_network(net, i, torch.arange(i.num_frames), sigma)[0].shape - targets[i.clip_id]) ** 2).sum(-1)
                                for i in inputs]).mean())


def test_anchor_target_is_the_pretrained_mean_shape_per_clip(setup):
    pretrained, inputs, sigma = setup
    targets = clip_mean_shapes(pretrained.model, inputs, sigma)
    assert set(targets) == {i.clip_id for i in inputs}
    for i in inputs:
        with torch.no_grad():
            shapes = run_network(pretrained.model, i, torch.arange(i.num_frames)[i.detected], sigma)[0].shape
        assert torch.allclose(targets[i.clip_id], shapes.mean(0), atol=1e-6)


def test_anchor_is_logged_and_holds_the_shape(setup, body):
    pretrained, inputs, sigma = setup
    targets = clip_mean_shapes(pretrained.model, inputs, sigma)
    base = AdaptOptions(iters=3, batch=2, lr=3e-3)
    free = adapt_network(copy.deepcopy(pretrained.model), body, inputs, base, ObjectiveConfig(losses="kpt"), sigma, progress=None)
    log = AdaptLog()
    held = adapt_network(copy.deepcopy(pretrained.model), body, inputs, replace(base, shape_anchor=1e4), ObjectiveConfig(losses="kpt"),
                         sigma, log=log, progress=None)
    assert all(math.isfinite(r["shape_anchor"]) for r in log.rows) and len(log.rows) == 3
    assert _shape_spread(held, inputs, sigma, targets) < _shape_spread(free, inputs, sigma, targets)


def test_negative_anchor_weight_is_refused():
    with pytest.raises(ValueError, match="--shape-anchor"):
        AdaptOptions(shape_anchor=-1.0)
