"""The bundled set generated once per session, and access to the Debian DICOM checkers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support.needs import unavailable

from wadows.samples import generate_samples


@pytest.fixture(scope="session")
def bundled(tmp_path_factory) -> list[Path]:
    return generate_samples(tmp_path_factory.mktemp("bundled"))


@pytest.fixture
def tool():
    """``tool("dciodvfy")`` -> its path; skips when absent, unless CI=true (then it must be there)."""

    def find(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            unavailable(f"{name} not installed (Debian package dicom3tools/dcmtk)")
        return path

    return find
