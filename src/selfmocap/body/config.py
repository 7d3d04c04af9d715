"""The body models selfmocap knows (the one registry: :data:`BodyModelName` and
:func:`body_model_class`), how to load one (:func:`load_body_model`), and the selection every
command embeds: ``--body-model`` and ``--body-model-path``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from selfmocap.config import field

if TYPE_CHECKING:
    from selfmocap.body.model import BodyModel

#: Body models selfmocap can load. A new body model adds its name here and its class to
#: :func:`body_model_class` (the exporters read its names from class attributes, as ``AnnyBody``'s).
BodyModelName = Literal["anny", "smpl", "smplx"]
BODY_MODELS: tuple[str, ...] = get_args(BodyModelName)


def body_model_class(name: str) -> type[BodyModel]:
    """The class implementing the body model called ``name``, imported only when asked for (Anny
    builds its model on first use; SMPL and SMPL-X need ``smplx``)."""
    if name == "anny":
        from selfmocap.body.anny_body import AnnyBody

        return AnnyBody
    if name == "smpl":
        from selfmocap.body.smpl_body import SMPLBody

        return SMPLBody
    if name == "smplx":
        from selfmocap.body.smplx_body import SMPLXBody

        return SMPLXBody
    raise ValueError(f"unknown body model {name!r}: choose one of {', '.join(BODY_MODELS)}")


def load_body_model(name: str = "anny", path: str | Path | None = None, **kwargs) -> BodyModel:
    """Return the body model called ``name``.

    Args:
        name: ``"anny"``, ``"smpl"`` or ``"smplx"``.
        path: SMPL/SMPL-X only: model file or folder (None: ``$SELFMOCAP_SMPL_PATH``; for SMPL-X
            ``$SELFMOCAP_SMPLX_PATH``, else ``$SELFMOCAP_SMPL_PATH``). Missing or unreadable files
            raise :class:`selfmocap.errors.UserError` saying where the model comes from.
        kwargs: ``dtype`` for all; ``gender`` (``"neutral"``, ``"male"``, ``"female"``: which file
            of a folder) and ``num_betas`` for SMPL and SMPL-X.
    """
    if name == "anny" and path is not None:
        from selfmocap.errors import UserError

        raise UserError(f"--body-model-path {path} is for SMPL/SMPL-X, but the body model is anny (bundled); drop the path")
    model = body_model_class(name)
    return model(**kwargs) if name == "anny" else model(path, **kwargs)


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
        """Load the resolved body model (``kwargs`` go to :func:`load_body_model`)."""
        return load_body_model(self.resolve(recorded, source), self.body_model_path, **kwargs)
