"""Under CI=true a missing ../shared or toolkit fails the run (issue 17 item 9): every such skip goes
through support.needs.unavailable. This keeps new tests from skipping around it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support import needs

TESTS = Path(__file__).resolve().parent
SKIP = re.compile(r"pytest\.skip\(|mark\.skipif\(|importorskip\(")
# Platform facts, not missing set-up: no CI can install them.
PLATFORM = {"test_memory.py": ("not glibc",), "test_sendfile.py": ("sendfile", "/proc")}


def test_only_the_helper_and_platform_checks_skip():
    offenders = []
    for path in TESTS.rglob("*.py"):
        if path == Path(__file__).resolve() or path == TESTS / "support" / "needs.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SKIP.search(line) and not any(w in line for w in PLATFORM.get(path.name, ())):
                offenders.append(f"{path.relative_to(TESTS)}:{n}")
    assert offenders == []


def test_unavailable_fails_under_ci_and_skips_otherwise(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        needs.unavailable("x is missing")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        needs.unavailable("x is missing")
