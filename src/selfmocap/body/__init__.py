"""Body models behind one interface (:class:`~selfmocap.body.model.BodyModel`): Anny (free,
bundled), SMPL and SMPL-X (the user's own files, through ``smplx``). The registry of their names
and classes is :mod:`selfmocap.body.config`."""

from selfmocap.body.config import BODY_MODELS, BodyModelConfig, load_body_model
from selfmocap.body.model import BodyModel, BodyOutput

__all__ = ["BODY_MODELS", "BodyModel", "BodyModelConfig", "BodyOutput", "load_body_model"]
