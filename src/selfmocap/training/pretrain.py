"""Supervised pretraining (Sec. 3, "Paired supervision from synthetic data"), resumable and
data-parallel.

Run folder: ``config.json``, ``train.csv``, ``val.csv``, ``curves.png``, ``checkpoint.pt``
(atomic, every ``checkpoint_every`` steps and at the end) and ``pretrained.pt`` (the float16
export with its model card, at the end). Under ``torchrun`` every rank trains on its slice of the
global batch (gloo on CPU, nccl with SyncBatchNorm on GPU) and only rank 0 writes.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Subset
from tqdm import tqdm

import selfmocap
from selfmocap.body import BodyModel
from selfmocap.config import save_config, to_dict
from selfmocap.data.frames import FrameBatch, FrameDataset, TrainOrder, frame_loader, network_input
from selfmocap.body.metrics import body_errors
from selfmocap.models.network import BodyOutputSpec, MocapNet, fixed_depth_camera
from selfmocap.models.config import NetworkConfig
from selfmocap.models.pretrained import CheckpointError, ModelCard, export_pretrained, load_pretrained
from selfmocap.training.checkpoint import TrainState, config_differences, rng_state, set_rng_state
from selfmocap.training.config import RESUMABLE_CHANGES, PretrainConfig
from selfmocap.training.logs import CsvLog, TrainRow, ValRow, plot_curves
from selfmocap.training.losses import LossTerms, supervised_losses


class PretrainError(ValueError):
    """Bad input to :func:`pretrain` (the CLI shows it as a one-line error)."""


@dataclass(frozen=True)
class Ranks:
    """This process's place in a (possibly single-process) data-parallel run."""

    rank: int
    world_size: int
    local_world_size: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    def finish(self) -> None:
        """Wait for all ranks, then leave the process group.

        Two barriers, not one: gloo's worker thread frees a finished barrier together with the
        collectives before it, whose tensors need the GIL to be released. If the main thread goes
        straight on to free the process group (which joins that thread) while holding the GIL, the
        two wait for each other forever (seen in CI: the DDP test hung in ``~ProcessGroupGloo``).
        While the main thread waits in the second barrier, with the GIL released, the worker frees
        the first; the second holds no tensors."""
        if self.world_size > 1:
            dist.barrier()
            dist.barrier()
            dist.destroy_process_group()


def _setup_ranks(config: PretrainConfig) -> Ranks:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available())
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if world > 1 and not dist.is_initialized():
        if cuda:
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if cuda else "gloo")
    ranks = Ranks(dist.get_rank() if world > 1 else 0, world, int(os.environ.get("LOCAL_WORLD_SIZE", "1")), device)
    torch.set_num_threads(config.threads or max(1, (os.cpu_count() or 1) // ranks.local_world_size))
    return ranks


def lr_factor(step: int, config: PretrainConfig) -> float:
    """Linear warm-up to the peak rate, then cosine decay to ``final_lr_fraction`` of it."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.final_lr_fraction + (1 - config.final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def training_losses(net: torch.nn.Module, body: BodyModel, batch: FrameBatch, config: PretrainConfig) -> LossTerms:
    """Forward one batch through the network and the body model; the unweighted loss terms."""
    return supervised_batch_losses(net, body, batch, config.network, config.frames.heatmap_sigma, bf16=config.precision == "bf16")


def supervised_batch_losses(net: torch.nn.Module, body: BodyModel, batch: FrameBatch, network: NetworkConfig,
                            heatmap_sigma: float, bf16: bool = False) -> LossTerms:
    """The supervised terms of one :class:`FrameBatch` for a network of config ``network`` (also the
    replay term of test-time adaptation, ``adapt/adapt.py``)."""
    size = network.input_size
    inputs = network_input(batch.rgb, batch.keypoints, heatmap_sigma).contiguous(memory_format=torch.channels_last)
    with torch.autocast(batch.rgb.device.type, dtype=torch.bfloat16, enabled=bf16):
        pred = net(inputs, batch.camera.principal, batch.world)  # decoded in float32 (MocapNet.forward)
    with torch.no_grad():
        target_body = body(batch.pose, batch.shape)
    return supervised_losses(
        pred, body(pred.pose, pred.shape), batch.pose, batch.shape,
        fixed_depth_camera(batch.camera, network.depth), target_body, batch.keypoints2d, size,
    )


@torch.no_grad()
def validate(net: MocapNet, body: BodyModel, dataset: FrameDataset | Subset, config: PretrainConfig, device: torch.device) -> dict[str, float]:
    """Mean MPJPE, PA-MPJPE, reconstruction and surface errors (mm) of ``net`` on ``dataset``."""
    was_training = net.training
    net.eval()
    sums, count = dict.fromkeys(ValRow.METRICS, 0.0), 0
    for batch in frame_loader(dataset, config.batch, config.frames.workers):
        batch = batch.to(device)
        pred = net(network_input(batch.rgb, batch.keypoints, config.frames.heatmap_sigma), batch.camera.principal, batch.world)
        errors = body_errors(body(pred.pose, pred.shape), pred.camera.rotation, body(batch.pose, batch.shape), batch.camera.rotation)
        for name in ValRow.METRICS:
            sums[name] += float(getattr(errors, ValRow.METRICS[name]).sum())
        count += len(batch)
    net.train(was_training)
    return {name: total / max(count, 1) for name, total in sums.items()}


def parse_val_sets(entries: tuple[str, ...]) -> dict[str, Path]:
    """``("test=DIR", "DIR2")`` -> ``{"test": DIR, "DIR2's folder name": DIR2}``."""
    sets: dict[str, Path] = {}
    for entry in entries:
        name, _, folder = entry.rpartition("=") if "=" in entry else (Path(entry).name, "", entry)
        if not name or name in sets:
            raise PretrainError(f"validation set {entry!r}: give each set a unique NAME=DIR")
        sets[name] = Path(folder)
    return sets


def _evenly_spaced(n: int, k: int) -> list[int]:
    return list(range(n)) if k <= 0 or k >= n else np.linspace(0, n - 1, k).round().astype(int).tolist()


def _data_record(dataset: FrameDataset, config: PretrainConfig) -> dict:
    metas = [c.meta for c in dataset.clips]
    return {
        "train": str(config.data),
        "clips": len(metas),
        "frames": len(dataset),
        "splits": sorted({m.split for m in metas}),
        "seeds": sorted({m.seed for m in metas}),
        "val": list(config.val),
    }


def _datasets(config: PretrainConfig) -> tuple[FrameDataset, dict[str, Subset]]:
    """The training frames and the (evenly subsampled) validation sets."""
    size = config.network.input_size
    try:
        train_set = FrameDataset([config.data], size, config.frames, body=config.body)
        val_data = {name: FrameDataset([folder], size, replace(config.frames, augment=False), body=config.body)
                    for name, folder in parse_val_sets(config.val).items()}
    except (FileNotFoundError, ValueError) as err:
        raise PretrainError(str(err)) from None
    others = {name: d.body_model for name, d in val_data.items() if d.body_model != train_set.body_model}
    if others:
        raise PretrainError(
            f"validation clips use another body model than the training clips ({train_set.body_model}): "
            + ", ".join(f"{name}: {model}" for name, model in others.items())
        )
    return train_set, {name: Subset(d, _evenly_spaced(len(d), config.val_frames)) for name, d in val_data.items()}


def _restore(path: Path, config: PretrainConfig, net: MocapNet, optimizer: torch.optim.Optimizer,
             scheduler: torch.optim.lr_scheduler.LRScheduler, device: torch.device) -> tuple[int, int]:
    """Load a training checkpoint made with the same config into the objects; (step, images seen)."""
    state = TrainState.load(path)
    diff = config_differences(state.config, to_dict(config), RESUMABLE_CHANGES)
    if diff:
        raise PretrainError(f"--resume with a different config than {path}: " + "; ".join(diff))
    net.load_state_dict(state.model)
    optimizer.load_state_dict(state.optimizer)
    scheduler.load_state_dict(state.scheduler)
    set_rng_state(state.rng, device)
    return state.step, state.images_seen


def _warm_start(net: MocapNet, config: PretrainConfig) -> None:
    """Load the weights of the pretrained export ``config.init`` into ``net`` (same network)."""
    try:
        start = load_pretrained(config.init)
    except CheckpointError as err:
        raise PretrainError(f"--init: {err}") from None
    same = replace(start.card.network_config, world_input=config.network.world_input) == config.network
    if not same or start.card.outputs != net.outputs or (start.card.network_config.world_input and not config.network.world_input):
        raise PretrainError(f"--init {config.init} was trained with another network or body model; pass the same --width and body model")
    # a network without the 3D input warm-starts one with it: the new layer starts at zero
    missing, unexpected = net.load_state_dict(start.model.state_dict(), strict=False)
    if unexpected or any(not k.startswith("world.") for k in missing):
        raise PretrainError(f"--init {config.init}: its weights do not fit this network ({', '.join(unexpected or missing)})")


def _data_parallel(net: MocapNet, ranks: Ranks) -> torch.nn.Module:
    """``net`` wrapped for DDP (SyncBatchNorm on GPU; CPU has none), or itself in a single process."""
    if ranks.world_size == 1:
        return net
    if ranks.device.type == "cuda":
        net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        return torch.nn.parallel.DistributedDataParallel(net, device_ids=[ranks.device.index])
    return torch.nn.parallel.DistributedDataParallel(net)


def pretrain(config: PretrainConfig) -> Path:
    """Train (or, with ``config.resume``, continue) a :class:`MocapNet`; returns the run folder."""
    ranks = _setup_ranks(config)
    out = Path(config.out)
    ckpt_path = out / "checkpoint.pt"
    train_set, val_sets = _datasets(config)
    if config.batch % ranks.world_size:
        raise PretrainError(f"--batch {config.batch} must be divisible by the {ranks.world_size} ranks")
    if ckpt_path.exists() and not config.resume:
        raise PretrainError(f"{ckpt_path} exists: pass --resume to continue that run, or choose another --out")
    if config.resume and not ckpt_path.exists():
        raise PretrainError(f"--resume: no checkpoint at {ckpt_path}")

    body = config.body.load(train_set.body_model, f"the training clips of {config.data}").to(ranks.device)
    outputs = BodyOutputSpec.of(body)
    torch.manual_seed(config.seed)
    net = MocapNet(config.network, outputs).to(ranks.device, memory_format=torch.channels_last)  # faster convolutions
    if config.init is not None and not config.resume:
        _warm_start(net, config)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
    step, images_seen = _restore(ckpt_path, config, net, optimizer, scheduler, ranks.device) if config.resume else (0, 0)
    model = _data_parallel(net, ranks)

    terms_names = LossTerms.names()
    if ranks.main:
        save_config(config, out / "config.json", selfmocap=selfmocap.__version__, torch=torch.__version__)
        keep = step if config.resume else None
        train_log = CsvLog(out / "train.csv", TrainRow, keep)
        val_log = CsvLog(out / "val.csv", ValRow, keep)

    def checkpoint() -> None:
        TrainState(step, images_seen, to_dict(config), net.state_dict(), optimizer.state_dict(),
                   scheduler.state_dict(), rng_state(ranks.device)).save(ckpt_path)
        plot_curves(train_log.read(), val_log.read(), out / "curves.png")

    def validate_all() -> dict[str, dict[str, float]]:
        metrics = {name: validate(net, body, s, config, ranks.device) for name, s in val_sets.items()}
        for name, values in metrics.items():
            val_log.append(ValRow(step, name, values))
        return metrics

    order = TrainOrder(len(train_set), config.batch, config.seed, step, ranks.rank, ranks.world_size)
    batches = iter(frame_loader(train_set, config.batch // ranks.world_size, config.frames.workers, order))
    bar = tqdm(total=config.steps, initial=step, desc="pretrain", unit="step", disable=not ranks.main, dynamic_ncols=True)
    speed = 0.0
    model.train()
    while step < config.steps:
        tic = time.perf_counter()
        batch = next(batches).to(ranks.device)
        terms = training_losses(model, body, batch, config)
        loss = terms.total(config.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1
        images_seen += config.batch
        logged = torch.cat([loss.detach()[None], terms.stacked()])
        if ranks.world_size > 1:
            dist.all_reduce(logged)
            logged /= ranks.world_size
        logged = logged.tolist()
        rate = config.batch / (time.perf_counter() - tic)  # data loading and the step; not logging
        speed = 0.9 * speed + 0.1 * rate if speed else rate
        if not ranks.main:
            continue  # ranks > 0 only train
        bar.update(1)
        bar.set_postfix(loss=f"{logged[0]:.4f}", img_s=f"{speed:.1f}")
        if step % config.log_every == 0 or step == config.steps:
            train_log.append(TrainRow(step, scheduler.get_last_lr()[0], logged[0], dict(zip(terms_names, logged[1:])), speed))
        if val_sets and (step % config.val_every == 0 or step == config.steps):
            for name, values in validate_all().items():
                bar.write(f"step {step} {name}: " + ", ".join(f"{k} {v:.1f} mm" for k, v in values.items()))
        if step % config.checkpoint_every == 0 or step == config.steps:
            checkpoint()
    bar.close()
    if ranks.main:
        final = {r.set: r.errors for r in val_log.read() if r.step == step}
        card = ModelCard(
            network=to_dict(config.network), frames=to_dict(config.frames), recipe=to_dict(config),
            data=_data_record(train_set, config), metrics=final, step=step, images_seen=images_seen,
            versions={"selfmocap": selfmocap.__version__, "torch": str(torch.__version__)},
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"), body=asdict(outputs),
        )
        export_pretrained(net, card, out / "pretrained.pt")
    ranks.finish()
    return out
