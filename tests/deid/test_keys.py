"""load_key: environment, explicit file, and the once-generated default file."""

from __future__ import annotations

import base64
import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from wadows.deid import load_key


def test_env_hex_and_base64(monkeypatch):
    key = bytes(range(32))
    monkeypatch.setenv("WADOWS_DEID_KEY", key.hex())
    assert load_key() == key
    monkeypatch.setenv("WADOWS_DEID_KEY", base64.b64encode(key).decode())
    assert load_key() == key


def test_bad_or_short_env_key_is_refused_without_echo(monkeypatch):
    monkeypatch.setenv("WADOWS_DEID_KEY", "not a key!!")
    with pytest.raises(ValueError) as err:
        load_key()
    assert "not a key" not in str(err.value)
    monkeypatch.setenv("WADOWS_DEID_KEY", "00ff")
    with pytest.raises(ValueError, match="at least"):
        load_key()


def test_default_file_generated_once_with_0600(monkeypatch, tmp_path):
    monkeypatch.delenv("WADOWS_DEID_KEY", raising=False)
    monkeypatch.setenv("WADOWS_CONFIG_DIR", str(tmp_path / "cfg"))
    first = load_key()
    path = tmp_path / "cfg" / "deid.key"
    assert len(first) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key() == first
    assert [p.name for p in path.parent.iterdir()] == ["deid.key"]  # no temporary left behind


def test_concurrent_first_use_agrees_on_one_key(tmp_path):
    path = tmp_path / "k" / "deid.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_key(path), range(16)))
    assert len(keys) == 1


def test_explicit_file_wins_over_env(monkeypatch, tmp_path):
    monkeypatch.setenv("WADOWS_DEID_KEY", "11" * 32)
    path = tmp_path / "deid.key"
    path.write_text("22" * 32 + "\n")
    assert load_key(path) == bytes([0x22]) * 32
    assert os.environ["WADOWS_DEID_KEY"] == "11" * 32
