"""How well mediapipe's pose finds the synthetic people: detection, keypoint error, mask IoU.

    python benchmarks/bench_cues.py --data /work/data/test /work/data/shift [--clips 20]
        [--variant rgb|video|no-background|grayscale|x2] [--complexity 1] [--min-confidence 0.5]

For each dataset folder (``selfmocap synth`` output), every clip is run through
``cues.mediapipe.PoseDetector`` (video mode, a fresh detector per clip) and compared with the clip's
ground truth. Prints markdown tables:

* per split: frames, detection rate (``FrameCues.detected``), rate on the person (detected and
  the median keypoint error under 20 % of the person's height: the rest locked onto something
  else), mean and median keypoint error in pixels, the same with left and right swapped (checks
  the left/right convention), mask IoU with the true silhouette, milliseconds per frame;
* per keypoint name: mean and median error on the frames on the person (ground-truth visible
  keypoints only), and mean confidence of the ground-truth visible and occluded ones;
* the clips with the fewest frames on the person.

With ``--convention``, it instead measures mediapipe's pixel convention: each frame (background
painted grey, so every detection is on the person; every 2nd frame) is run as is, mirrored left to
right and turned by 180 degrees, each stream with its own detector. For a continuous convention
``x = x_norm * W`` with a constant offset ``d``, mirroring gives ``x + x' = W + 2 d``
(landmarks paired with their left/right twins); the 180-degree turn, for which mediapipe turns its
crop too, gives ``x + x'' - W`` and ``y + y'' - H``, the sum of the offsets of an upright and an
upside-down crop.

Variants, to find out why a clip fails: ``video`` encodes each clip into an H.264 MP4 with the
project's writer and reads it back with ``selfmocap.video.open_video`` (what ``selfmocap demo`` does), ``no-background``
paints the background grey using the true silhouette, ``grayscale`` drops colour, ``x2``
doubles the frame size.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from selfmocap.body.names import KEYPOINT_FLIP, KEYPOINT_NAMES
from selfmocap.cues.mediapipe import MEDIAPIPE_INDEX, PoseDetector
from selfmocap.video import open_video, write_video
from selfmocap.data import list_clips

#: A detection is "on the person" when its median keypoint error is under this fraction of the
#: person's height (the extent of the ground-truth keypoints).
ON_PERSON = 0.2


@dataclass
class Tally:
    frames: int = 0
    detected: int = 0
    on_person: int = 0
    seconds: float = 0.0
    errors: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n in KEYPOINT_NAMES})
    all_errors: list[float] = field(default_factory=list)
    swapped: list[float] = field(default_factory=list)
    conf_visible: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n in KEYPOINT_NAMES})
    conf_hidden: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n in KEYPOINT_NAMES})
    ious: list[float] = field(default_factory=list)
    foot_to_small_toe: list[float] = field(default_factory=list)
    clips: list[tuple[str, int, int]] = field(default_factory=list)


def frames_of(clip, variant: str, scratch: Path):
    """The clip's RGB frames as the variant presents them, and the factor applied to pixels."""
    if variant == "video":
        path = write_video((clip.rgb(t) for t in range(len(clip))), scratch / f"{clip.meta.clip_id}.mp4", clip.meta.fps)
        return iter(open_video(path)), 1.0
    def generate():
        for t in range(len(clip)):
            rgb = clip.rgb(t)
            if variant == "no-background":
                rgb = rgb.copy()
                rgb[~clip.mask(t)] = 128
            elif variant == "grayscale":
                rgb = np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
            elif variant == "x2":
                rgb = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
            yield rgb
    return generate(), (2.0 if variant == "x2" else 1.0)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def measure(folder: Path, clips: int | None, variant: str, complexity: int, min_confidence: float,
            scratch: Path) -> Tally:
    tally = Tally()
    mapped = np.array(MEDIAPIPE_INDEX) >= 0
    for clip in list_clips(folder)[:clips]:
        truth = clip.labels.keypoints2d
        frames, factor = frames_of(clip, variant, scratch)
        on_clip = 0
        with PoseDetector(model_complexity=complexity, min_confidence=min_confidence) as detector:
            for t, rgb in enumerate(frames):
                tic = time.perf_counter()
                cues = detector(rgb)
                tally.seconds += time.perf_counter() - tic
                tally.frames += 1
                if not cues.detected:
                    continue
                tally.detected += 1
                kp = cues.keypoints.astype(np.float64)
                kp[:, :2] /= factor
                visible = (truth[t, :, 2] > 0.5) & mapped
                err = np.linalg.norm(kp[:, :2] - truth[t, :, :2], axis=1)
                height = np.ptp(truth[t, :, 1])
                if visible.any():
                    tally.all_errors.extend(err[visible])
                if not visible.any() or np.median(err[visible]) > ON_PERSON * height:
                    continue
                tally.on_person += 1
                on_clip += 1
                swapped = np.linalg.norm(kp[list(KEYPOINT_FLIP), :2] - truth[t, :, :2], axis=1)
                tally.swapped.extend(swapped[visible])
                for big, small in (("left_big_toe", "left_small_toe"), ("right_big_toe", "right_small_toe")):
                    b, s = KEYPOINT_NAMES.index(big), KEYPOINT_NAMES.index(small)
                    if truth[t, s, 2] > 0.5:  # mediapipe's FOOT_INDEX (our big toe) against the true small toe
                        tally.foot_to_small_toe.append(float(np.linalg.norm(kp[b, :2] - truth[t, s, :2])))
                for k in np.flatnonzero(mapped):
                    name = KEYPOINT_NAMES[k]
                    if visible[k]:
                        tally.errors[name].append(err[k])
                        tally.conf_visible[name].append(kp[k, 2])
                    else:
                        tally.conf_hidden[name].append(kp[k, 2])
                if cues.mask is not None:
                    mask = cues.mask
                    if factor != 1.0:
                        mask = cv2.resize(mask.astype(np.uint8), (clip.meta.width, clip.meta.height),
                                          interpolation=cv2.INTER_NEAREST) > 0
                    tally.ious.append(iou(mask, clip.mask(t)))
        tally.clips.append((clip.meta.clip_id, on_clip, len(clip)))
    return tally


#: mediapipe landmark index of each landmark's mirror twin (left <-> right).
def _mirror_index() -> list[int]:
    from selfmocap.cues.mediapipe import MEDIAPIPE_LANDMARK_NAMES as names

    def twin(n: str) -> str:
        return n.replace("left", "@").replace("right", "left").replace("@", "right")

    return [names.index(twin(n)) for n in names]


def convention(folder: Path, clips: int | None, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: mean of ``x + x_mirrored - W`` over landmarks, and of ``(x, y) + turned - (W, H)``."""
    twin = _mirror_index()
    mirrored, turned = [], []
    for clip in list_clips(folder)[:clips]:
        detectors = [PoseDetector(segmentation=False) for _ in range(3)]
        for t in range(0, len(clip), 2):
            rgb = clip.rgb(t).copy()
            rgb[~clip.mask(t)] = 128
            if scale > 1:
                rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
            h, w = rgb.shape[:2]
            views = [rgb, rgb[:, ::-1], rgb[::-1, ::-1]]
            out = [d(np.ascontiguousarray(v)) for d, v in zip(detectors, views)]
            if out[0].landmarks is None:
                continue
            base = out[0].landmarks[twin, :2] * [w, h]
            if out[1].landmarks is not None:
                mirrored.append((base[:, 0] + out[1].landmarks[:, 0] * w - w).mean())
            if out[2].landmarks is not None:
                # a turn keeps handedness: landmark i of the turned frame is landmark i of the original
                turned.append((out[0].landmarks[:, :2] * [w, h] + out[2].landmarks[:, :2] * [w, h]
                               - [w, h]).mean(axis=0))
        for d in detectors:
            d.close()
    return np.array(mirrored), np.array(turned)


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _median(values) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="dataset folders (selfmocap synth output)")
    parser.add_argument("--clips", type=int, default=None, help="first N clips of each folder (default: all)")
    parser.add_argument("--variant", default="rgb", choices=["rgb", "video", "no-background", "grayscale", "x2"])
    parser.add_argument("--complexity", type=int, default=1, help="mediapipe model complexity")
    parser.add_argument("--min-confidence", type=float, default=0.5, help="mediapipe detection/tracking confidence")
    parser.add_argument("--convention", action="store_true", help="measure the pixel convention instead")
    parser.add_argument("--scale", type=int, default=1, help="--convention: enlarge frames by this factor (nearest)")
    args = parser.parse_args()
    if args.convention:
        print(f"pixel convention, frames x{args.scale}, background grey\n")
        print("| data | frames | mirror: x + x' - W = 2 d (px) | 180 deg: x + x'' - W | 180 deg: y + y'' - H |")
        print("|---|---|---|---|---|")
        for folder in args.data:
            m, r = convention(folder, args.clips, args.scale)
            sem = lambda v: v.std(axis=0) / np.sqrt(len(v))  # noqa: E731
            print(f"| {folder.name} | {len(m)} | {m.mean():+.3f} +- {sem(m):.3f} | {r[:, 0].mean():+.3f} +- "
                  f"{sem(r[:, 0]):.3f} | {r[:, 1].mean():+.3f} +- {sem(r[:, 1]):.3f} |")
        return

    tallies = {}
    with tempfile.TemporaryDirectory(prefix="bench-cues-") as scratch:
        for folder in args.data:
            tallies[folder.name] = measure(folder, args.clips, args.variant, args.complexity, args.min_confidence,
                                           Path(scratch))

    print(f"variant: {args.variant}, mediapipe model complexity {args.complexity}, min confidence "
          f"{args.min_confidence}, video mode, one detector per clip\n")
    print("| split | clips | frames | detected | on the person | kpt error mean / median (px) | L/R swapped mean (px) "
          "| mask IoU | ms / frame |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, t in tallies.items():
        on = [e for n in KEYPOINT_NAMES for e in t.errors[n]]
        print(f"| {name} | {len(t.clips)} | {t.frames} | {100 * t.detected / t.frames:.1f} % "
              f"| {100 * t.on_person / t.frames:.1f} % | {_mean(on):.2f} / {_median(on):.2f} "
              f"(all detected: {_mean(t.all_errors):.1f}) | {_mean(t.swapped):.2f} | {_mean(t.ious):.3f} "
              f"| {1e3 * t.seconds / t.frames:.1f} |")

    print("\nPer keypoint, frames on the person, ground-truth visible keypoints: error mean / median (px); "
          "mean confidence of visible / occluded keypoints\n")
    names = list(tallies)
    print("| keypoint | " + " | ".join(f"{n} error | {n} conf. vis / occ" for n in names) + " |")
    print("|---|" + "---|---|" * len(names))
    for k, kname in enumerate(KEYPOINT_NAMES):
        if MEDIAPIPE_INDEX[k] < 0:
            print(f"| {kname} | " + " | ".join("no counterpart | -" for _ in names) + " |")
            continue
        cells = []
        for n in names:
            t = tallies[n]
            e = t.errors[kname]
            cells.append(f"{_mean(e):.2f} / {_median(e):.2f} (n={len(e)})")
            cells.append(f"{_mean(t.conf_visible[kname]):.2f} / {_mean(t.conf_hidden[kname]):.2f}")
        print(f"| {kname} | " + " | ".join(cells) + " |")
    for n in names:
        t = tallies[n]
        vis = [c for v in t.conf_visible.values() for c in v]
        hid = [c for v in t.conf_hidden.values() for c in v]
        print(f"\n{n}: mean confidence of ground-truth visible keypoints {_mean(vis):.3f}, of occluded ones "
              f"{_mean(hid):.3f}; visible ones under 0.5: {100 * np.mean(np.array(vis) < 0.5):.1f} %, "
              f"occluded ones under 0.5: {100 * np.mean(np.array(hid) < 0.5):.1f} %")
        print(f"{n}: FOOT_INDEX against the true small toe instead of the big toe: "
              f"{_mean(t.foot_to_small_toe):.2f} / {_median(t.foot_to_small_toe):.2f} px (mean / median)")
        worst = sorted(t.clips, key=lambda c: c[1] / c[2])[:5]
        print(f"{n}: fewest frames on the person: " + ", ".join(f"{c} {a}/{b}" for c, a, b in worst))


if __name__ == "__main__":
    main()
