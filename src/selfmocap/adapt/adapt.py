"""Self-supervised test-time adaptation (section 3.1): fine-tune the network's *weights* on the
unlabeled frames of the given clips with the keypoint, segmentation and motion re-projection
losses, then predict every frame with the adapted network.

Decisions (``docs/adaptation.md``):

* Batch norm: ``frozen`` (default) keeps the pretraining statistics and normalises with them
  (eval mode), so a batch of a few frames of one video cannot shift them; ``adapt`` re-estimates
  them on the test frames (train mode).
* Drift: a joint-limit pose prior (``ObjectiveConfig.prior``, on by default) keeps bones inside
  human ranges; optionally (``--replay-data``, off by default) every step also adds the supervised
  pretraining loss on a batch of *synthetic training* clips (``adapt/replay.py``: their ground
  truth, never the adapted clips').
* Scope: ``joint`` adapts one network on all frames of all given clips (the paper adapts to the
  test set); ``per-clip`` starts from the pretrained weights for every clip (one video at a time).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap.adapt.config import AdaptConfig, AdaptOptions, ObjectiveConfig
from selfmocap.adapt.inputs import ClipInputs, prepare_inputs, read_clips
from selfmocap.adapt.log import AdaptLog
from selfmocap.adapt.network import predict_clip, run_network
from selfmocap.adapt.objective import pair_batch, self_supervised_objective
from selfmocap.adapt.refine import inputs_targets, refine_motion, video_shape
from selfmocap.adapt.replay import ReplayBatches, ReplayError, open_replay
from selfmocap.data.predictions import check_predictions_out, write_prediction, write_run_info
from selfmocap.models.pretrained import checkpoint_body, load_pretrained


def adapt_network(net, body, clips: list[ClipInputs], options: AdaptOptions, objective: ObjectiveConfig, sigma: float,
                  log: AdaptLog | None = None, progress: str | None = "adapt", callback=None, replay: ReplayBatches | None = None):
    """Fine-tune ``net`` in place on ``clips`` for ``options.iters`` steps; return it.

    ``replay`` (:func:`~selfmocap.adapt.replay.open_replay` of ``options.replay.data``) adds
    ``options.replay.weight`` times the supervised loss of a synthetic training batch to every
    step's objective. ``callback(step, net)`` runs after every step (the bench uses it for
    error-vs-iteration curves).
    """
    if (options.replay.data is not None) != (replay is not None):
        raise ValueError("pass replay batches exactly when options.replay.data is set (open_replay)")
    step_options = options.step
    faces = body.faces.numpy()
    rng = np.random.default_rng(step_options.seed)
    usable = [c for c in clips if c.num_frames > c.gap]
    if not usable:
        raise ValueError("no clip has two frames: the self-supervised losses need frame pairs")
    optimizer = torch.optim.Adam(net.parameters(), lr=step_options.lr)
    bar = tqdm(range(options.iters), desc=progress, disable=progress is None, unit="step")
    for step in bar:
        net.train(step_options.batchnorm == "adapt")
        inputs = usable[int(rng.integers(len(usable)))]
        n_pairs = inputs.num_frames - inputs.gap
        t = torch.from_numpy(rng.choice(n_pairs, size=min(step_options.batch, n_pairs), replace=False))
        batch = pair_batch(inputs, t)
        pred, camera = run_network(net, inputs, batch.frames, sigma)
        total, terms = self_supervised_objective(body, pred.pose, pred.shape, camera, batch, objective, faces)
        replay_loss = None
        if replay is not None:
            replay_loss, _ = replay.losses(net, body, step)
            total = total + options.replay.weight * replay_loss
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        if log is not None:
            log.add(step, inputs.clip_id, float(total.detach()), terms, None if replay_loss is None else float(replay_loss.detach()))
        bar.set_postfix(loss=f"{float(total.detach()):.4f}")
        if callback is not None:
            callback(step, net)
    net.eval()
    return net


def run_adapt(config: AdaptConfig) -> Path:
    """``selfmocap adapt``: adapt, predict every frame, write predictions, log and curves. Bad
    inputs (clips, checkpoint, replay data, ``--out``) are one-line ``UserError``s before any work."""
    started = time.perf_counter()
    clips = read_clips(config.data, body=config.body)
    pretrained = load_pretrained(config.checkpoint)
    replay = None
    replay_data = config.adapt.replay.data
    if replay_data is not None:
        if replay_data.resolve() == config.data.resolve():
            raise ReplayError(f"--replay-data {replay_data} is the folder being adapted to: replay synthetic training clips")
        replay = open_replay(replay_data, pretrained.card, config.adapt.replay.batch, config.adapt.step.seed, config.body)
    check_predictions_out(config.out)
    body = checkpoint_body(pretrained.card, config.body, f"checkpoint {config.checkpoint or 'shipped'}")
    sigma = pretrained.card.frame_config.heatmap_sigma
    world = "world3d" in config.objective.losses or pretrained.card.network_config.world_input
    inputs = [prepare_inputs(c, config.input, pretrained.card.network_config.input_size, world=world)
              for c in tqdm(clips, desc="inputs", unit="clip")]
    config.out.mkdir(parents=True, exist_ok=True)
    log = AdaptLog()
    if config.adapt.scope == "joint":
        nets = {None: adapt_network(pretrained.model, body, inputs, config.adapt, config.objective, sigma, log, replay=replay)}
    else:
        nets = {}
        for inp in inputs:
            net = copy.deepcopy(pretrained.model)
            nets[inp.clip_id] = adapt_network(net, body, [inp], config.adapt, config.objective, sigma, log,
                                              progress=f"adapt {inp.clip_id}", replay=replay)
    for inp in tqdm(inputs, desc="predict", unit="clip"):
        net = nets.get(None) or nets[inp.clip_id]
        pred = predict_clip(net, body, inp, sigma, vertices=config.vertices)
        if config.refine.steps > 0:
            pred = refine_motion(body, pred, video_shape(pred, inp.detected.numpy()), inputs_targets(inp), config.refine, progress=f"refine {inp.clip_id}",
                                 vertices=config.vertices)
        write_prediction(config.out, inp.clip_id, pred)
    log.write(config.out)
    write_run_info(
        config.out, "pretrained+self-sup", config=cfg.to_dict(config), checkpoint=str(config.checkpoint or "shipped"),
        seconds=time.perf_counter() - started,
    )
    return config.out
