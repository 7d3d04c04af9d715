"""The body-model selection every command embeds: ``--body-model`` and ``--body-model-path``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from selfmocap.config import field

BodyModelName = Literal["anny", "smpl", "smplx"]
#: Body models selfmocap can load (``selfmocap.body.load_body_model``).
BODY_MODELS: tuple[str, ...] = ("anny", "smpl", "smplx")


@dataclass(frozen=True)
class BodyModelConfig:
    """Which body model to use, and where its files are (SMPL's and SMPL-X's are the user's own)."""

    body_model: BodyModelName | None = field(
        None,
        help="body model: anny (free, bundled), smpl or smplx (your own model files; SMPL-X: body pose only); "
        "default: the one the checkpoint or "
        "the clips record, else anny",
        choices=BODY_MODELS,
    )
    body_model_path: Path | None = field(
        None,
        help="SMPL/SMPL-X model file (.npz, or .pkl without chumpy) or a folder of SMPL_{NEUTRAL,MALE,FEMALE} "
        "(SMPLX_...) files; default: $SELFMOCAP_SMPL_PATH (SMPL-X: $SELFMOCAP_SMPLX_PATH, else "
        "$SELFMOCAP_SMPL_PATH; docs/smpl.md)",
    )

    def __post_init__(self) -> None:
        if self.body_model is not None and self.body_model not in BODY_MODELS:
            raise ValueError(f"--body-model must be one of {', '.join(BODY_MODELS)}, got {self.body_model!r}")

    def resolve(self, recorded: str | None = None, source: str = "the data") -> str:
        """The body model to use: the one asked for, else ``recorded`` (by a checkpoint or clips),
        else Anny. Asking for one that differs from ``recorded`` is a ``UserError``."""
        from selfmocap.errors import UserError

        if self.body_model is not None and recorded is not None and self.body_model != recorded:
            raise UserError(
                f"--body-model {self.body_model} does not match {source}, made with the {recorded} body model; "
                f"drop --body-model or pass --body-model {recorded}"
            )
        return self.body_model or recorded or "anny"

    def load(self, recorded: str | None = None, source: str = "the data", **kwargs):
        """Load the resolved body model (``kwargs`` go to :func:`~selfmocap.body.load_body_model`)."""
        from selfmocap.body import load_body_model

        return load_body_model(self.resolve(recorded, source), self.body_model_path, **kwargs)
