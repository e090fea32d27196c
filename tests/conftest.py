"""Shared fixtures: the real-measurement folder (../shared/data or $HWNAS_SHARED_DATA)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwsim.fileio import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared real-board data; skips the test where the folder is absent (a user's clone)."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared measurement data not found at {path} (set HWNAS_SHARED_DATA); runs in CI")
    return path
