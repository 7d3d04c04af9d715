"""``selfmocap synth``: generate a split of synthetic clips, resumable and worker-count independent."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import time
from pathlib import Path

import torch
from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap.synth.config import SynthConfig
from selfmocap.body.config import BodyModelConfig
from selfmocap.data.clip import TMP_PREFIX

#: Settings that must match for clips to belong to the same dataset folder.
_DATASET_KEYS = ("split", "seed", "frames", "size", "fps", "motions", "motion_map")


def validate(config: SynthConfig) -> None:
    """Raise ``UserError`` with a one-line message for bad arguments."""
    from selfmocap.errors import UserError

    if config.clips < 1:
        raise UserError(f"--clips must be at least 1, got {config.clips}")
    if config.frames < 1:
        raise UserError(f"--frames must be at least 1, got {config.frames}")
    if config.size < 64:
        raise UserError(f"--size must be at least 64 pixels (a person needs room), got {config.size}")
    if config.workers < 1:
        raise UserError(f"--workers must be at least 1, got {config.workers}")
    if config.fps <= 0:
        raise UserError(f"--fps must be positive, got {config.fps}")
    if config.motion_map is not None and config.motions is None:
        raise UserError("--motion-map needs --motions (the BVH files it maps)")
    if config.motions is not None:
        _motion_source(config).check_window(config.frames, config.fps)
    try:
        config.out.mkdir(parents=True, exist_ok=True)
        probe = config.out / f"{TMP_PREFIX}write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise UserError(f"cannot write to --out {config.out}: {err.strerror or err}; choose a writable folder") from None
    settings = config.out / "synth_config.json"
    if settings.is_file():
        old = json.loads(settings.read_text())["config"]
        new = cfg.to_dict(config)
        differ = [k for k in _DATASET_KEYS if old.get(k) != new.get(k)]
        old_body = (old.get("body") or {}).get("body_model") or "anny"  # folders from before SMPL: anny
        if old_body != config.body.resolve():
            differ.append("body_model")
            old["body_model"] = old_body
        if differ:
            raise UserError(
                f"{config.out} holds clips made with other settings ({', '.join(f'{k}={old.get(k)}' for k in differ)}); "
                "use another --out or delete that folder"
            )


def clip_id(split: str, index: int) -> str:
    return f"{split}_{index:06d}"


_WORKER_BODY = None
_MOTION_SOURCES: dict = {}


def _motion_source(config: SynthConfig):
    """The BVH motion source of ``--motions`` (None without it), built once per process."""
    if config.motions is None:
        return None
    key = (config.motions, config.motion_map)
    if key not in _MOTION_SOURCES:
        from selfmocap.body import load_body_model
        from selfmocap.synth.mocap import BvhMotion, anny_target_skeleton

        # motions are made on Anny's bones, then retargeted to the clip's body model by the generator
        body = _WORKER_BODY if _WORKER_BODY is not None and _WORKER_BODY.name == "anny" else load_body_model("anny")
        _MOTION_SOURCES[key] = BvhMotion.from_paths(config.motions, anny_target_skeleton(body), config.motion_map)
    return _MOTION_SOURCES[key]


def _init_worker(body: BodyModelConfig, loaded=None) -> None:
    global _WORKER_BODY
    torch.set_num_threads(1)
    _WORKER_BODY = loaded if loaded is not None else body.load()


def _render_one(args: tuple[SynthConfig, int]) -> tuple[int, int]:
    from selfmocap.synth.generator import render_clip

    config, index = args
    render_clip(
        config.out, clip_id(config.split, index), config.split, config.seed, index, _WORKER_BODY,
        config.frames, config.size, config.fps, motion_source=_motion_source(config), preview=config.preview,
    )
    return index, config.frames


def generate(config: SynthConfig) -> list[Path]:
    """Write ``config.clips`` clips (skipping complete ones), return all clip folders."""
    from selfmocap import __version__

    validate(config)
    body = config.body.load()  # fails early (e.g. missing SMPL files), before anything is written
    for leftover in config.out.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    cfg.save_config(config, config.out / "synth_config.json", selfmocap_version=__version__, torch_version=torch.__version__)
    todo = [i for i in range(config.clips) if not (config.out / clip_id(config.split, i) / "meta.json").is_file()]
    done = config.clips - len(todo)
    if done:
        print(f"resuming: {done} of {config.clips} clips already complete in {config.out}")
    start = time.perf_counter()
    frames = 0
    bar = tqdm(total=len(todo), desc=f"synth {config.split}", unit="clip")
    if config.workers == 1 or len(todo) <= 1:
        threads = torch.get_num_threads()
        _init_worker(config.body, body)
        try:
            for i in todo:
                frames += _render_one((config, i))[1]
                bar.update(1)
                bar.set_postfix(fps=f"{frames / (time.perf_counter() - start):.1f}")
        finally:
            torch.set_num_threads(threads)
    else:
        with mp.get_context("spawn").Pool(config.workers, initializer=_init_worker, initargs=(config.body,)) as pool:
            for _, n in pool.imap_unordered(_render_one, [(config, i) for i in todo]):
                frames += n
                bar.update(1)
                bar.set_postfix(fps=f"{frames / (time.perf_counter() - start):.1f}")
    bar.close()
    folders = [config.out / clip_id(config.split, i) for i in range(config.clips)]
    if config.world_landmarks:
        _add_world_landmarks(folders, config.workers)
    return folders


def _world_landmarks_one(folder: Path) -> None:
    from selfmocap.cues.mediapipe import world_landmarks
    from selfmocap.data.clip import Clip

    clip = Clip(folder)
    clip.write_world_landmarks(world_landmarks([clip.rgb(t) for t in range(len(clip))]))


def _add_world_landmarks(folders: list[Path], workers: int) -> None:
    """mediapipe's world landmarks of every clip that has none yet (``--world-landmarks``)."""
    from selfmocap.data.clip import WORLD_LANDMARKS_FILE

    todo = [f for f in folders if not (f / WORLD_LANDMARKS_FILE).is_file()]
    bar = tqdm(total=len(todo), desc="world landmarks", unit="clip")
    if workers == 1 or len(todo) <= 1:
        for folder in todo:
            _world_landmarks_one(folder)
            bar.update(1)
    else:
        with mp.get_context("spawn").Pool(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            for _ in pool.imap_unordered(_world_landmarks_one, todo):
                bar.update(1)
    bar.close()
