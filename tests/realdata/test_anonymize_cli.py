"""`wadows anonymize` over every public sample: no original UID in any output byte, nothing from the
objects on stderr, every refusal in words from a fixed set, and no new dciodvfy errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from support.needs import need_tool

from .corpus import REASONS, samples

KEY = "00112233445566778899aabbccddeeff"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("realdata")
    src = root / "in"
    src.mkdir()
    links = {}
    for n, sample in enumerate(samples()):
        link = src / f"{n:03d}_{sample.path.name}"
        link.symlink_to(sample.path)
        links[link.name] = sample
    key = root / "deid.key"
    key.write_text(KEY)
    out = root / "out"
    # one call for the whole corpus: a subprocess, so its stderr is what a user would see
    proc = subprocess.run([sys.executable, "-m", "wadows", "anonymize", str(src), "-o", str(out), "--key-file",
                           str(key), "-j", "2"], capture_output=True, timeout=600,
                          env={**os.environ, "TQDM_DISABLE": "1"})
    return src, out, links, proc


def _reasons(proc, src: Path) -> dict[str, str]:
    prefix = f"wadows anonymize: {src}/".encode()
    out = {}
    for line in proc.stderr.splitlines():
        if line.startswith(prefix):
            name, _, reason = line[len(prefix):].decode().partition(": ")
            out[name] = reason
    return out


def test_refusals_have_reasons_in_words_and_a_summary(run):
    src, out, links, proc = run
    reasons = _reasons(proc, src)
    assert proc.returncode in (0, 1)
    for name, reason in reasons.items():
        assert reason.startswith(REASONS), f"{name}: {reason}"
        assert "Error" not in reason and "Exception" not in reason, reason
    written = [n for n in links if (out / n).is_file()]
    assert len(written) + len(reasons) == len(links)
    kinds = Counter(r.split(" (")[0] for r in reasons.values())
    print(f"\nrealdata CLI: {len(links)} files, {len(written)} written, {len(reasons)} refused")
    for reason, n in kinds.most_common():
        print(f"  {n:4d}  {reason}")


def test_no_original_uid_in_any_output(run):
    _src, out, links, _proc = run
    leaks = []
    for name, sample in links.items():
        path = out / name
        if path.is_file():
            data = path.read_bytes()
            leaks += [name for uid in sample.uids if uid.encode() in data]
    assert not leaks, sorted(set(leaks))


def test_nothing_from_the_objects_on_stderr(run):
    src, _out, links, proc = run
    err = proc.stderr
    for name in links:  # the paths are ours; the rest of each line must say nothing about the object
        err = err.replace(str(src / name).encode(), b"<path>")
    found = [(name, value) for name, sample in links.items() for value in sample.uids + sample.names
             if value.encode() in err]
    assert not found, found


@pytest.mark.tools
def test_no_new_dciodvfy_errors_beyond_changed_uids(run):
    tool = need_tool("dciodvfy", "dicom3tools")
    src, out, links, _proc = run
    worse = {}
    for name in links:
        if not (out / name).is_file():
            continue
        new = _errors(tool, out / name) - _errors(tool, src / name)
        if new:
            worse[name] = sorted(new)
    print(f"\nrealdata dciodvfy: {len(worse)} outputs with new errors")
    assert not worse, worse


def _errors(tool: str, path: Path) -> set[str]:
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, errors="replace", timeout=60)
    return {_generic(line) for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")}


def _generic(line: str) -> str:
    """An error message without the values it quotes (a changed UID changes the text, not the error)."""
    import re

    return re.sub(r"\"[^\"]*\"|[0-9]+(\.[0-9]+)*", "_", line)
