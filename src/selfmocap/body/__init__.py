"""Body models behind one interface (:class:`~selfmocap.body.model.BodyModel`)."""

from selfmocap.body.model import BodyModel, BodyOutput

__all__ = ["BodyModel", "BodyOutput", "load_body_model"]


def load_body_model(name: str = "anny", **kwargs) -> BodyModel:
    """Return the body model called ``name`` (``"anny"``; SMPL comes with its own issue)."""
    if name == "anny":
        from selfmocap.body.anny_body import AnnyBody

        return AnnyBody(**kwargs)
    raise ValueError(f"unknown body model {name!r}: choose 'anny'")
