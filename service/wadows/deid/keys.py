"""The de-identification key: what makes the UID remap, the pseudonyms and the date offset
unrecomputable for anyone without it, and identical for everyone with it."""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 32
MIN_KEY_BYTES = 16
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def default_key_file() -> Path:
    base = os.environ.get("WADOWS_CONFIG_DIR")
    return (Path(base) if base else Path.home() / ".config" / "wadows") / "deid.key"


def parse_key(text: str) -> bytes:
    """Hex or base64 text -> key bytes; the message never repeats the text."""
    text = text.strip()
    if _HEX.fullmatch(text):
        key = bytes.fromhex(text)
    else:
        try:
            key = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the de-identification key is neither hex nor base64") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the de-identification key must be at least {MIN_KEY_BYTES} bytes")
    return key


def load_key(key_file: Path | None = None, *, env: str = "WADOWS_DEID_KEY") -> bytes:
    """An explicit ``key_file`` wins; otherwise the environment variable ``env`` (hex or base64);
    otherwise the default key file ($WADOWS_CONFIG_DIR/deid.key, else ~/.config/wadows/deid.key).
    A key file that does not exist is created once with 32 random bytes (hex), mode 0600: it is
    written to a private temporary file and linked into place, so concurrent first runs (a process
    pool) agree on one key and nobody ever reads a half-written one."""
    if key_file is None:
        value = os.environ.get(env)
        if value:
            return parse_key(value)
        key_file = default_key_file()
    key_file = Path(key_file)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=key_file.parent, prefix=".deid-key-")  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, key_file)  # fails if another process won the race: then use theirs
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return parse_key(key_file.read_text(encoding="ascii"))
