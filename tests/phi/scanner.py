"""Leak scanner: finds any planted value of a ``Corpus`` in arbitrary bytes (DICOM files, HTTP responses, logs).

Every byte is searched, not the parsed data set: a leak in a place a parser skips (trailing padding, a private
UN blob, an overlay bitmap, a deflated payload, a base64 envelope) is still a leak. Values are found in the
encodings an output could carry them in: ASCII / UTF-8 / the objects' character sets, UTF-16 (both byte orders,
in case), inside deflate/zlib/gzip streams and inside base64, recursively. Text tokens match case-insensitively;
dates also as YYYY-MM-DD; UIDs only on component boundaries, so 1.2.3.4 is not reported inside 1.2.3.45 but is
inside 1.2.3.4.7 (an original UID embedded in a derived one still identifies).

``allowed_for(options)`` derives from the corpus's Table E.1-1 rows what MAY survive with those Options, and
``required_for(options)`` what the Options say MUST survive (K of the attribute itself).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import (
    BINARY,
    DATE,
    LITERAL,
    NUMBER,
    OPTION_COLUMNS,
    TEXT,
    TIME,
    TOKEN_PREFIX,
    UID,
    UID_ROOT,
    Corpus,
    PlantedValue,
    Row,
)

_MAX_DEPTH = 4  # layers of base64 / deflate inside each other
_MAX_INFLATE, _INFLATE_PROBE = 1 << 30, 256
_UTF16_CHUNK, _UTF16_OVERLAP = 1 << 24, 256  # even, and longer than anything searched for
_DEFLATED_TS = b"1.2.840.10008.1.2.1.99"

# Patterns start with a literal or a narrow class so that `re` can skip ahead; boundaries are checked in Python
# (a lookbehind costs ~50x on large binary data). Tokens are matched in an upper-cased copy.
_TOKEN = re.compile(re.escape(TOKEN_PREFIX.upper().encode()) + rb"[0-9A-Z]{6}")
_UID = re.compile(re.escape(UID_ROOT.encode()) + rb"(?:\.[0-9]+)*")
_DATE = re.compile(rb"(19[3-5][0-9])[-./]?([01][0-9])[-./]?([0-3][0-9])")
_TIME = re.compile(rb"(0[0-9]):?([0-5][0-9]):?([0-5][0-9])")
_NUMBER = re.compile(rb"[1-9][0-9]{2}(?:[0-9]\.[0-9]{5}|[0-9]{4}|[DWMY])")
_BASE64 = re.compile(rb"[A-Za-z0-9+/\r\n]{12,}={0,2}")
_DIGIT, _DIGIT_OR_DOT = frozenset(b"0123456789"), frozenset(b"0123456789.")
_COMPRESSED_MAGIC = re.compile(rb"\x78[\x01\x5e\x9c\xda]|\x1f\x8b\x08")

Allowed = Callable[[PlantedValue], bool]


def nothing_allowed(pv: PlantedValue) -> bool:
    return False


@dataclass(frozen=True)
class Finding:
    """A planted value that survived: what it is, where it was planted, and where it was found (``layer`` names
    the decodings on the way, e.g. ``base64@120>inflate@0>utf-16``; ``offset`` is within the last one)."""

    planted: PlantedValue
    matched: str
    source: str
    offset: int
    layer: str

    def __str__(self) -> str:
        where = f"{self.source} @{self.layer + ':' if self.layer else ''}{self.offset}"
        return f"{self.planted} survives as {self.matched!r} in {where}"


class _Index:
    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self.uids = {pv.value for pv in corpus.values if pv.kind == UID}
        self.literals: list[tuple[PlantedValue, bytes, str]] = []
        for pv in corpus.values:
            if pv.kind != LITERAL:
                continue
            needles: set[tuple[bytes, str]] = set()
            for text in {pv.value, pv.value.upper(), pv.value.lower()}:
                for codec in ("utf-8", "latin-1", "cp1252", "utf-16-le", "utf-16-be"):
                    try:
                        needles.add((text.encode(codec), codec))
                    except UnicodeEncodeError:
                        pass
            self.literals += [(pv, needle, codec) for needle, codec in needles]


@functools.lru_cache(maxsize=8)
def _index(corpus: Corpus) -> _Index:
    return _Index(corpus)


def _emit(out: list, corpus: Corpus, kind: str, value: str, matched: bytes, offset: int, layer: str) -> None:
    if pv := corpus.lookup(kind, value):
        out.append((pv, matched.decode("latin-1"), offset, layer))


def _declares(buf: bytes, start: int, length: int) -> bool:
    """Whether the bytes before ``start`` are a DICOM value length (explicit VR 16-bit, or 32-bit) of ``length``
    (or one more, for the padding byte). In a data set a value is followed by the next tag, whose first byte may
    be a digit ('2' for group 0x0032): only the declared length tells where the value ends."""
    return any(start >= n and int.from_bytes(buf[start - n:start], "little") in (length, length + 1) for n in (2, 4))


def _scan_ascii(buf: bytes, idx: _Index, layer: str, out: list, scale: int = 1, shift: int = 0) -> None:
    """The regex families over an 8-bit view of the data (the bytes themselves, or a UTF-16 view of them)."""
    corpus = idx.corpus

    def after(m, forbidden) -> bool:  # the match does not continue a number or a UID component
        return m.start() == 0 or buf[m.start() - 1] not in forbidden

    for m in _TOKEN.finditer(buf.upper()):
        _emit(out, corpus, TEXT, m[0].decode(), buf[m.start():m.end()], m.start() * scale + shift, layer)
    # A '.' before a date, time or number means a UID component: "2.25.19370412..." is not a date.
    for m in _DATE.finditer(buf):
        if after(m, _DIGIT_OR_DOT):
            _emit(out, corpus, DATE, (m[1] + m[2] + m[3]).decode(), m[0], m.start() * scale + shift, layer)
    for m in _TIME.finditer(buf):
        if after(m, _DIGIT_OR_DOT):
            _emit(out, corpus, TIME, (m[1] + m[2] + m[3]).decode(), m[0], m.start() * scale + shift, layer)
    for m in _NUMBER.finditer(buf):
        ends = m.end() == len(buf) or buf[m.end()] not in _DIGIT or _declares(buf, m.start(), len(m[0]))
        if after(m, _DIGIT_OR_DOT) and ends:
            _emit(out, corpus, NUMBER, m[0].decode(), m[0], m.start() * scale + shift, layer)
    for m in _UID.finditer(buf):
        if not after(m, _DIGIT):
            continue
        run = m[0].decode()
        # the UID itself; or as long as the data set says the value is; or a planted UID that is a whole-component
        # prefix of it (an original embedded in a derived UID still identifies). Not 1.2.3.4 inside 1.2.3.45.
        candidates = [run] + [run[:n] for n in range(len(run) - 1, 0, -1) if _declares(buf, m.start(), n)]
        parts = run.split(".")
        candidates += [".".join(parts[:k]) for k in range(len(parts) - 1, UID_ROOT.count(".") + 1, -1)]
        if hit := next((c for c in candidates if c in idx.uids), None):
            _emit(out, corpus, UID, hit, m[0], m.start() * scale + shift, layer)


def _utf16_views(data: bytes) -> Iterable[tuple[str, bytes, int]]:
    """Each little-endian UTF-16 code unit below 256 as one byte, anything else as '?': the ASCII regexes then find
    UTF-16 text at half the offset. Big-endian text is little-endian text one byte later, so the two alignments
    cover both byte orders. Done in overlapping chunks so a large object does not cost three copies of itself."""
    for start in range(0, max(len(data) - 1, 1), _UTF16_CHUNK):
        piece = data[start:start + _UTF16_CHUNK + _UTF16_OVERLAP]
        for shift in (0, 1):
            n = (len(piece) - shift) // 2
            if n <= 0:
                continue
            units = np.frombuffer(piece, dtype="<u2", count=n, offset=shift)
            narrow = units < 256
            if narrow.any():
                yield "utf-16", np.where(narrow, units, 0x3F).astype(np.uint8).tobytes(), start + shift


def _inflate(stream: memoryview, wbits: int) -> bytes:
    """The inflated stream, or b"" if it is not one. A short probe first: nearly every false start (magic bytes
    met by chance in pixel data) fails within it, and a failed full attempt costs milliseconds."""
    inflater = zlib.decompressobj(wbits)
    try:
        head = inflater.decompress(stream[:_INFLATE_PROBE], _MAX_INFLATE)
        return head + inflater.decompress(stream[_INFLATE_PROBE:], _MAX_INFLATE - len(head))
    except zlib.error:
        return b""


def _deflated_part10_payloads(data: bytes) -> Iterable[tuple[int, bytes]]:
    """Data sets of Deflated Explicit VR Little Endian Part-10 files found anywhere in ``data``: the file meta
    (explicit VR LE, group length first) says where the raw deflate stream starts."""
    view = memoryview(data)
    for m in re.finditer(rb"DICM\x02\x00\x00\x00UL\x04\x00", data):
        start = m.end()
        if start + 4 > len(data):
            continue
        meta_end = start + 4 + int.from_bytes(data[start:start + 4], "little")
        if _DEFLATED_TS in data[start:meta_end]:
            if payload := _inflate(view[meta_end:], -15):
                yield meta_end, payload


def _scan_layer(data: bytes, idx: _Index, layer: str, depth: int, out: list) -> None:
    _scan_ascii(data, idx, layer, out)
    for pv, needle, codec in idx.literals:
        at = data.find(needle)
        while at >= 0:
            out.append((pv, needle.decode(codec), at, layer))
            at = data.find(needle, at + 1)
    for name, view, shift in _utf16_views(data):
        _scan_ascii(view, idx, f"{layer}>{name}" if layer else name, out, scale=2, shift=shift)
    if depth >= _MAX_DEPTH:
        return
    prefix = f"{layer}>" if layer else ""
    for offset, payload in _deflated_part10_payloads(data):
        _scan_layer(payload, idx, f"{prefix}inflate@{offset}", depth + 1, out)
    view = memoryview(data)
    for m in _COMPRESSED_MAGIC.finditer(data):
        if payload := _inflate(view[m.start():], 31 if m[0][0] == 0x1F else 15):
            _scan_layer(payload, idx, f"{prefix}inflate@{m.start()}", depth + 1, out)
    for m in _BASE64.finditer(data):
        run = re.sub(rb"\s", b"", m[0])
        for align in range(4):  # the run may start mid-word (e.g. "base64" glued to the payload): try each
            chunk = run[align:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                decoded = base64.b64decode(chunk)
            except (binascii.Error, ValueError):
                continue
            if decoded:
                _scan_layer(decoded, idx, f"{prefix}base64@{m.start() + align}", depth + 1, out)


def scan_bytes(data: bytes, corpus: Corpus, *, allowed: Allowed = nothing_allowed,
               source: str = "<bytes>") -> list[Finding]:
    """Every planted value of ``corpus`` that ``allowed`` does not permit, wherever and however it occurs."""
    raw: list = []
    _scan_layer(bytes(data), _index(corpus), "", 0, raw)
    seen, findings = set(), []
    for pv, matched, offset, layer in raw:
        if (id(pv), offset, layer) in seen or allowed(pv):
            continue
        seen.add((id(pv), offset, layer))
        findings.append(Finding(pv, matched, source, offset, layer))
    return findings


# The time each record was written (logging's asctime, "2026-12-03 09:09:27,123"): the corpus plants times of
# day from 01:00:00 to 09:59:59, and a run at that hour writes one in every line of its own log.
_LOG_CLOCK = re.compile(rb"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}(?= )")


def scan_log(log: bytes, corpus: Corpus, *, allowed: Allowed = nothing_allowed,
             source: str = "server log") -> list[Finding]:
    """``scan_bytes`` over a log with each line's own timestamp blanked, and nothing else."""
    return scan_bytes(_LOG_CLOCK.sub(lambda m: b"#" * len(m[0]), log), corpus, allowed=allowed, source=source)


def scan_file(path: Path | str, corpus: Corpus, *, allowed: Allowed = nothing_allowed) -> list[Finding]:
    return scan_bytes(Path(path).read_bytes(), corpus, allowed=allowed, source=str(path))


def scan_dir(path: Path | str, corpus: Corpus, *, allowed: Allowed = nothing_allowed) -> list[Finding]:
    return [f for p in sorted(Path(path).rglob("*")) if p.is_file() for f in scan_file(p, corpus, allowed=allowed)]


# -- what the table lets survive -------------------------------------------------------------------------------

def _ancestor(row: Row | None, options: frozenset[str]) -> str:
    """How a Sequence with this row treats what it holds: "keep" (not in the table, K, or U*: kept with the UIDs
    in it replaced), "walk" (D or C: its items may be kept with each attribute getting its own action -- the
    table gives K under Full Dates and Retain UIDs to Date, Time and UID rows that only occur inside the D'd
    Content Sequence, so the standard expects that walk; what the table does not list goes), or "drop" (X, Z)."""
    if row is None:
        return "keep"
    action = row.action(options)
    if action == "K" or "U*" in action:
        return "keep"
    if "D" in action or action == "C":
        return "walk"
    return "drop"


def _retains(pv: PlantedValue, options: frozenset[str]) -> bool:
    """The attribute holding ``pv`` is itself retained as-is: K in its own row (private: on the safe list)."""
    if pv.row is None:
        return False
    if pv.row.tag.startswith("(GGGG"):
        # The private row's only option column is Retain Safe Private = C: keep what Table E.3.10-1 lists.
        return pv.safe_private and pv.row.action(options) == "C"
    return pv.row.action(options) == "K"


def allowed_for(options: Iterable[str] = ()) -> Allowed:
    """What MAY survive de-identification with these Options, from the rows recorded with each planted value:
    no enclosing Sequence drops its items, and the attribute itself is K (or, inside Sequences that are all kept,
    one the table does not list). Options must be names of ``OPTION_COLUMNS``.

    One reading beyond the letter of the table: with Retain Longitudinal Temporal Information With Modified Dates
    the TM rows say C, but shifting by whole days (what E.3.6's "modified" is done with in practice, and what keeps
    DA and DT consistent) leaves a time of day as it was; a time without its date does not identify, so TM
    values may survive there. Dates never may."""
    options = frozenset(options)
    unknown = options - OPTION_COLUMNS.keys()
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}")
    modified_dates = "RetainLongitudinalTemporalInformationModifiedDatesOption" in options

    def allowed(pv: PlantedValue) -> bool:
        treatments = {_ancestor(a, options) for a in pv.ancestors}
        if "drop" in treatments:
            return False
        if pv.row is None:
            return "walk" not in treatments
        if _retains(pv, options):
            return True
        return modified_dates and pv.kind == TIME and pv.row.column("rtnLongModifDatesOpt") == "C"

    return allowed


def required_for(options: Iterable[str] = ()) -> Allowed:
    """What these Options say MUST survive unchanged: values whose own attribute becomes K (or, for Retain Safe
    Private, is on the safe list) inside Sequences that are kept, and that the Basic Profile alone would not
    keep. Non-listed attributes inside a kept Sequence MAY survive but are not demanded, nor are the command
    group's (0000,eeee), which a Part-10 data set cannot carry (PS3.10 7.1) however the Option reads."""
    options = frozenset(options)
    basic = allowed_for(())

    def required(pv: PlantedValue) -> bool:
        return (pv.row is not None and not pv.row.tag.startswith("(0000,") and not basic(pv) and _retains(pv, options)
                and all(a is None or a.action(options) == "K" for a in pv.ancestors))

    return required


def summarize(findings: list[Finding], limit: int = 40) -> str:
    """An assertion message an engine author can act on: survivors grouped by table row and by nesting pattern
    (item indices dropped), then the first findings in full."""
    def pattern(pv: PlantedValue) -> str:
        return re.sub(r"\[\d+\]", "", pv.path)

    distinct = {id(f.planted): f.planted for f in findings}.values()
    groups = Counter((f"{pv.row.tag} {pv.row.name}" if pv.row else "(not in Table E.1-1)", pattern(pv))
                     for pv in distinct)
    lines = [f"{len(distinct)} planted values survive ({len(findings)} findings):"]
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    lines += [f"  {n:3d} x {row}  at {path}" for (row, path), n in ranked[: 2 * limit]]
    if len(ranked) > 2 * limit:
        lines.append(f"  ... and {len(ranked) - 2 * limit} more rows/paths")
    lines += ["first findings:"] + [f"  {f}" for f in findings[:limit]]
    return "\n".join(lines)


def byte_scannable(pv: PlantedValue) -> bool:
    """Binary numbers (US/SS) have no byte pattern distinct enough to search for; tests check them structurally."""
    return pv.kind != BINARY


__all__ = [
    "Finding", "allowed_for", "byte_scannable", "nothing_allowed", "required_for", "scan_bytes", "scan_dir",
    "scan_file", "summarize",
]
