"""The SQLite index of a folder of DICOM Part-10 files: which file holds which SOP instance.

The folder is read-only to us: archives are often mounted read-only, and a service that answers
retrievals has no business changing the evidence it serves. So the index lives in a cache
directory, never beside the files, and indexing never writes, renames or locks anything in the
store. Any layout is accepted (PS3.10 §8 file names are not required; vendors nest folders
their own way), because objects are found by reading their headers, not their names.

Why a single short transaction rather than "build a temporary database, then rename": readers
(one SQLite connection per server thread) keep their connections across refreshes. Headers are
read first with no lock held; the changes are then written in one transaction that lasts as long
as inserting pre-computed rows. SQLite's isolation means a reader sees the old index or the new
one, never a mixture, and its busy timeout covers the few milliseconds of the commit. A renamed
file would instead leave open connections on the old, unlinked inode until each one reopened.
The default rollback journal (not WAL) keeps a pre-built index usable from a read-only location.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import sqlite3
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from ..security.uids import is_valid_uid
from .completeness import Incomplete, check_complete

# Bump when the tables or what read_header accepts change: an index is a cache, rebuilt on mismatch.
SCHEMA_VERSION = 3  # 2: file identity (device, inode, mtime) kept per instance; 3: problems of duplicates
BUSY_TIMEOUT_S = 10.0

_MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # DICOMDIR (PS3.10 §8.6)
_HEADER_TAGS = ["SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Rows", "Columns",
                "PixelDataProviderURL"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Every regular file seen, readable or not, so an unchanged junk file is not re-read either.
CREATE TABLE IF NOT EXISTS file (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    sop_instance_uid TEXT,
    study_uid TEXT,
    series_uid TEXT,
    sop_class_uid TEXT,
    transfer_syntax_uid TEXT,
    error TEXT,
    -- Read only for files that share their SOP Instance UID with another: see _count_problems.
    problems INTEGER
);
-- One row per SOP instance, derived from `file` after each scan (duplicates resolved).
CREATE TABLE IF NOT EXISTS instance (
    sop_instance_uid TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_class_uid TEXT NOT NULL,
    transfer_syntax_uid TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS instance_series ON instance (study_uid, series_uid);
"""

# Of several files holding the same SOP Instance UID, the one with the fewest problems is served
# (a copy that reads completely beats a damaged one), then the newest (a re-sent object replaces
# the earlier send), then the one whose relative path sorts first (byte order): the outcome never
# depends on walk order. _WHY says which of the three decided, for the report.
_PREFERENCE = "coalesce(problems, 0), mtime_ns DESC, path"
_DERIVE_INSTANCES = f"""
INSERT INTO instance
SELECT sop_instance_uid, study_uid, series_uid, sop_class_uid, transfer_syntax_uid, path, size, mtime_ns, dev, ino
FROM (SELECT *, row_number() OVER (PARTITION BY sop_instance_uid ORDER BY {_PREFERENCE}) AS n
      FROM file WHERE error IS NULL)
WHERE n = 1
"""
_DUPLICATES = """
SELECT f.path, i.path, coalesce(f.problems, 0), coalesce(s.problems, 0), f.mtime_ns, s.mtime_ns
FROM file f JOIN instance i USING (sop_instance_uid) JOIN file s ON s.path = i.path
WHERE f.error IS NULL AND f.path <> i.path
"""


@dataclass
class IndexReport:
    """What one indexing run changed. Counts are of served files; ``errors`` lists every file
    currently not served (unreadable, not DICOM, duplicate, ...) with a short reason, including
    ones skipped in earlier runs, so each report is complete on its own."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    instances: int = 0

    def skipped_by_kind(self) -> list[tuple[str, int]]:
        """How many files were skipped for each kind of reason, most frequent first."""
        counts: dict[str, int] = {}
        for _, reason in self.errors:
            counts[skip_kind(reason)] = counts.get(skip_kind(reason), 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def summary(self) -> str:
        """One line without any path or UID, fit for a log that may follow anonymized requests:
        "88 instances; skipped 156: 69 duplicate SOP Instance UID, 51 truncated, ..."."""
        return f"{self.instances} instances; {self.skipped()}"

    def skipped(self) -> str:
        """"skipped 12: 4 truncated, 5 not DICOM, 3 no SOP Instance UID" (or "skipped 0")."""
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.skipped_by_kind())
        return f"skipped {len(self.errors)}" + (f": {kinds}" if kinds else "")


def log_report(report: IndexReport, *, names: bool) -> None:
    """The server's log of an indexing run. Paths often carry patient names or IDs and UIDs are
    identifiers, so they are logged only when ``names`` says no anonymized request can follow
    (de-identification switched off); otherwise the counts, and `wadows index DIR` lists the files."""
    log = logging.getLogger("wadows")
    log.info("store index: %s", report.summary())
    if not names:
        return
    for path, reason in report.errors:
        if reason.startswith("duplicate SOP Instance UID"):
            log.info("store index: %s: %s", path, reason)


def skip_kind(reason: str) -> str:
    """The kind of a skip reason: its words before any parenthesis, truncations taken together."""
    if reason.startswith("truncated"):
        return "truncated"
    if reason.startswith("not a DICOM Part-10 file"):
        return "not DICOM"
    return reason.split(" (", 1)[0]


class SkippedFile(Exception):
    """A file the index does not serve; the message is the reason shown to the operator."""


class Header(NamedTuple):
    """The identifiers the index keeps for one Part-10 file."""

    study_uid: str
    series_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str


@dataclass(frozen=True, slots=True)
class _Row:
    path: str
    size: int
    mtime_ns: int
    dev: int
    ino: int
    sop_instance_uid: str | None = None
    study_uid: str | None = None
    series_uid: str | None = None
    sop_class_uid: str | None = None
    transfer_syntax_uid: str | None = None
    error: str | None = None
    problems: int | None = None


def cache_dir() -> Path:
    """``$WADOWS_CACHE_DIR``, else ``$XDG_CACHE_HOME/wadows``, else ``~/.cache/wadows``."""
    explicit = os.environ.get("WADOWS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    # XDG Base Directory spec: a relative $XDG_CACHE_HOME is invalid and shall be ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "wadows"
    return Path.home() / ".cache" / "wadows"


def default_index_path(root: Path) -> Path:
    """The index file for ``root``: in the cache directory, named from a hash of the resolved path,
    so two stores never share an index and the same store always finds its own."""
    resolved = os.fsencode(Path(root).resolve())
    digest = hashlib.sha256(resolved).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(root).resolve().name)[:40] or "root"
    return cache_dir() / f"{name}-{digest}.sqlite"


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def read_header(path: Path) -> Header:
    """The UIDs of a Part-10 file, or SkippedFile saying why it cannot be served.

    Only the header is parsed (values of other elements are skipped, the pixel data is never
    read), but the file's length is checked against the Pixel Data element, because pydicom
    silently accepts a file cut short, and a truncated object would only fail mid-response.
    """
    with warnings.catch_warnings(), open(path, "rb") as fp:
        warnings.simplefilter("ignore")
        size = os.fstat(fp.fileno()).st_size
        try:
            ds = pydicom.dcmread(fp, stop_before_pixels=True, specific_tags=_HEADER_TAGS)
        except InvalidDicomError:
            raise SkippedFile("not a DICOM Part-10 file (no 'DICM' prefix)") from None
        except Exception as exc:  # pydicom raises many types on damaged input
            raise SkippedFile(f"unreadable header ({_kind(exc)})") from None
        meta = ds.file_meta
        ts = _uid_value(meta.get("TransferSyntaxUID"))
        if meta.get("MediaStorageSOPClassUID") == _MEDIA_STORAGE_DIRECTORY:
            raise SkippedFile("DICOMDIR (a media directory, not an instance)")
        if ts is not None and is_valid_uid(ts):
            # First, so that a cut-off file is reported as such, not as "no Study Instance UID".
            needs_pixels = "Rows" in ds and "Columns" in ds and "PixelDataProviderURL" not in ds
            try:
                check_complete(fp, size, UID(ts), needs_pixels)
            except Incomplete as exc:
                raise SkippedFile(str(exc)) from None
        sop = _uid_value(ds.get("SOPInstanceUID"))
        if sop is None:
            raise SkippedFile("no SOP Instance UID (0008,0018)")
        sop_class = _uid_value(ds.get("SOPClassUID")) or _uid_value(meta.get("MediaStorageSOPClassUID"))
        values = {
            "SOP Instance UID": sop,
            "SOP Class UID": sop_class,
            "Study Instance UID": _uid_value(ds.get("StudyInstanceUID")),
            "Series Instance UID": _uid_value(ds.get("SeriesInstanceUID")),
            "Transfer Syntax UID": ts,
        }
        for name, value in values.items():
            if value is None:
                raise SkippedFile(f"no {name}")
            # Requests can only name valid UIDs (security.uids), so an object whose UIDs are
            # malformed could never be retrieved; say so now instead of answering "unknown" later.
            if not is_valid_uid(value):
                raise SkippedFile(f"invalid {name}")
    return Header(*(values[name] for name in _HEADER_ORDER))  # type: ignore[arg-type]


_HEADER_ORDER = ("Study Instance UID", "Series Instance UID", "SOP Instance UID", "SOP Class UID",
                 "Transfer Syntax UID")


def _kind(exc: BaseException) -> str:
    """The exception's type, qualified when its bare name says nothing (zlib's is "error")."""
    cls = type(exc)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


def _uid_value(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value) if isinstance(value, str) else "\\".join(map(str, value))  # VM > 1: invalid


def _count_problems(path: Path) -> int:
    """How badly a readable file reads in full: elements whose value does not decode, and standard
    elements whose value is invalid for its VR (PS3.5 §6.2).

    Only computed for files that share a SOP Instance UID with another (a full parse costs
    milliseconds, the index's header read a fraction of one), to choose the copy served: a damaged
    copy (e.g. pydicom's badVR.dcm beside rtdose.dcm) has more problems than the sound one.
    """
    from pydicom import config as pydicom_config
    from pydicom.valuerep import validate_value

    problems = 0
    with warnings.catch_warnings():
        # Only failures are counted, not warnings: whether pydicom warns depends on its
        # process-wide validation mode, which `wadows serve` and `wadows index` set differently.
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            elements = list(ds.iterall())
        except Exception:  # read fine for the index, not in full: the worst copy
            return 1 << 30
        for elem in elements:
            try:
                value = elem.value
                if not elem.tag.is_private and isinstance(value, (str, bytes)):
                    validate_value(elem.VR, value, pydicom_config.RAISE)
            except Exception:  # pydicom raises many types on a malformed value
                problems += 1
    return problems


def _walk(root: Path, errors: list[tuple[str, str]]) -> Iterator[tuple[str, os.stat_result]]:
    """(relative POSIX path, lstat) of every regular file under root.

    Symbolic links are reported, not followed: a link may point outside the store, and one
    that points inside it names a file the walk reaches anyway.
    """
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            errors.append((rel_dir or ".", f"cannot list folder ({type(exc).__name__})"))
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                errors.append((_printable(rel), f"cannot stat ({type(exc).__name__})"))
                continue
            if stat.S_ISLNK(st.st_mode):
                errors.append((_printable(rel), "symbolic link (not followed)"))
            elif stat.S_ISDIR(st.st_mode):
                stack.append(rel)
            elif not stat.S_ISREG(st.st_mode):
                errors.append((_printable(rel), "not a regular file"))
            elif _printable(rel) != rel:
                errors.append((_printable(rel), "file name is not valid UTF-8"))
            else:
                yield rel, st


def _printable(rel: str) -> str:
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _connect(db_path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        # An index is a cache: a different schema is rebuilt, never migrated. One script, one
        # transaction, so a reader never finds the tables half created.
        db.executescript(
            "BEGIN IMMEDIATE;"
            "DROP TABLE IF EXISTS instance; DROP TABLE IF EXISTS file; DROP TABLE IF EXISTS meta;"
            f"{_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        )
    return db


def build_index(root: Path, db_path: Path | None = None, *, progress: bool = False) -> IndexReport:
    """Bring the index of ``root`` up to date; only new or changed files are read.

    A file is unchanged when its (path, size, mtime_ns) are; anything not servable is reported
    in ``errors`` and skipped, never fatal.
    """
    root = Path(root).resolve(strict=True)
    if not root.is_dir():
        raise NotADirectoryError(f"store {root} is not a folder")
    db_path = Path(db_path) if db_path is not None else default_index_path(root)
    if _inside(db_path.resolve(), root):
        raise ValueError("the index must not be inside the store (the store is never written)")
    # The index names files (which often carry patient IDs) and UIDs: keep its folder private.
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    db = _connect(db_path)
    try:
        stored_root = db.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
        same_root = stored_root is not None and stored_root[0] == os.fsdecode(root)
        known: dict[str, tuple[int, int, int, int]] = {}
        if same_root:
            # Device and inode too: `mv other.dcm a.dcm` keeps the other file's size and mtime.
            known = {p: (s, m, d, i) for p, s, m, d, i in db.execute("SELECT path, size, mtime_ns, dev, ino FROM file")}
        served_before = dict(db.execute("SELECT path, sop_instance_uid FROM instance")) if same_root else {}

        walk_errors: list[tuple[str, str]] = []
        seen: dict[str, os.stat_result] = dict(_walk(root, walk_errors))
        to_read = [p for p, st in seen.items() if known.get(p) != _identity(st)]
        gone = [p for p in known if p not in seen]
        rows = [_read_row(root, p, seen[p]) for p in _progress(to_read, progress)]
        rows, assessed = _assess_duplicates(db, root, rows, set(gone), fresh=not same_root)

        if rows or gone or assessed or not same_root:
            db.execute("BEGIN IMMEDIATE")
            try:
                if not same_root:
                    db.execute("DELETE FROM file")
                db.executemany("DELETE FROM file WHERE path = ?", ((p,) for p in gone))
                db.executemany(_INSERT_FILE, (_astuple(r) for r in rows))
                db.executemany("UPDATE file SET problems = ? WHERE path = ?", assessed)
                db.execute("DELETE FROM instance")
                db.execute(_DERIVE_INSTANCES)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('root', ?)", (os.fsdecode(root),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return _report(db, served_before, {r.path for r in rows}, walk_errors)
    finally:
        db.close()


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino


def reindex_file(root: Path, db_path: Path, rel: str) -> None:
    """Read one file again (or drop it when gone) and re-derive the served instances: what a
    retrieval does when the file it opened is no longer the object indexed under its name."""
    root = Path(root).resolve(strict=True)
    try:
        st = os.lstat(root / rel)
        row = _read_row(root, rel, st) if stat.S_ISREG(st.st_mode) else None
    except OSError:
        row = None
    db = _connect(db_path)
    try:
        rows, assessed = _assess_duplicates(db, root, [row] if row is not None else [], {rel}, fresh=False)
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM file WHERE path = ?", (rel,))
            db.executemany(_INSERT_FILE, (_astuple(r) for r in rows))
            db.executemany("UPDATE file SET problems = ? WHERE path = ?", assessed)
            db.execute("DELETE FROM instance")
            db.execute(_DERIVE_INSTANCES)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.close()


def _read_row(root: Path, rel: str, st: os.stat_result) -> _Row:
    ident = (st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
    try:
        h = read_header(root / rel)
    except SkippedFile as exc:
        return _Row(rel, *ident, error=str(exc))
    except OSError as exc:
        return _Row(rel, *ident, error=f"cannot read ({type(exc).__name__})")
    return _Row(rel, *ident, h.sop_instance_uid, h.study_uid, h.series_uid, h.sop_class_uid,
                h.transfer_syntax_uid)


_INSERT_FILE = "INSERT OR REPLACE INTO file VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _astuple(r: _Row) -> tuple:
    return (r.path, r.size, r.mtime_ns, r.dev, r.ino, r.sop_instance_uid, r.study_uid, r.series_uid,
            r.sop_class_uid, r.transfer_syntax_uid, r.error, r.problems)


def _assess_duplicates(db: sqlite3.Connection, root: Path, rows: list[_Row], gone: set[str], *,
                       fresh: bool) -> tuple[list[_Row], list[tuple[int, str]]]:
    """Count the problems of every servable file that shares its SOP Instance UID with another and
    has not been assessed yet: the new rows come back with theirs, already indexed files as
    (problems, path) updates. Runs before the write transaction, like every read of the store."""
    known = {} if fresh else {
        path: (uid, problems) for path, uid, problems in
        db.execute("SELECT path, sop_instance_uid, problems FROM file WHERE error IS NULL")
    }
    new = {r.path: r for r in rows}
    for path in gone | new.keys():
        known.pop(path, None)
    for r in rows:
        if r.error is None:
            known[r.path] = (r.sop_instance_uid, None)
    by_uid: dict[str, list[str]] = {}
    for path, (uid, _) in known.items():
        by_uid.setdefault(uid, []).append(path)
    assessed: list[tuple[int, str]] = []
    for paths in by_uid.values():
        for path in paths if len(paths) > 1 else ():
            if known[path][1] is not None:
                continue
            problems = _count_problems(root / path)
            if path in new:
                new[path] = dataclasses.replace(new[path], problems=problems)
            else:
                assessed.append((problems, path))
    return list(new.values()), assessed


def _progress(items: list[str], enabled: bool):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="indexing", unit="file", dynamic_ncols=True)


def _report(db: sqlite3.Connection, before: dict[str, str], reread: set[str],
            walk_errors: list[tuple[str, str]]) -> IndexReport:
    after = dict(db.execute("SELECT path, sop_instance_uid FROM instance"))
    report = IndexReport(instances=len(after))
    for path in after:
        if path not in before:
            report.added += 1
        elif path in reread:
            report.updated += 1
        else:
            report.unchanged += 1
    report.removed = sum(1 for path in before if path not in after)
    errors = list(walk_errors)
    errors += db.execute("SELECT path, error FROM file WHERE error IS NOT NULL").fetchall()
    for path, kept, problems, kept_problems, mtime_ns, kept_mtime_ns in db.execute(_DUPLICATES):
        errors.append((path, f"duplicate SOP Instance UID (the file served is {kept}: "
                             f"{_why_kept(problems, kept_problems, mtime_ns, kept_mtime_ns)})"))
    report.errors = sorted(errors)
    return report


def _why_kept(problems: int, kept_problems: int, mtime_ns: int, kept_mtime_ns: int) -> str:
    """Which step of _PREFERENCE chose the served copy over this one."""
    if kept_problems < problems:
        if problems >= 1 << 30:
            return "it reads in full, this one does not"
        return f"it reads with fewer problems, {kept_problems} against {problems}"
    if kept_mtime_ns > mtime_ns:
        return "it is newer"
    return "same problems and time, its path sorts first"


def connect_readonly(db_path: Path) -> sqlite3.Connection:
    """A read-only connection to an index, usable from any thread (callers keep one per thread)."""
    if not Path(db_path).is_file():
        raise FileNotFoundError(f"no index at {db_path}; run `wadows index`")
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        db.close()
        raise RuntimeError(f"index {db_path} has schema {version}, expected {SCHEMA_VERSION}; rebuild it")
    return db


def index_root(db_path: Path) -> str | None:
    """The store folder an existing index was built for, or None if it is missing or foreign."""
    try:
        db = connect_readonly(db_path)
    except (OSError, RuntimeError, sqlite3.Error):
        return None
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
        return row[0] if row else None
    except sqlite3.Error:
        return None
    finally:
        db.close()
