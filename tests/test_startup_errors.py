"""`wadows serve` start-up errors about the index and its cache directory (issue 17 item 7): one line
on stderr naming the setting and the path, a non-zero exit, no traceback, against the real command.

A read-only folder is a read-only bind mount in a private mount namespace when the tests run as root
(root writes through any mode bits), else a folder without write permission.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.needs import unavailable
from support.ports import free_port, wait_listening

WADOWS = str(Path(sys.executable).parent / "wadows")


def _serve(store: Path, *, cache: Path | None = None, index: Path | None = None,
           read_only: Path | None = None) -> subprocess.CompletedProcess:
    args = [WADOWS, "serve", "--store", str(store), "--port", str(free_port())]
    if index is not None:
        args += ["--index", str(index)]
    env = {**os.environ, "WADOWS_CACHE_DIR": str(cache)} if cache is not None else dict(os.environ)
    if read_only is not None and os.geteuid() == 0:
        if shutil.which("unshare") is None:
            unavailable("a read-only folder for root needs unshare(1) (util-linux)")
        ro = shlex.quote(str(read_only))
        script = f"mount --bind {ro} {ro} && mount -o remount,bind,ro {ro} && exec {shlex.join(args)}"
        args = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
    elif read_only is not None:
        read_only.chmod(0o500)
    try:
        # A server that starts instead of failing is stopped by the timeout: the test then fails.
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("wadows serve started instead of refusing")
    finally:
        if read_only is not None and os.geteuid() != 0:
            read_only.chmod(0o700)


def _one_line(done: subprocess.CompletedProcess, *needles: str) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def store(tmp_path) -> Path:
    from wadows.samples import generate_samples

    root = tmp_path / "store"
    root.mkdir()
    generate_samples(root)
    return root


def test_a_read_only_cache_directory(store, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    line = _one_line(_serve(store, cache=cache, read_only=cache), str(cache), "not writable")
    assert line.startswith("wadows: cache directory")


def test_a_missing_cache_directory_that_cannot_be_created(store, tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    cache = parent / "missing" / "wadows"
    _one_line(_serve(store, cache=cache, read_only=parent), str(cache), "cannot create its folder")


def test_a_missing_cache_directory_is_created(store, tmp_path):
    """The counterpart: a missing folder that can be made is made (the server starts and listens)."""
    cache = tmp_path / "new" / "cache"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([WADOWS, "serve", "--store", str(store), "--port", str(port)],
                                env={**os.environ, "WADOWS_CACHE_DIR": str(cache)}, stdout=err, stderr=err)
    try:
        wait_listening(port, 60, proc, "wadows serve", log)
        assert any(cache.glob("*.sqlite"))
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_cache_path_that_is_a_file(store, tmp_path):
    cache = tmp_path / "cache"
    cache.write_text("not a folder\n")
    _one_line(_serve(store, cache=cache), str(cache), "not a folder")


@pytest.mark.parametrize("content", [b"garbage " * 100, b"SQLite format 3\x00" + b"\xff" * 2000],
                         ids=["text", "damaged-sqlite"])
def test_a_garbage_index_file(store, tmp_path, content):
    index = tmp_path / "index.sqlite"
    index.write_bytes(content)
    line = _one_line(_serve(store, index=index), str(index), "[store] index (--index)")
    if content.startswith(b"garbage"):
        assert "not a SQLite index file" in line


def test_an_index_path_that_is_a_folder(store, tmp_path):
    index = tmp_path / "index-dir"
    index.mkdir()
    _one_line(_serve(store, index=index), str(index), "not a file")
