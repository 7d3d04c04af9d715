"""Adaptation step time by stage, and the time of one pass over a clip.

    python benchmarks/bench_adapt.py --data /work/data/test --checkpoint src/selfmocap/models/checkpoints/mocapnet.pt

A "pass" adapts on every frame of a 100-frame clip once: ceil(100 / (2 * batch)) steps of
``batch`` frame pairs. Prints a markdown table (ms per step) and frames per second.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict

import numpy as np
import torch

from selfmocap.adapt.config import InputConfig
from selfmocap.adapt.inputs import prepare_inputs
from selfmocap.adapt.objective import pair_batch, visibility
from selfmocap.adapt.network import run_network
from selfmocap.body import load_body_model
from selfmocap.data import list_clips
from selfmocap.geometry.camera import project
from selfmocap.losses import keypoint_reprojection_loss, motion_reprojection_loss, segmentation_chamfer_loss
from selfmocap.models.pretrained import load_pretrained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    pre = load_pretrained(args.checkpoint)
    body = load_body_model()
    net, sigma, faces = pre.model, pre.card.frame_config.heatmap_sigma, body.faces.numpy()
    inputs = prepare_inputs(list_clips(args.data)[0], InputConfig(inputs="estimated"))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    times = defaultdict(float)
    rng = np.random.default_rng(0)

    def tick(name, start):
        times[name] += time.perf_counter() - start
        return time.perf_counter()

    for step in range(args.steps + 1):
        if step == 1:
            times.clear()
        n_pairs = inputs.num_frames - inputs.gap
        batch = pair_batch(inputs, torch.from_numpy(rng.choice(n_pairs, size=min(args.batch, n_pairs), replace=False)))
        s = time.perf_counter()
        pred, camera = run_network(net, inputs, batch.frames, sigma)
        s = tick("network forward", s)
        out = body(pred.pose, pred.shape)
        s = tick("body model forward", s)
        vis = visibility(out.vertices, camera, faces)
        s = tick("visibility (ray casting)", s)
        b = len(batch.t)
        kpt = keypoint_reprojection_loss(out.keypoints, camera, batch.keypoints[..., :2], batch.keypoints[..., 2], scale=batch.side)
        s = tick("keypoint loss", s)
        seg = segmentation_chamfer_loss(project(out.vertices, camera), batch.masks, vis, scale=batch.side)
        s = tick("segmentation loss", s)
        mot = motion_reprojection_loss(out.vertices[:b], out.vertices[b:], camera.index(slice(0, b)), camera.index(slice(b, 2 * b)),
                                       batch.flow, vis[:b], batch.flow_valid, scale=batch.side[:b])
        s = tick("motion loss", s)
        optimizer.zero_grad()
        (kpt + seg + mot).backward()
        s = tick("backward (network + body model + losses)", s)
        optimizer.step()
        tick("optimizer step", s)
    total = sum(times.values()) / args.steps
    print("| stage | ms / step |\n|---|---|")
    for name, sec in times.items():
        print(f"| {name} | {1000 * sec / args.steps:.1f} |")
    print(f"| **total** | **{1000 * total:.1f}** |")
    steps_per_pass = math.ceil(100 / (2 * args.batch))
    print(f"\n{2 * args.batch / total:.1f} frames/s of adaptation (batch {args.batch} pairs, width {pre.card.network['width']}); "
          f"one pass over a 100-frame clip: {steps_per_pass} steps, {steps_per_pass * total:.1f} s")


if __name__ == "__main__":
    main()
