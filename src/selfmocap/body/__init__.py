"""Body models behind one interface (:class:`~selfmocap.body.model.BodyModel`): Anny (free,
bundled), SMPL and SMPL-X (the user's own files, through ``smplx``)."""

from __future__ import annotations

from pathlib import Path

from selfmocap.body.config import BODY_MODELS, BodyModelConfig
from selfmocap.body.model import BodyModel, BodyOutput

__all__ = ["BODY_MODELS", "BodyModel", "BodyModelConfig", "BodyOutput", "load_body_model"]


def load_body_model(name: str = "anny", path: str | Path | None = None, **kwargs) -> BodyModel:
    """Return the body model called ``name``.

    Args:
        name: ``"anny"``, ``"smpl"`` or ``"smplx"``.
        path: SMPL/SMPL-X only: model file or folder (None: ``$SELFMOCAP_SMPL_PATH``; for SMPL-X
            ``$SELFMOCAP_SMPLX_PATH``, else ``$SELFMOCAP_SMPL_PATH``). Missing or unreadable files
            raise :class:`selfmocap.cli.UserError` saying where the model comes from.
        kwargs: ``dtype`` for all; ``gender`` (``"neutral"``, ``"male"``, ``"female"``: which file
            of a folder) and ``num_betas`` for SMPL and SMPL-X.
    """
    if name == "anny":
        if path is not None:
            from selfmocap.errors import UserError

            raise UserError(f"--body-model-path {path} is for SMPL/SMPL-X, but the body model is anny (bundled); drop the path")
        from selfmocap.body.anny_body import AnnyBody

        return AnnyBody(**kwargs)
    if name == "smpl":
        from selfmocap.body.smpl_body import SMPLBody

        return SMPLBody(path, **kwargs)
    if name == "smplx":
        from selfmocap.body.smplx_body import SMPLXBody

        return SMPLXBody(path, **kwargs)
    raise ValueError(f"unknown body model {name!r}: choose one of {', '.join(BODY_MODELS)}")
