"""Replay of synthetic supervised batches during adaptation (``adapt/replay.py``)."""

from __future__ import annotations

import copy
import csv
import math
from dataclasses import replace

import pytest
import torch

from selfmocap.adapt.adapt import adapt_network
from selfmocap.adapt.config import AdaptOptions, InputConfig, ObjectiveConfig, ReplayOptions, StepOptions
from selfmocap.adapt.log import AdaptLog
from selfmocap.adapt.inputs import prepare_inputs
from selfmocap.adapt.replay import ReplayError, open_replay
from selfmocap.cli import main
from selfmocap.data import list_clips
from selfmocap.models.pretrained import load_pretrained
from selfmocap.training.losses import LossTerms


@pytest.fixture(scope="module")
def setup(tiny_clips, tiny_checkpoint, body):
    pretrained = load_pretrained(tiny_checkpoint)
    inputs = [prepare_inputs(c, InputConfig(inputs="oracle"), pretrained.card.network_config.input_size) for c in list_clips(tiny_clips)[:1]]
    return pretrained, inputs


def _adapt(setup, body, options, replay=None, log=None):
    pretrained, inputs = setup
    net = adapt_network(copy.deepcopy(pretrained.model), body, inputs, options, ObjectiveConfig(losses=("kpt",)),
                        pretrained.card.frame_config.heatmap_sigma, log=log, progress=None, replay=replay)
    return net.state_dict()


def test_replay_batches_are_seeded_and_carry_synthetic_ground_truth(tiny_train_clips, tiny_checkpoint):
    card = load_pretrained(tiny_checkpoint).card
    replay = open_replay(tiny_train_clips, card, batch=4, seed=3)
    a, b, c = replay.batch_at(5), replay.batch_at(5), replay.batch_at(6)
    assert len(a) == 4 and a.rgb.shape[-1] == card.network_config.input_size
    assert torch.equal(a.index, b.index) and torch.equal(a.rgb, b.rgb) and torch.equal(a.pose, b.pose)
    assert not (torch.equal(a.index, c.index) and torch.equal(a.rgb, c.rgb))
    assert len(set(a.index.tolist())) == 4  # drawn without replacement
    assert len(open_replay(tiny_train_clips, card, batch=100, seed=0).batch_at(0)) == 6  # capped at the 2 x 3 frames


def test_replay_term_is_logged_finite_and_weight_zero_equals_no_replay(setup, tiny_train_clips, body):
    pretrained, _ = setup
    base = AdaptOptions(iters=2, step=StepOptions(batch=2, lr=1e-3))
    with_replay = replace(base, replay=ReplayOptions(data=tiny_train_clips, batch=3))
    replay = open_replay(tiny_train_clips, pretrained.card, 3, base.step.seed)
    log = AdaptLog()
    weighted = _adapt(setup, body, with_replay, replay, log)
    assert [r.step for r in log.rows] == [0, 1]
    assert all(r.replay is not None and math.isfinite(r.replay) and r.replay > 0 for r in log.rows)
    plain = _adapt(setup, body, base)
    zero = _adapt(setup, body, replace(with_replay, replay=replace(with_replay.replay, weight=0.0)), replay)
    assert all(torch.equal(plain[k], zero[k]) for k in plain)  # W = 0: exactly no replay
    assert any(not torch.equal(plain[k], weighted[k]) for k in plain)  # W = 1 moves the weights elsewhere
    # batch-norm statistics never see the replay frames (frozen: they stay the pretrained ones)
    start = pretrained.model.state_dict()
    assert all(torch.equal(start[k], weighted[k]) for k in start if "running" in k)


def test_replay_loss_is_the_pretraining_loss(setup, tiny_train_clips, body):
    from selfmocap.training.losses import LossWeights
    from selfmocap.training.pretrain import supervised_batch_losses

    pretrained, _ = setup
    replay = open_replay(tiny_train_clips, pretrained.card, 2, 0)
    total, terms = replay.losses(pretrained.model, body, 0)
    reference = supervised_batch_losses(pretrained.model.eval(), body, replay.batch_at(0), pretrained.card.network_config,
                                        pretrained.card.frame_config.heatmap_sigma)
    assert isinstance(terms, LossTerms) and torch.allclose(total, reference.total(LossWeights()))
    assert total.requires_grad


def test_adapt_cli_with_replay_logs_the_term(tiny_clips, tiny_checkpoint, tiny_train_clips, tmp_path):
    out = tmp_path / "adapted"
    assert main(["adapt", "--data", str(tiny_clips), "--out", str(out), "--checkpoint", str(tiny_checkpoint), "--iters", "2",
                 "--batch", "2", "--inputs", "oracle", "--losses", "kpt", "--replay-data", str(tiny_train_clips), "--replay-batch", "2"]) == 0
    with open(out / "adapt_log.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and all(math.isfinite(float(r["replay"])) for r in rows)
    assert (out / "adapt_curves.png").is_file()


def test_bad_replay_data_is_a_one_line_error(tiny_clips, tiny_checkpoint, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    base = ["adapt", "--data", str(tiny_clips), "--out", str(tmp_path / "o"), "--checkpoint", str(tiny_checkpoint)]
    for folder, message in ((tmp_path / "none", "does not exist"), (tmp_path / "empty", "no selfmocap or SURREAL clips"),
                            (tiny_clips, "the folder being adapted to")):
        assert main(base + ["--replay-data", str(folder)]) == 2
        err = capsys.readouterr().err.strip()
        assert "--replay-data" in err and message in err and len(err.splitlines()) == 1
    for option, value in (("--replay-weight", "-1"), ("--replay-batch", "0")):
        assert main(base + [option, value]) == 2
        err = capsys.readouterr().err.strip()
        assert option in err and len(err.splitlines()) == 1
    with pytest.raises(ReplayError, match="--replay-batch"):
        open_replay(tiny_clips, load_pretrained(tiny_checkpoint).card, batch=0, seed=0)


def test_replay_frames_stay_out_of_adapted_batchnorm_statistics(setup, tiny_train_clips, body):
    pretrained, _ = setup
    options = AdaptOptions(iters=1, step=StepOptions(batch=2, lr=1e-3, batchnorm="adapt"))
    replay = open_replay(tiny_train_clips, pretrained.card, 3, options.step.seed)
    plain = _adapt(setup, body, options)
    replayed = _adapt(setup, body, replace(options, replay=ReplayOptions(data=tiny_train_clips)), replay)
    start = pretrained.model.state_dict()
    stats = [k for k in start if "running" in k]
    assert any(not torch.equal(start[k], plain[k]) for k in stats)  # the test frames moved them
    assert all(torch.equal(plain[k], replayed[k]) for k in stats)  # the replay frames did not
