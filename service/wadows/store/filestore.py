"""The embedded store: a read-only folder of Part-10 files, found through the SQLite index."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import stat
import threading
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydicom.dataset import Dataset

from ..security.uids import require_uid
from .base import HeaderRead, StoredInstance, file_identity
from .header import header_and_offset
from .errors import InstanceChanged
from .identity import sop_instance_uid
from .index import IndexReport, build_index, connect_readonly, default_index_path, index_root, reindex_file

log = logging.getLogger("wadows")

_LOOKUP = """
SELECT study_uid, series_uid, sop_instance_uid, sop_class_uid, transfer_syntax_uid, size, path, mtime_ns, dev, ino
FROM instance WHERE sop_instance_uid = ?
"""

# Opening each path component relative to its parent with O_NOFOLLOW means no symbolic link,
# planted before or swapped in after indexing, can lead a retrieval to a file outside the store.
_CAN_OPEN_BENEATH = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")


class FileStore:
    """:class:`~wadows.store.base.Backend` over a folder; safe to share between server threads."""

    def __init__(self, root: Path, index_path: Path | None = None, *, auto_index: bool = True) -> None:
        self.root = Path(root).resolve(strict=True)
        if not self.root.is_dir():
            raise NotADirectoryError(f"store {root} is not a folder")
        self.index_path = Path(index_path) if index_path is not None else default_index_path(self.root)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self.last_report: IndexReport | None = None
        # "Missing" includes an index of another schema or another folder: either would answer
        # wrongly, and rebuilding is what the operator would do anyway.
        if auto_index and index_root(self.index_path) != os.fsdecode(self.root):
            self.refresh()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect_readonly(self.index_path)
            with self._connections_lock:
                self._connections.append(db)
            self._local.db = db
        return db

    def lookup(self, sop_instance_uid: str) -> StoredInstance | None:
        uid = require_uid(sop_instance_uid)
        row = self._db().execute(_LOOKUP, (uid,)).fetchone()
        if row is None:
            return None
        study, series, sop, sop_class, ts, size, path, mtime_ns, dev, ino = row
        return StoredInstance(study, series, sop, sop_class, ts, size, path, (size, mtime_ns, dev, ino))

    def open(self, instance: StoredInstance) -> BinaryIO:
        parts = PurePosixPath(instance.location).parts
        if not parts or PurePosixPath(instance.location).is_absolute() or any(p in ("", ".", "..") for p in parts):
            raise PermissionError(errno.EACCES, "location is not a path inside the store")
        fd = self._open_beneath(parts) if _CAN_OPEN_BENEATH else self._open_resolved(parts)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise PermissionError(errno.EACCES, "not a regular file")
            # The descriptor checked is the one returned (and streamed or sent by the kernel), so a
            # file swapped after this check cannot go out under the indexed name either.
            ident = file_identity(fd)
            if st.st_size != instance.size or (instance.identity is not None and ident != instance.identity) \
                    or sop_instance_uid(lambda n, offset: os.pread(fd, n, offset)) != instance.sop_instance_uid:
                raise InstanceChanged("the file is not the object indexed under its name")
            return os.fdopen(fd, "rb")
        except InstanceChanged:
            os.close(fd)
            self._reindex(instance.location)
            raise
        except BaseException:
            os.close(fd)
            raise

    def _reindex(self, location: str) -> None:
        # Skipped while a full refresh runs (it reads the file again itself, or the next open will).
        if not self._refresh_lock.acquire(blocking=False):
            return
        try:
            reindex_file(self.root, self.index_path, location)
        except (OSError, sqlite3.Error) as exc:  # a read-only pre-built index: the 0004 stands
            log.warning("could not re-index a changed file (%s)", type(exc).__name__)
        finally:
            self._refresh_lock.release()

    def check(self, instance: StoredInstance) -> None:
        self.open(instance).close()

    def header(self, instance: StoredInstance) -> Dataset:
        return self.header_read(instance).dataset

    def header_read(self, instance: StoredInstance) -> HeaderRead:
        """The header with where it ends and the identity of the file read (base.HeaderRead)."""
        with self.open(instance) as f:
            ds, pixel_at = header_and_offset(f)
            return HeaderRead(ds, pixel_at, file_identity(f.fileno()))

    def _open_beneath(self, parts: tuple[str, ...]) -> int:
        nofollow = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        directory = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | nofollow)
        try:
            for part in parts[:-1]:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | nofollow, dir_fd=directory)
                os.close(directory)
                directory = child
            return os.open(parts[-1], os.O_RDONLY | nofollow, dir_fd=directory)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise PermissionError(errno.EACCES, "path leads through a symbolic link") from None
            raise
        finally:
            os.close(directory)

    def _open_resolved(self, parts: tuple[str, ...]) -> int:
        # Fallback where dir_fd is unavailable: resolve, then confine (a race remains possible).
        path = self.root.joinpath(*parts).resolve()
        if self.root not in path.parents:
            raise PermissionError(errno.EACCES, "path resolves outside the store")
        return os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))

    def health(self) -> dict[str, object]:
        try:
            (count,) = self._db().execute("SELECT count(*) FROM instance").fetchone()
        except (OSError, RuntimeError, sqlite3.Error) as exc:
            return {"ok": False, "instances": 0, "root": str(self.root), "error": type(exc).__name__}
        return {"ok": self.root.is_dir(), "instances": count, "root": str(self.root)}

    def verify_index(self) -> None:
        """Open the index and read from it, then let go: a worker process calls this at start
        (workers.py), so an index it cannot read stops that worker with a clear error, not its first
        request; request threads then open their own connections."""
        try:
            self._db().execute("SELECT count(*) FROM instance").fetchone()
        finally:
            self.close()

    def refresh(self) -> IndexReport:
        """Re-scan the folder (incrementally); readers keep answering from the old index meanwhile."""
        with self._refresh_lock:
            self.last_report = build_index(self.root, self.index_path)
            return self.last_report

    def close(self) -> None:
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()
