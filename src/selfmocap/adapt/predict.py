"""``selfmocap predict``: the pretrained network without adaptation (the paper's "Pretrained")."""

from __future__ import annotations

import time
from dataclasses import dataclass, field as dc_field
from pathlib import Path

from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap.adapt.inputs import InputConfig, prepare_inputs
from selfmocap.adapt.network import predict_clip
from selfmocap.body import BodyModelConfig
from selfmocap.data.clip import list_clips
from selfmocap.data.predictions import write_prediction, write_run_info
from selfmocap.models.pretrained import checkpoint_body, load_pretrained


@dataclass(frozen=True)
class PredictConfig:
    data: Path = cfg.field(help="folder of clips (the synthetic format)")
    out: Path = cfg.field(help="predictions folder to write")
    checkpoint: Path | None = cfg.field(None, help="pretrained network (default: the shipped checkpoint)")
    vertices: bool = cfg.field(False, help="also write per-frame vertices")
    input: InputConfig = dc_field(default_factory=InputConfig)
    body: BodyModelConfig = dc_field(default_factory=BodyModelConfig)


def run_predict(config: PredictConfig) -> Path:
    started = time.perf_counter()
    pretrained = load_pretrained(config.checkpoint)
    body = checkpoint_body(pretrained.card, config.body, f"checkpoint {config.checkpoint or 'shipped'}")
    sigma = pretrained.card.frame_config.heatmap_sigma
    for clip in tqdm(list_clips(config.data, body=config.body), desc="predict", unit="clip"):
        inputs = prepare_inputs(clip, config.input, pretrained.card.network_config.input_size)
        write_prediction(config.out, inputs.clip_id, predict_clip(pretrained.model, body, inputs, sigma, vertices=config.vertices))
    write_run_info(config.out, "pretrained", config=cfg.to_dict(config), checkpoint=str(config.checkpoint or "shipped"),
                   seconds=time.perf_counter() - started)
    return config.out
