from __future__ import annotations

import pytest
from fake_clips import write_fake_clips


@pytest.fixture(scope="session")
def fake_data(tmp_path_factory, body):
    """Two tiny training clips and one validation clip."""
    root = tmp_path_factory.mktemp("fake")
    write_fake_clips(root / "train", body, clips=2, frames=4, seed=0)
    write_fake_clips(root / "val", body, clips=1, frames=4, seed=1)
    return root
