"""A two-clip SURREAL miniature (``surreal_miniature.py``) and the SMPL folder it was made with."""

from __future__ import annotations

import pytest
from surreal_miniature import write_miniature
from tiny_smpl import write_tiny_smpl


@pytest.fixture(scope="session")
def surreal(tmp_path_factory):
    """(run folder, SMPL folder, what was written per clip id)."""
    smpl = tmp_path_factory.mktemp("smpl-genders")
    write_tiny_smpl(smpl / "SMPL_NEUTRAL.npz", seed=0)
    write_tiny_smpl(smpl / "SMPL_MALE.npz", seed=1)  # no female file: the neutral one stands in
    run, written = write_miniature(tmp_path_factory.mktemp("surreal"), smpl)
    return run, smpl, written
