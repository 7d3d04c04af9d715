"""``selfmocap predict``: the pretrained network without adaptation (the paper's "Pretrained")."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm import tqdm

from selfmocap import config as cfg
from selfmocap.adapt.config import PredictConfig
from selfmocap.adapt.inputs import prepare_inputs, read_clips
from selfmocap.adapt.network import predict_clip
from selfmocap.data.predictions import check_predictions_out, write_prediction, write_run_info
from selfmocap.models.pretrained import checkpoint_body, load_pretrained


def run_predict(config: PredictConfig) -> Path:
    """``selfmocap predict``; bad inputs (clips, checkpoint, ``--out``) are one-line ``UserError``s before any work."""
    started = time.perf_counter()
    clips = read_clips(config.data, body=config.body)
    pretrained = load_pretrained(config.checkpoint)
    check_predictions_out(config.out)
    body = checkpoint_body(pretrained.card, config.body, f"checkpoint {config.checkpoint or 'shipped'}")
    sigma = pretrained.card.frame_config.heatmap_sigma
    for clip in tqdm(clips, desc="predict", unit="clip"):
        inputs = prepare_inputs(clip, config.input, pretrained.card.network_config.input_size,
                                world=pretrained.card.network_config.world_input)
        write_prediction(config.out, inputs.clip_id, predict_clip(pretrained.model, body, inputs, sigma, vertices=config.vertices))
    write_run_info(config.out, "pretrained", config=cfg.to_dict(config), checkpoint=str(config.checkpoint or "shipped"),
                   seconds=time.perf_counter() - started)
    return config.out
