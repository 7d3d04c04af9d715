"""Retargeting residuals: a BVH file on the Anny body against the BVH's own forward kinematics.

    python benchmarks/bench_retarget.py --bvh ../shared/mocap/cmu-01-01-mblab.bvh --png retarget.png
    python benchmarks/bench_retarget.py --all ../shared/mocap --every 10

The second form retargets every BVH file below a folder with the shipped map (no hand-written
map) and prints one row per file and the mean joint residual per matched profile (skeleton family).

Prints markdown tables: the bone map used, the per-joint residual in mm (hip centres aligned, the
source scaled by one factor from the summed segment lengths; ``selfmocap.synth.mocap.verify``),
and what the joint limits clamp. ``--png`` draws both skeletons side by side over the file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from selfmocap.body import load_body_model
from selfmocap.body.limits import clamp_pose
from selfmocap.body.names import ANNY_ARTICULATED_BONES
from selfmocap.synth.mocap import anny_target_skeleton, load_bone_map, read_bvh, resolve_bone_map, retarget
from selfmocap.synth.mocap.bvh import drop_frames, leading_calibration_frames, rest_pose
from selfmocap.synth.mocap.source import limit_report
from selfmocap.synth.mocap.verify import comparison_sheet, joint_residual, skeleton_scale, source_joints, target_joints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bvh", type=Path, default=None, help="BVH file")
    parser.add_argument("--all", type=Path, default=None, help="folder: one summary row per BVH file below it")
    parser.add_argument("--every", type=int, default=10, help="with --all: residuals on every n-th frame")
    parser.add_argument("--map", type=Path, default=None, help="bone map JSON (default: the shipped one)")
    parser.add_argument("--shape", type=float, nargs=6, default=[0.5] * 6, help="Anny phenotypes")
    parser.add_argument("--png", type=Path, default=None, help="write the stick-figure comparison here")
    parser.add_argument("--panels", type=int, default=10, help="frames drawn in the PNG")
    args = parser.parse_args()
    if (args.bvh is None) == (args.all is None):
        parser.error("give exactly one of --bvh FILE or --all FOLDER")

    body = load_body_model()
    shape = torch.tensor(args.shape)
    target = anny_target_skeleton(body, shape)
    if args.all is not None:
        summarize(args.all, args.map, args.every, body, shape, target)
        return
    start = time.perf_counter()
    clip = read_bvh(args.bvh)
    read_s = time.perf_counter() - start
    resolved = resolve_bone_map(load_bone_map(args.map), clip.skeleton, str(args.bvh))
    skipped = leading_calibration_frames(clip)
    clip = drop_frames(clip, skipped)
    start = time.perf_counter()
    ret = retarget(clip, resolved, target)
    retarget_s = time.perf_counter() - start
    res = joint_residual(clip, resolved, ret, target, body, shape)
    rest_clip = rest_pose(clip)
    rest = joint_residual(rest_clip, resolved, retarget(rest_clip, resolved, target), target, body, shape)

    names = clip.skeleton.names
    print(f"`{args.bvh.name}`: {clip.num_frames} frames at {clip.fps:g} fps after {skipped} leading calibration "
          f"frame(s); profile `{resolved.profile}`; file axes -> Anny axes {ret.axes.astype(int).tolist()}; "
          f"leg scale {ret.leg_scale:.4f} m/unit, skeleton scale {res.scale:.4f}; read {read_s:.2f} s, "
          f"retarget {1000 * retarget_s:.0f} ms ({1e6 * retarget_s / clip.num_frames:.0f} us/frame)\n")
    print("| Anny bone | source joint | segment end (tip) |\n|---|---|---|")
    for bone in ("root",) + ANNY_ARTICULATED_BONES:
        j = resolved.joints.get(bone)
        tip = resolved.tips.get(bone)
        print(f"| {bone} | {names[j] if j is not None else '(unmapped: at rest)'} | {names[tip] if tip is not None else ''} |")
    print(f"\nSource joints driving no bone ({len(resolved.unused)}): {', '.join(resolved.unused)}\n")

    print("| joint | mean mm | max mm | mean mm, no limits | mm at the source's rest pose | segment angle, no limits (deg) |")
    print("|---|---|---|---|---|---|")
    for i, name in enumerate(res.joint_names):
        angle = "" if np.isnan(res.chain_angle_deg[i]) else f"{res.chain_angle_deg[i]:.4f}"
        print(f"| {name} | {res.mean_mm[i]:.1f} | {res.max_mm[i]:.1f} | {res.mean_mm_unclamped[i]:.1f} | {rest.mean_mm[i]:.1f} | {angle} |")
    print(f"| **all joints** | **{np.nanmean(res.mean_mm):.1f}** | **{np.nanmax(res.max_mm):.1f}** | "
          f"**{np.nanmean(res.mean_mm_unclamped):.1f}** | **{np.nanmean(rest.mean_mm):.1f}** | |\n")

    report = limit_report(ret.pose)
    print("| bone | frames clamped > 1 deg | largest change (deg) |\n|---|---|---|")
    for bone, frac, change in zip(ANNY_ARTICULATED_BONES, report.clamped_fraction, report.max_change_deg):
        print(f"| {bone} | {100 * frac:.1f} % | {change:.1f} |")

    if args.png is not None:
        scale = skeleton_scale(clip, resolved, target)
        source = scale * source_joints(clip, resolved, ret.axes, target.to_body)
        frames = np.linspace(0, clip.num_frames - 1, args.panels).round().astype(int)
        posed = target_joints(body, clamp_pose(ret.pose[frames]), ret.root_rotation[frames], shape)
        full = np.full_like(source, np.nan)
        full[frames] = posed
        comparison_sheet(source, full, frames, clip.fps, f"{args.bvh.name} (limits applied)", args.png)
        print(f"\nwrote {args.png}")


def summarize(folder: Path, map_path: Path | None, every: int, body, shape, target) -> None:
    """One row per BVH file below ``folder``, then the mean residual per profile."""
    from selfmocap.synth.mocap.source import list_bvh_files

    bone_map = load_bone_map(map_path)
    per_profile: dict[str, list[tuple[float, float]]] = {}
    print("| file | profile | frames | mapped bones | mean mm (limits) | mean mm (no limits) | max mm | retarget ms |")
    print("|---|---|---|---|---|---|---|---|")
    for path in list_bvh_files(folder):
        clip = read_bvh(path)
        resolved = resolve_bone_map(bone_map, clip.skeleton, str(path))
        clip = drop_frames(clip, leading_calibration_frames(clip))
        start = time.perf_counter()
        ret = retarget(clip, resolved, target)
        retarget_ms = 1000 * (time.perf_counter() - start)
        frames = np.arange(0, clip.num_frames, max(every, 1))
        res = joint_residual(clip, resolved, ret, target, body, shape, frames=frames)
        mean, unclamped = float(np.nanmean(res.mean_mm)), float(np.nanmean(res.mean_mm_unclamped))
        per_profile.setdefault(resolved.profile, []).append((mean, unclamped))
        print(f"| {path.name} | {resolved.profile} | {clip.num_frames} | {len(resolved.joints)} | {mean:.1f} | "
              f"{unclamped:.1f} | {np.nanmax(res.max_mm):.1f} | {retarget_ms:.0f} |")
    print("\n| profile | files | mean mm (limits) | mean mm (no limits) |\n|---|---|---|---|")
    for profile, rows in per_profile.items():
        values = np.array(rows)
        print(f"| {profile} | {len(rows)} | {values[:, 0].mean():.1f} | {values[:, 1].mean():.1f} |")


if __name__ == "__main__":
    main()
