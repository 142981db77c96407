"""Tests that need something from the machine: skip with the reason, or fail under CI=true
(where the Makefile/.ci installed everything, so a missing piece is a broken set-up)."""

from __future__ import annotations

import os
import shutil

import pytest


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def need_tool(name: str, package: str) -> str:
    """The path of ``name``, else skip (fail under CI=true) naming the Debian package."""
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (Debian package {package})")
    return path
