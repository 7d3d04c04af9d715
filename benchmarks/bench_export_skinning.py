"""How close the exported rig (.glb skin, .bvh joints) is to the body model's own mesh and joints.

    python benchmarks/bench_export_skinning.py [--poses 32] [--seed 0] [--data /work/data/test] [--float64]

For random joint-limited poses (uniform in ``selfmocap.body.limits``' boxes, which is harsher than
real motion) and, with ``--data``, the ground-truth poses of the synthetic clips there, skins the
zero-pose mesh with the rig's joints (forward kinematics of the exported skeleton) and compares
with ``body(pose, shape).vertices``, for the folded weights with every influence kept and for the
top-4 weights the .glb stores. Prints a markdown table of vertex errors in millimetres, then
the joint errors of the rig's forward kinematics and of bvhio's reading of the written .bvh.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from selfmocap.body import load_body_model
from selfmocap.body.limits import ANNY_JOINT_LIMITS, euler_to_pose
from selfmocap.export.bvh import BVH_UNITS_PER_METRE, write_bvh
from selfmocap.export.gltf import MAX_INFLUENCES, linear_blend_skinning, top_k_influences
from selfmocap.export.motion import captured_motion
from selfmocap.export.skeleton import forward_kinematics, rest_pose, world_motion


def _pose_sets(args) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, pose (N, 19, 3), shape (6,)) sets to measure."""
    rng = np.random.default_rng(args.seed)
    euler = rng.uniform(ANNY_JOINT_LIMITS.lower, ANNY_JOINT_LIMITS.upper, size=(args.poses, 19, 3))
    random = euler_to_pose(euler).astype(np.float32)
    sets = [
        ("random joint-limited, average shape", random, np.full(6, 0.5, np.float32)),
        ("random joint-limited, shape (0.3, 0.7, 0.4, 0.6, 0.8, 0.45)", random, np.array([0.3, 0.7, 0.4, 0.6, 0.8, 0.45], np.float32)),
    ]
    if args.data is not None:
        from selfmocap.data.clip import list_clips

        clips = list_clips(args.data)[: args.clips]
        for clip in clips:
            labels = clip.labels
            step = max(len(labels.pose) // 8, 1)
            sets.append((f"clip {clip.path.name}, frames 0::{step}", labels.pose[::step].astype(np.float32), labels.shape.astype(np.float32)))
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", type=int, default=32, help="random poses per shape")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None, help="folder of synthetic clips whose poses to measure too")
    parser.add_argument("--clips", type=int, default=4, help="clips of --data to use")
    parser.add_argument("--float64", action="store_true", help="run the body model in float64")
    args = parser.parse_args()

    body = load_body_model(dtype=torch.float64 if args.float64 else torch.float32)
    weights = body.skinning_weights().double().numpy()
    variants = {
        "folded, all influences": top_k_influences(weights, k=weights.shape[1]),
        f"folded, top {MAX_INFLUENCES} (the .glb)": top_k_influences(weights, k=MAX_INFLUENCES),
    }
    print(f"vertices with more than {MAX_INFLUENCES} folded influences: {int(((weights > 0).sum(1) > MAX_INFLUENCES).sum())} of {len(weights)}")
    print()
    print("| poses | weights | max mm | 99.9th pct mm | 99th pct mm | mean mm |")
    print("|---|---|---|---|---|---|")
    for name, pose, shape in _pose_sets(args):
        camera = np.zeros((len(pose), 9), np.float32)
        camera[:, 0], camera[:, 6], camera[:, 7:] = 1000.0, 4.0, 500.0
        motion = captured_motion(body, pose, shape, camera, fps=30.0, image_size=(1000, 1000))
        with torch.no_grad():
            vertices = body(torch.from_numpy(pose), torch.from_numpy(shape)[None]).vertices.double().numpy()
        reference = motion.world.points(vertices)
        rest = rest_pose(body, shape)
        positions, rotations = forward_kinematics(rest, world_motion(motion, body))
        for label, influences in variants.items():
            error = 1000 * np.linalg.norm(linear_blend_skinning(rest, influences, positions, rotations) - reference, axis=-1)
            print(
                f"| {name} ({len(pose)}) | {label} | {error.max():.2f} | {np.percentile(error, 99.9):.2f} | "
                f"{np.percentile(error, 99):.3f} | {error.mean():.3f} |"
            )
    _joint_errors(body, _pose_sets(args)[1])


def _joint_errors(body, pose_set: tuple[str, np.ndarray, np.ndarray]) -> None:
    """Max joint error (metres) of the rig's FK and of bvhio's FK of the written file."""
    name, pose, shape = pose_set
    camera = np.zeros((len(pose), 9), np.float32)
    camera[:, 0], camera[:, 1:4], camera[:, 6], camera[:, 7:] = 1000.0, (0.3, 0.8, -0.2), 4.0, 500.0
    motion = captured_motion(body, pose, shape, camera, fps=30.0, image_size=(1000, 1000))
    reference = motion.world.points(motion.joints3d.astype(np.float64))
    positions, _ = forward_kinematics(rest_pose(body, shape), world_motion(motion, body))
    print()
    print(f"joints, {name} ({len(pose)} poses): rig forward kinematics max error {np.abs(positions - reference).max():.2e} m")
    try:
        import bvhio
    except ImportError:
        print("bvhio not installed: BVH check skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = bvhio.readAsHierarchy(str(write_bvh(Path(tmp) / "motion.bvh", motion, body)))
    order = [body.joint_names.index(joint.Name) for joint, _, _ in root.layout()]
    error = 0.0
    for t in range(len(pose)):
        root.loadPose(t)
        got = np.array([list(joint.PositionWorld) for joint, _, _ in root.layout()]) / BVH_UNITS_PER_METRE
        error = max(error, float(np.abs(got - reference[t, order]).max()))
    print(f"joints, {name} ({len(pose)} poses): bvhio forward kinematics of the .bvh max error {error:.2e} m")


if __name__ == "__main__":
    main()
