"""Time one side-by-side overlay frame (``selfmocap.export.overlay.overlay_frame``).

    python benchmarks/bench_export_overlay.py [--width 1280] [--height 720] [--repeats 5]

A 1.7 m person in the rest pose 4 m from a camera with f = 1000 px; prints the median time of
``overlay_frame`` (rays cast only in the mesh's box) and of the same picture with every pixel's
ray cast (``render_overlay`` on both halves), in milliseconds.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from _timing import median_ms
from selfmocap.body import load_body_model
from selfmocap.export.overlay import SIDE_TURN, SideView, overlay_frame
from selfmocap.render.overlay import render_overlay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    w, h = args.width, args.height
    body = load_body_model()
    faces = body.faces.numpy()
    with torch.no_grad():
        vertices = body(torch.zeros(1, body.num_pose_joints, 3), body.default_shape[None]).vertices[0].numpy()
    camera = np.array([1000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, w / 2, h / 2], np.float32)
    image = np.full((h, w, 3), 100, np.uint8)
    side = SideView()

    def every_ray() -> None:
        render_overlay(image, vertices + np.float32([0, 0, 4]), faces, 1000.0, (w / 2, h / 2))
        background = np.empty_like(image)
        background[:] = side.background
        side_cam = vertices @ SIDE_TURN.T.astype(np.float32) + np.float32([0, 0, side.distance])
        render_overlay(background, side_cam, faces, h * side.distance / side.field_height, (w / 2, h / 2), alpha=1.0)

    boxed = median_ms(lambda: overlay_frame(image, vertices, faces, camera), args.repeats)
    full = median_ms(every_ray, args.repeats)
    print(f"| {w}x{h} | overlay_frame (rays in the mesh's box) | {boxed:.0f} ms |")
    print(f"| {w}x{h} | every pixel's ray, both halves | {full:.0f} ms |")


if __name__ == "__main__":
    main()
