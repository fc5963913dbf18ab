"""Fixtures shared by test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def cfg(tmp_path: Path) -> Path:
    """A copy of the shipped config.yaml, free to edit (a module may define its own `cfg`)."""
    dest = tmp_path / "config.yaml"
    shutil.copyfile(ROOT / "config.yaml", dest)
    return dest
