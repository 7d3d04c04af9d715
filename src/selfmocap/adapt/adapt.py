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
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap.adapt.inputs import ClipInputs, InputConfig, prepare_inputs
from selfmocap.adapt.log import AdaptLog
from selfmocap.adapt.network import predict_clip, run_network
from selfmocap.adapt.objective import ObjectiveConfig, pair_batch, self_supervised_objective
from selfmocap.adapt.refine import RefineConfig, inputs_targets, refine_motion, video_shape
from selfmocap.adapt.replay import ReplayBatches, ReplayError, open_replay
from selfmocap.body import BodyModelConfig
from selfmocap.data.clip import list_clips
from selfmocap.data.predictions import write_prediction, write_run_info
from selfmocap.models.pretrained import checkpoint_body, load_pretrained


@dataclass(frozen=True)
class AdaptOptions:
    """Optimisation of the network weights on the test frames."""

    iters: int = cfg.field(480, help="gradient steps (each on --batch frame pairs); 480 chosen on the development splits (docs/adaptation.md)")
    lr: float = cfg.field(1e-5, help="Adam learning rate (the paper: plain gradient descent at 1e-4; docs/adaptation.md)")
    batch: int = cfg.field(8, help="frame pairs (t, t + gap) per step")
    batchnorm: Literal["frozen", "adapt"] = cfg.field("frozen", help="batch-norm statistics: keep the pretraining ones, or re-estimate on test frames")
    scope: Literal["joint", "per-clip"] = cfg.field("joint", help="one network for all clips, or a fresh one per clip")
    seed: int = cfg.field(0, help="seed of the pair sampling and of the replay batches")
    replay_data: Path | None = cfg.field(
        None, help="folder of synthetic *training* clips whose supervised pretraining loss (their own ground truth, "
        "never the adapted clips') is added at every step against drift (default: no replay)")
    replay_weight: float = cfg.field(1.0, help="weight W of the replay term: objective + W x supervised loss (pretraining's weights)")
    replay_batch: int = cfg.field(8, help="replay frames per step")

    def __post_init__(self) -> None:
        if self.replay_weight < 0:
            raise ValueError(f"--replay-weight must be >= 0, got {self.replay_weight}")
        if self.replay_batch < 1:
            raise ValueError(f"--replay-batch must be >= 1, got {self.replay_batch}")


@dataclass(frozen=True)
class AdaptConfig:
    data: Path = cfg.field(help="folder of clips (the synthetic format) to adapt to")
    out: Path = cfg.field(help="predictions folder to write")
    checkpoint: Path | None = cfg.field(None, help="pretrained network (default: the shipped checkpoint)")
    vertices: bool = cfg.field(False, help="also write per-frame vertices")
    adapt: AdaptOptions = dc_field(default_factory=AdaptOptions)
    objective: ObjectiveConfig = dc_field(default_factory=ObjectiveConfig)
    refine: RefineConfig = cfg.field(default_factory=lambda: RefineConfig(steps=0), prefix="refine-",
                                     help="a final per-frame fit after adaptation (off by default: the paper's method)")
    input: InputConfig = dc_field(default_factory=InputConfig)
    body: BodyModelConfig = dc_field(default_factory=BodyModelConfig)


def adapt_network(net, body, clips: list[ClipInputs], options: AdaptOptions, objective: ObjectiveConfig, sigma: float,
                  log: AdaptLog | None = None, progress: str | None = "adapt", callback=None, replay: ReplayBatches | None = None):
    """Fine-tune ``net`` in place on ``clips`` for ``options.iters`` steps; return it.

    ``replay`` (:func:`~selfmocap.adapt.replay.open_replay` of ``options.replay_data``) adds
    ``options.replay_weight`` times the supervised loss of a synthetic training batch to every
    step's objective. ``callback(step, net)`` runs after every step (the bench uses it for
    error-vs-iteration curves).
    """
    objective.enabled()  # validate early
    if (options.replay_data is not None) != (replay is not None):
        raise ValueError("pass replay batches exactly when options.replay_data is set (open_replay)")
    faces = body.faces.numpy()
    rng = np.random.default_rng(options.seed)
    usable = [c for c in clips if c.num_frames > c.gap]
    if not usable:
        raise ValueError("no clip has two frames: the self-supervised losses need frame pairs")
    optimizer = torch.optim.Adam(net.parameters(), lr=options.lr)
    bar = tqdm(range(options.iters), desc=progress, disable=progress is None, unit="step")
    for step in bar:
        net.train(options.batchnorm == "adapt")
        inputs = usable[int(rng.integers(len(usable)))]
        n_pairs = inputs.num_frames - inputs.gap
        t = torch.from_numpy(rng.choice(n_pairs, size=min(options.batch, n_pairs), replace=False))
        batch = pair_batch(inputs, t)
        pred, camera = run_network(net, inputs, batch.frames, sigma)
        total, terms = self_supervised_objective(body, pred.pose, pred.shape, camera, batch, objective, faces)
        replay_loss = None
        if replay is not None:
            replay_loss, _ = replay.losses(net, body, step)
            total = total + options.replay_weight * replay_loss
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
    """``selfmocap adapt``: adapt, predict every frame, write predictions, log and curves."""
    started = time.perf_counter()
    pretrained = load_pretrained(config.checkpoint)
    body = checkpoint_body(pretrained.card, config.body, f"checkpoint {config.checkpoint or 'shipped'}")
    sigma = pretrained.card.frame_config.heatmap_sigma
    clips = list_clips(config.data, body=config.body)
    replay = None
    if config.adapt.replay_data is not None:
        if config.adapt.replay_data.resolve() == config.data.resolve():
            raise ReplayError(f"--replay-data {config.adapt.replay_data} is the folder being adapted to: replay synthetic training clips")
        replay = open_replay(config.adapt.replay_data, pretrained.card, config.adapt.replay_batch, config.adapt.seed, config.body)
    world = "world3d" in config.objective.enabled()
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
