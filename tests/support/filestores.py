"""A file store over copies of pydicom's test files, indexed, for tests of what the operations remember."""

from __future__ import annotations

import shutil
from pathlib import Path

from pydicom.data import get_testdata_file

from wadows.store.filestore import FileStore


def indexed_copies(tmp_path: Path, names: tuple[str, ...], kind: type[FileStore] = FileStore) -> tuple[Path, FileStore]:
    """``names`` copied into ``tmp_path``/store and indexed by a ``kind`` (FileStore or a subclass)."""
    root = tmp_path / "store"
    root.mkdir()
    for name in names:
        shutil.copyfile(get_testdata_file(name), root / name)
    store = kind(root, tmp_path / "index.sqlite")
    store.refresh()
    return root, store
