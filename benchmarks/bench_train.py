"""Training throughput of the paper's network against the machine's matmul throughput.

    python benchmarks/bench_train.py [--widths 16 64] [--batch 32] [--threads N] [--data DIR]

For each width: FLOPs per image (torch.utils.flop_counter, forward and forward+backward), images/s
of the network step alone (forward, backward, Adam) in float32 (default and channels_last memory
formats) and under bfloat16 autocast, and of the full training step (network, body model, all
losses; channels_last as in training) in both precisions. The fraction is network FLOP/s over a large matmul's FLOP/s in the
same precision. With ``--data``, also the data pipeline's images/s (crops, augmentation, PNG
decoding; one process).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from selfmocap.body import load_body_model
from selfmocap.data.frames import FrameBatch, FrameDataset, TrainOrder, collate_frames
from selfmocap.data.config import FrameConfig
from selfmocap.geometry.camera import Camera, euler_to_rotmat
from selfmocap.geometry.crop import CropBox
from selfmocap.models.network import MocapNet, count_parameters
from selfmocap.models.config import NetworkConfig
from selfmocap.training.config import PretrainConfig
from selfmocap.training.pretrain import training_losses


def matmul_flops(dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
    """Best FLOP/s of an n x n x n matmul."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best


def _timed(fn) -> float:
    tic = time.perf_counter()
    fn()
    return time.perf_counter() - tic


def network_flops(net: MocapNet, batch: int) -> tuple[float, float]:
    """(forward, forward + backward) FLOPs per image."""
    x, c = torch.randn(batch, 26, 128, 128), torch.full((batch, 2), 64.0)
    with FlopCounterMode(display=False) as fwd:
        pred = net(x, c)
    with FlopCounterMode(display=False) as both:
        pred = net(x, c)
        (pred.pose.sum() + pred.shape.sum() + pred.camera.focal.sum()).backward()
    return fwd.get_total_flops() / batch, both.get_total_flops() / batch


def network_step_rate(net: MocapNet, batch: int, channels_last: bool, bf16: bool, steps: int) -> float:
    """Images/s of forward + backward + Adam on random inputs."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.randn(batch, 26, 128, 128).contiguous(memory_format=fmt)
    c = torch.full((batch, 2), 64.0)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            pred = net(x, c)
        loss = pred.pose.square().mean() + pred.shape.mean() + pred.camera.focal.log().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    return batch * steps / sum(_timed(step) for _ in range(steps))


def synthetic_batch(batch: int) -> FrameBatch:
    g = torch.Generator().manual_seed(0)
    return FrameBatch(
        rgb=torch.randint(0, 255, (batch, 3, 128, 128), dtype=torch.uint8, generator=g),
        keypoints=torch.cat([torch.rand(batch, 23, 2, generator=g) * 128, torch.ones(batch, 23, 1)], -1),
        keypoints2d=torch.cat([torch.rand(batch, 23, 2, generator=g) * 128, torch.ones(batch, 23, 1)], -1),
        pose=euler_to_rotmat(torch.randn(batch, 19, 3, generator=g) * 0.3),
        shape=torch.rand(batch, 6, generator=g),
        camera=Camera(torch.full((batch,), 300.0), euler_to_rotmat(torch.randn(batch, 3, generator=g)),
                      torch.zeros(batch, 2), torch.full((batch,), 3.5), torch.full((batch, 2), 64.0)),
        box=CropBox(torch.zeros(batch, 2), torch.ones(batch)),
        index=torch.arange(batch),
        world=torch.zeros(batch, 23, 4),
    )


def full_step_rate(net: MocapNet, body, config: PretrainConfig, steps: int) -> float:
    """Images/s of the whole training step (network, body model, losses, Adam) without data loading."""
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    batch = synthetic_batch(config.batch)

    def step() -> None:
        loss = training_losses(net, body, batch, config).total(config.loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    return config.batch * steps / sum(_timed(step) for _ in range(steps))


def data_rate(folder: str, batch: int, batches: int) -> float:
    dataset = FrameDataset([folder], 128, FrameConfig())
    keys = iter(TrainOrder(len(dataset), batch, seed=0))
    tic = time.perf_counter()
    for _ in range(batches):
        collate_frames([dataset[next(keys)] for _ in range(batch)])
    return batch * batches / (time.perf_counter() - tic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[NetworkConfig().width, 64])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per measurement")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--data", help="clips folder: also time the data pipeline")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{args.threads} threads, batch {args.batch}")
    peak = {"fp32": matmul_flops(torch.float32), "bf16": matmul_flops(torch.bfloat16)}
    print(f"matmul 2048^3: float32 {peak['fp32'] / 1e9:.1f} GFLOP/s, bfloat16 {peak['bf16'] / 1e9:.1f} GFLOP/s")
    body = load_body_model()
    for width in args.widths:
        cfg = NetworkConfig(width=width)
        net = MocapNet(cfg)
        fwd, train = network_flops(net, 4)
        print(f"\nwidth {width}: {count_parameters(net) / 1e6:.1f} M parameters, "
              f"{fwd / 1e9:.2f} GFLOP/image forward, {train / 1e9:.2f} GFLOP/image forward+backward")
        for label, channels_last, precision in (("fp32", False, "fp32"), ("fp32 channels_last", True, "fp32"), ("bf16 autocast", False, "bf16")):
            rate = network_step_rate(MocapNet(cfg), args.batch, channels_last, precision == "bf16", args.steps)
            print(f"  network step, {label:18s}: {rate:7.1f} images/s = {rate * train / 1e9:6.1f} GFLOP/s = "
                  f"{rate * train / peak[precision]:5.1%} of {precision} matmul")
        for precision in ("fp32", "bf16"):
            config = PretrainConfig(data=".", out=".", batch=args.batch, network=cfg, precision=precision)
            full = full_step_rate(MocapNet(cfg).to(memory_format=torch.channels_last), body, config, args.steps)
            print(f"  full training step (+ body model, losses), {precision}: {full:7.1f} images/s")
    if args.data:
        print(f"\ndata pipeline (1 process): {data_rate(args.data, args.batch, 4):.1f} images/s")


if __name__ == "__main__":
    main()
