"""Shared fixtures: the Anny body model is loaded once per test session."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def body():
    from selfmocap.body import load_body_model

    return load_body_model()


@pytest.fixture(scope="session")
def body64():
    from selfmocap.body import load_body_model

    return load_body_model(dtype=torch.float64)
