"""Time the render stage on the Anny mesh and compare visibility with the paper's brute force.

    python benchmarks/bench_render.py [--size 256] [--repeats 20] [--skip-reference]

Prints a markdown table (median wall-clock times). The brute-force reference is the PyTorch
three-condition test kept in tests/render/render_reference.py, run once over all facets.
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import platform
import time

import numpy as np
import torch

from _timing import median_ms
from selfmocap.body import load_body_model
from selfmocap.render import (
    RayCaster,
    SurfaceLayout,
    rasterize,
    sample_appearance,
    sample_light,
    shade,
    vertex_visibility,
)

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "tests" / "render" / "render_reference.py"


def _load_reference():
    """The tests' brute-force module, imported by path (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("render_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="image height and width in pixels")
    parser.add_argument(
        "--person-px", type=float, default=200.0, help="height of the person in the image"
    )
    parser.add_argument(
        "--depth", type=float, default=3.0, help="distance of the body root from the camera, m"
    )
    parser.add_argument(
        "--repeats", type=int, default=20, help="timed runs per row (median reported)"
    )
    parser.add_argument(
        "--chunk", type=int, default=64, help="rays per batch in the brute-force reference"
    )
    parser.add_argument(
        "--skip-reference", action="store_true", help="skip the slow brute-force reference"
    )
    args = parser.parse_args()

    body = load_body_model()
    with torch.no_grad():
        out = body(torch.zeros(1, body.num_pose_joints, 3), torch.full((1, body.shape_dim), 0.5))
    vertices = out.vertices[0].numpy().astype(np.float32)
    vertices[:, 2] += args.depth
    faces = body.faces.numpy()
    height_m = np.ptp(vertices[:, 1])
    focal = args.person_px * args.depth / height_m
    # centre the body's projected extent in the image
    mid_y = focal * (vertices[:, 1].min() + vertices[:, 1].max()) / 2 / args.depth
    principal = (args.size / 2, args.size / 2 - mid_y)
    size = args.size

    rng = np.random.default_rng(0)
    layout = SurfaceLayout.from_body(body)
    appearance = sample_appearance(rng, layout, "train")
    light = sample_light(rng)
    background = np.full((size, size, 3), 127, np.uint8)
    caster = RayCaster(vertices, faces)
    fragments = rasterize(vertices, faces, focal, principal, size, size, caster=caster)

    rows = [
        (
            "Embree scene build (`RayCaster`, buffers filled by numpy)",
            median_ms(lambda: RayCaster(vertices, faces), args.repeats),
        ),
        (
            "Embree scene build (`RayCaster(fast_fill=False)`, embreex `TriangleMesh`)",
            median_ms(lambda: RayCaster(vertices, faces, fast_fill=False), args.repeats),
        ),
        (
            f"`rasterize` {size}x{size}, scene reused",
            median_ms(
                lambda: rasterize(vertices, faces, focal, principal, size, size, caster=caster),
                args.repeats,
            ),
        ),
        (
            "`vertex_visibility`, scene reused",
            median_ms(lambda: vertex_visibility(vertices, faces, caster=caster), args.repeats),
        ),
        (
            "`vertex_visibility`, scene built inside",
            median_ms(lambda: vertex_visibility(vertices, faces), args.repeats),
        ),
        (
            f"`shade` {size}x{size}",
            median_ms(
                lambda: shade(fragments, vertices, faces, appearance, light, background),
                args.repeats,
            ),
        ),
        (
            "`sample_appearance` (once per clip, 512 px textures)",
            median_ms(lambda: sample_appearance(rng, layout, "train"), max(3, args.repeats // 4)),
        ),
    ]
    visible = vertex_visibility(vertices, faces, caster=caster)
    notes = [
        f"Anny rest pose, {len(vertices)} vertices, {len(faces)} faces, root {args.depth} m from the camera, "
        f"focal {focal:.0f} px, person {args.person_px:.0f} px tall in a {size}x{size} image "
        f"({fragments.mask.mean():.1%} foreground); {visible.mean():.1%} of vertices visible.",
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, numpy {np.__version__}.",
    ]

    if not args.skip_reference:
        reference = _load_reference()
        start = time.perf_counter()
        ref_faces = reference.paper_face_visibility(
            torch.from_numpy(vertices), torch.from_numpy(faces), chunk=args.chunk
        ).numpy()
        ref_ms = 1e3 * (time.perf_counter() - start)
        ref_vertices = np.zeros(len(vertices), bool)
        ref_vertices[faces[ref_faces].ravel()] = True
        vis_ms, vis_built_ms = rows[3][1], rows[4][1]
        rows += [
            (
                f"brute-force PyTorch reference visibility (float32, {args.chunk} rays/chunk, run once)",
                ref_ms,
            ),
            (
                f"speed-up, scene reused: {ref_ms / vis_ms:.0f}x; scene built inside: {ref_ms / vis_built_ms:.0f}x",
                None,
            ),
        ]
        agree = (ref_vertices == visible).mean()
        notes.append(f"Embree and the reference agree on {agree:.3%} of vertex visibilities.")

    print("| step | median ms |")
    print("|---|---:|")
    for name, ms in rows:
        print(f"| {name} | {'' if ms is None else f'{ms:.2f}'} |")
    print()
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
