"""Pretrained weights: a float16 export with a model card (torchvision's weights records are the
model), its loader, and safe checkpoint file I/O shared with training.

Files are read with ``torch.load(..., weights_only=True)``: plain containers and tensors only, no
pickled code. Files are written through a temporary file and ``os.replace``, so a reader (or a
process killed mid-write) never sees half a file.
"""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from selfmocap.data.config import FrameConfig
from selfmocap.errors import UserError
from selfmocap.io import atomic_path
from selfmocap.models.network import ANNY_OUTPUTS, BodyOutputSpec, MocapNet
from selfmocap.models.config import NetworkConfig

#: The file :func:`load_pretrained` uses by default (shipped inside the package).
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "mocapnet.pt"
PRETRAINED_FORMAT = "selfmocap-pretrained-v1"


class CheckpointError(UserError):
    """A checkpoint file is missing, corrupt or of another kind/version; the message names it (a
    one-line error)."""


def write_torch_file(obj: Any, path: str | Path) -> None:
    """``torch.save`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def read_torch_file(path: str | Path, kind: str, required_keys: tuple[str, ...]) -> dict:
    """``torch.load(path, weights_only=True)``, checked to be a dict of ``kind`` with ``required_keys``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{kind} file {path} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" not in str(err):  # garbage bytes; torch's multi-line advice left out
            raise CheckpointError(f"{kind} file {path} is corrupt or not a selfmocap file (unreadable pickle data)") from None
        # weights_only refused a class: one line, never torch's "try weights_only=False" advice
        raise CheckpointError(
            f"{kind} file {path} holds objects other than tensors and plain data, so it was not loaded"
        ) from None
    except Exception as err:  # torch raises many types for truncated or foreign files
        raise CheckpointError(f"{kind} file {path} is corrupt or not a selfmocap file ({type(err).__name__}: {err})") from None
    missing = [k for k in required_keys if not isinstance(obj, dict) or k not in obj]
    if missing:
        raise CheckpointError(f"{kind} file {path} is incompatible: missing {', '.join(missing)}")
    return obj


@dataclass(frozen=True)
class ModelCard:
    """Where a checkpoint came from, how it was trained and how well it does.

    Attributes:
        network: :class:`NetworkConfig` fields (rebuilds the network).
        frames: :class:`FrameConfig` fields (the crop and heatmap preprocessing to reproduce).
        recipe: the full resolved training config.
        data: training data: folders, clip and frame counts, the clips' generator seeds.
        metrics: validation set name -> metric name -> value (mm).
        step: optimizer steps trained.
        images_seen: training images seen.
        versions: package versions (selfmocap, torch).
        created: ISO time of the export.
        body: :class:`BodyOutputSpec` fields: the body model's name, pose joints, shape size and
            range. Cards written before SMPL support have none and mean Anny. The body model's
            files are never part of a checkpoint (SMPL's licence): they are loaded again by name.
    """

    network: dict
    frames: dict
    recipe: dict
    data: dict
    metrics: dict
    step: int
    images_seen: int
    versions: dict
    created: str
    body: dict = dataclasses.field(default_factory=lambda: dataclasses.asdict(ANNY_OUTPUTS))

    @property
    def outputs(self) -> BodyOutputSpec:
        """What the network regresses, for which body model."""
        return BodyOutputSpec(**self.body)

    @property
    def body_model(self) -> str:
        return self.outputs.body_model

    @property
    def network_config(self) -> NetworkConfig:
        return NetworkConfig(**self.network)

    @property
    def frame_config(self) -> FrameConfig:
        return FrameConfig(**self.frames)


@dataclass(frozen=True)
class Pretrained:
    """A loaded pretrained network (float32, eval mode) and its card."""

    model: MocapNet
    card: ModelCard


def export_pretrained(model: MocapNet, card: ModelCard, path: str | Path) -> Path:
    """Write ``model``'s weights in float16 with ``card`` to ``path`` (atomically)."""
    state = {k: v.detach().to("cpu", torch.float16) if v.is_floating_point() else v.detach().cpu() for k, v in model.state_dict().items()}
    write_torch_file({"format": PRETRAINED_FORMAT, "card": dataclasses.asdict(card), "state_dict": state}, path)
    return Path(path)


def load_pretrained(path: str | Path | None = None, *, device: str | torch.device = "cpu") -> Pretrained:
    """Load an exported network; ``path=None`` is the checkpoint shipped in the package."""
    if path is None:
        path = DEFAULT_CHECKPOINT
        if not path.is_file():
            raise CheckpointError(
                f"no pretrained checkpoint is shipped at {path}: train one with `selfmocap pretrain` "
                "and copy its RUN_DIR/pretrained.pt there (docs/pretraining.md), or pass a path"
            )
    obj = read_torch_file(path, "pretrained", ("format", "card", "state_dict"))
    if obj["format"] != PRETRAINED_FORMAT:
        raise CheckpointError(f"pretrained file {path} has format {obj['format']!r}, expected {PRETRAINED_FORMAT!r}")
    try:
        card = ModelCard(**obj["card"])
        model = MocapNet(card.network_config, card.outputs)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in obj["state_dict"].items()})
    except (TypeError, RuntimeError, ValueError) as err:
        raise CheckpointError(f"pretrained file {path} does not match this selfmocap's network: {err}") from None
    return Pretrained(model=model.to(device).eval(), card=card)


def checkpoint_body(card: ModelCard, config=None, source: str = "the checkpoint"):
    """Load the body model a checkpoint was trained for (named in its card; files are found
    through ``config``, a :class:`~selfmocap.body.BodyModelConfig`). A ``--body-model`` that
    differs, or model files with another shape size, raise ``UserError``."""
    from selfmocap.body import BodyModelConfig

    outputs = card.outputs
    config = config or BodyModelConfig()
    kwargs = {"num_betas": outputs.shape_dim} if outputs.body_model in ("smpl", "smplx") else {}
    body = config.load(outputs.body_model, source, **kwargs)
    found = BodyOutputSpec.of(body)
    if found != outputs:
        raise UserError(f"{source} predicts {outputs} but the body model loaded is {found}; use the model files it was trained with")
    return body
