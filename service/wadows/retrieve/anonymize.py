"""The de-identifiers a retrieval uses, one per PS3.15 option set.

A caller's policy may name its own options (a research partner keeps modified dates), so the
server holds one Deidentifier per option set, created on first use and shared by every request
with those options: they share its UID cache, and all of them use the one configured key, which is
what makes two requests, or two replicas, agree on every anonymized UID.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ..deid import Deidentifier, PixelRule, parse_options


class Anonymizers:
    def __init__(self, key: bytes, default_options: Sequence[str] = (), *,
                 pixel_rules: Sequence[PixelRule] | None = None, verify_pixels: bool | None = None) -> None:
        self._key = key
        self._default = tuple(sorted(parse_options(default_options)))
        self._pixel_rules = pixel_rules
        self._verify_pixels = verify_pixels
        self._by_options: dict[tuple[str, ...], Deidentifier] = {}
        self._lock = threading.Lock()

    def get(self, options: Sequence[str] | None = None) -> Deidentifier:
        """The de-identifier for ``options`` (None: the server's default options)."""
        wanted = self._default if options is None else tuple(sorted(parse_options(options)))
        with self._lock:
            deid = self._by_options.get(wanted)
            if deid is None:
                deid = self._by_options[wanted] = Deidentifier(self._key, wanted, pixel_rules=self._pixel_rules,
                                                                   verify_pixels=self._verify_pixels)
            return deid
