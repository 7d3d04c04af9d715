"""``selfmocap demo``: the embedded default (``docs/capture.md``).

1. Render a short held-out clip with the synthetic generator (split ``test``, a seed used by no
   training, development or bench run) and encode its frames into an ordinary (H.264 MP4) video file.
2. Run ``capture`` on that file exactly as on a real video: mediapipe keypoints and masks, DIS
   flow, no ground truth.
3. Score the pretrained, adapted and exported (smoothed) results against the clip's known 3D
   ground truth with the evaluation command's code, print a table and optionally write JSON in
   the evaluation format, one object per result.
"""

from __future__ import annotations

from selfmocap.capture.config import CaptureConfig, CaptureOptions, DemoConfig
from selfmocap.video import write_video
from selfmocap.io import write_json


def run_demo(config: DemoConfig) -> dict:
    from selfmocap.capture.pipeline import run_capture
    from selfmocap.data.clip import Clip
    from selfmocap.eval.evaluate import evaluate, format_table
    from selfmocap.synth.config import SynthConfig
    from selfmocap.synth.run import generate

    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"demo 1/3: rendering a held-out {config.split} clip ({config.frames} frames, seed {config.seed})")
    clip_dir = generate(SynthConfig(out=out / "clip", split=config.split, clips=1, frames=config.frames,
                                    seed=config.seed, size=config.size))[0]
    clip = Clip(clip_dir)
    video = write_video((clip.rgb(t) for t in range(len(clip))), out / f"{clip.meta.clip_id}.mp4", clip.meta.fps)
    print(f"demo 2/3: capturing {video} like a real video (mediapipe cues, DIS flow, no ground truth)")
    result = run_capture(CaptureConfig(video=video, out=out / "capture", capture=CaptureOptions(overwrite=True)))
    print(result.summary.format(result.out))
    print("demo 3/3: scoring against the clip's 3D ground truth")
    scores = {}
    for name in ("pretrained", "adapted", "exported"):
        summary = evaluate(result.out / "predictions" / name, clip_dir.parent)
        scores[name] = summary.to_json()
        print(f"\n{name}:\n{format_table(summary)}")
    pre, ada = scores["pretrained"]["overall"], scores["adapted"]["overall"]
    for key in ("per_joint_mm", "surface_mm"):
        if pre.get(key) is not None and ada.get(key) is not None:
            print(f"{key}: pretrained {pre[key]:.1f} mm -> adapted {ada[key]:.1f} mm ({100 * (ada[key] - pre[key]) / pre[key]:+.1f} %)")
    if config.json is not None:
        write_json(config.json, scores)
        print(f"scores in {config.json}")
    return scores
