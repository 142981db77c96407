"""The SQLite index: any layout, junk, truncation, duplicates, incremental refresh, a store never written."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pydicom
import pytest

from wadows.samples import generate_ct_study
from wadows.store import index as index_module
from wadows.store.filestore import FileStore
from wadows.store.index import IndexReport, build_index, default_index_path

from .files import rewrite, snapshot, sop_uid


def served(db_path: Path) -> dict[str, str]:
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT sop_instance_uid, path FROM instance"))


def reasons(report: IndexReport) -> dict[str, str]:
    return dict(report.errors)


def test_any_layout_is_indexed_and_junk_is_reported_not_fatal(odd_store, sample_files, tmp_path):
    db = tmp_path / "index.sqlite"
    report = build_index(odd_store, db)

    assert report.instances == report.added == len(sample_files)
    expected = {sop_uid(p) for p in sample_files}
    assert set(served(db)) == expected
    assert served(db)[sop_uid(sample_files[3])] == "ünïcødé/画像.dcm"
    why = reasons(report)
    assert why["README.txt"].startswith("not a DICOM Part-10 file")
    assert why["empty"].startswith("not a DICOM Part-10 file")
    assert why["a/thumbs.db"].startswith("not a DICOM Part-10 file")
    assert why["DICOM/DICOMDIR"].startswith("DICOMDIR")
    assert len(why) == 4


def test_report_is_complete_on_every_run(odd_store, tmp_path):
    db = tmp_path / "index.sqlite"
    first = build_index(odd_store, db)
    second = build_index(odd_store, db)
    assert second.errors == first.errors  # cached reasons, not re-read, still reported
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, first.instances)


@pytest.mark.parametrize("keep", [
    pytest.param(0.5, id="half of the pixel data"),
    pytest.param(-1, id="last byte missing"),
    pytest.param(1000, id="inside the header"),
    pytest.param(400, id="inside the first elements"),
])
@pytest.mark.parametrize("which", [1, 5, 6], ids=["explicit", "rle", "implicit"])
def test_truncated_files_are_reported(sample_files, tmp_path, keep, which):
    data = sample_files[which].read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else (len(data) + keep if keep < 0 else keep)
    root = tmp_path / "store"
    root.mkdir()
    (root / "cut.dcm").write_bytes(data[:cut])
    report = build_index(root, tmp_path / "index.sqlite")
    assert report.instances == 0
    assert list(reasons(report)) == ["cut.dcm"]
    assert "truncated" in reasons(report)["cut.dcm"] or "no " in reasons(report)["cut.dcm"]


def test_deflated_files_are_indexed_and_checked(sample_files, tmp_path):
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    root = tmp_path / "store"
    rewrite(sample_files[1], root / "deflated.dcm")
    ds = pydicom.dcmread(root / "deflated.dcm")
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(root / "deflated.dcm", enforce_file_format=True)
    data = (root / "deflated.dcm").read_bytes()
    (root / "cut.dcm").write_bytes(data[: len(data) // 2])
    db = tmp_path / "index.sqlite"
    report = build_index(root, db)
    assert served(db) == {sop_uid(sample_files[1]): "deflated.dcm"}
    assert reasons(report) == {"cut.dcm": "unreadable header (zlib.error)"}


def test_truncated_pixel_data_is_named_as_such(sample_files, tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    for name, src in (("native", sample_files[1]), ("rle", sample_files[5]), ("j2k", sample_files[0])):
        data = src.read_bytes()
        (root / name).write_bytes(data[: len(data) - 100])
    why = reasons(build_index(root, tmp_path / "index.sqlite"))
    assert why == {
        "native": "truncated (Pixel Data shorter than its length)",
        "rle": "truncated (encapsulated Pixel Data fragment)",
        "j2k": "truncated (encapsulated Pixel Data fragment)",
    }


@pytest.mark.parametrize("uid,reason", [
    (None, "no SOP Instance UID (0008,0018)"),
    ("1.2.03", "invalid SOP Instance UID"),
    ("1.2.3.abc", "invalid SOP Instance UID"),
    (["1.2.3", "1.2.4"], "invalid SOP Instance UID"),  # VM 2
])
def test_missing_or_invalid_sop_instance_uid_is_skipped(sample_files, tmp_path, uid, reason):
    root = tmp_path / "store"
    rewrite(sample_files[1], root / "bad.dcm", SOPInstanceUID=uid)
    assert uid is None or sop_uid(root / "bad.dcm") == uid
    shutil.copyfile(sample_files[2], root / "good.dcm")
    report = build_index(root, tmp_path / "index.sqlite")
    assert report.instances == 1
    assert reasons(report) == {"bad.dcm": reason}


def test_invalid_study_uid_is_skipped(sample_files, tmp_path):
    root = tmp_path / "store"
    rewrite(sample_files[1], root / "bad.dcm", StudyInstanceUID="1.2.3.")
    assert reasons(build_index(root, tmp_path / "index.sqlite")) == {"bad.dcm": "invalid Study Instance UID"}


def test_duplicates_keep_the_first_path_whatever_the_creation_order(sample_files, tmp_path):
    root = tmp_path / "store"
    for name in ("z/late.dcm", "b/copy.dcm", "a/copy.dcm"):  # created in reverse order of their names
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample_files[1], root / name)
        time.sleep(0.01)
    db = tmp_path / "index.sqlite"
    report = build_index(root, db)
    assert report.instances == 1
    assert served(db) == {sop_uid(sample_files[1]): "a/copy.dcm"}
    assert reasons(report) == {
        "b/copy.dcm": "duplicate SOP Instance UID (the file served is a/copy.dcm)",
        "z/late.dcm": "duplicate SOP Instance UID (the file served is a/copy.dcm)",
    }
    # When the served copy goes away, the next one in order takes over.
    (root / "a" / "copy.dcm").unlink()
    report = build_index(root, db)
    assert served(db) == {sop_uid(sample_files[1]): "b/copy.dcm"}
    assert (report.added, report.removed) == (1, 1)
    assert list(reasons(report)) == ["z/late.dcm"]


def test_refresh_reads_only_what_changed(odd_store, sample_files, tmp_path, monkeypatch):
    db = tmp_path / "index.sqlite"
    build_index(odd_store, db)
    read = []
    real = index_module.read_header
    monkeypatch.setattr(index_module, "read_header", lambda path: read.append(path) or real(path))

    report = build_index(odd_store, db)
    assert read == []
    assert report.unchanged == len(sample_files)

    # add one file, change one, remove one
    rewrite(sample_files[1], odd_store / "new" / "added.dcm", SOPInstanceUID="1.2.826.0.1.3680043.2.1125.1")
    rewrite(sample_files[2], odd_store / "CT" / "1", SOPInstanceUID="1.2.826.0.1.3680043.2.1125.2")
    (odd_store / "IM0001").unlink()
    report = build_index(odd_store, db)

    assert sorted(p.relative_to(odd_store).as_posix() for p in read) == ["CT/1", "new/added.dcm"]
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    assert report.unchanged == len(sample_files) - 2
    index = served(db)
    assert index["1.2.826.0.1.3680043.2.1125.1"] == "new/added.dcm"
    assert index["1.2.826.0.1.3680043.2.1125.2"] == "CT/1"
    assert sop_uid(sample_files[0]) not in index  # IM0001 is gone
    assert sop_uid(sample_files[8]) not in index  # CT/1 no longer holds it


def test_a_touched_file_is_re_read(odd_store, tmp_path, monkeypatch):
    db = tmp_path / "index.sqlite"
    build_index(odd_store, db)
    st = (odd_store / "IM0001").stat()
    os.utime(odd_store / "IM0001", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    report = build_index(odd_store, db)
    assert report.updated == 1


def test_indexing_never_writes_inside_the_store(odd_store, tmp_path):
    before = snapshot(odd_store)
    db = tmp_path / "index.sqlite"
    build_index(odd_store, db, progress=True)
    build_index(odd_store, db)
    store = FileStore(odd_store, db)
    for uid in served(db):
        with store.open(store.lookup(uid)) as f:
            f.read()
    store.refresh()
    store.close()
    assert snapshot(odd_store) == before


def test_default_index_is_outside_the_store_and_the_store_stays_untouched(odd_store, tmp_path):
    before = snapshot(odd_store)
    FileStore(odd_store)
    path = default_index_path(odd_store)
    assert path.is_file()
    assert path.parent == tmp_path / "cache"
    assert snapshot(odd_store) == before


def test_a_read_only_store_can_be_indexed_and_served(sample_files):
    """The store has no write permission at all; as root, the check runs as 'nobody' in a child."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="wadows-ro-"))
    try:
        os.chmod(base, 0o755)
        root, cache = base / "store", base / "cache"
        for i, src in enumerate(sample_files):
            (root / f"s{i % 3}").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, root / f"s{i % 3}" / f"f{i}")
        cache.mkdir(mode=0o777)
        os.chmod(cache, 0o777)
        # Load every module the check needs while we can still read them.
        scratch = base / "scratch"
        scratch.mkdir()
        _index_and_serve(root, scratch / "warm.sqlite")
        for path in [root, *root.rglob("*")]:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
        before = snapshot(root)

        assert _as_unprivileged(lambda: _index_and_serve(root, cache / "index.sqlite")) == len(sample_files)
        assert snapshot(root) == before
    finally:
        for path in [base, *base.rglob("*")]:
            if not path.is_symlink():
                os.chmod(path, 0o700)
        shutil.rmtree(base)


def _index_and_serve(root: Path, db: Path) -> int:
    report = build_index(root, db)
    assert report.errors == [], report.errors
    store = FileStore(root, db, auto_index=False)
    for uid in served(db):
        with store.open(store.lookup(uid)) as f:
            assert f.read(132)[128:] == b"DICM"
    store.close()
    return report.instances


def _as_unprivileged(check) -> int:
    """Run ``check`` where permission bits apply: here, or, as root, in a child turned 'nobody'."""
    if os.geteuid() != 0:
        return check()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, str(check()).encode())
            code = 0
        except BaseException as exc:  # report, never fall back into pytest in the child
            os.write(write_end, f"error: {exc!r}".encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, output
    return int(output)


def test_symlinks_are_not_followed(sample_files, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copyfile(sample_files[1], outside / "secret.dcm")
    root = tmp_path / "store"
    root.mkdir()
    shutil.copyfile(sample_files[2], root / "real.dcm")
    (root / "escape.dcm").symlink_to(outside / "secret.dcm")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "alias.dcm").symlink_to(root / "real.dcm")
    db = tmp_path / "index.sqlite"
    report = build_index(root, db)
    assert served(db) == {sop_uid(sample_files[2]): "real.dcm"}
    links = ("alias.dcm", "escape-dir", "escape.dcm")
    assert reasons(report) == {name: "symbolic link (not followed)" for name in links}


def test_special_files_are_skipped_without_opening_them(sample_files, tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    os.mkfifo(root / "pipe")  # opening it for reading would block forever
    report = build_index(root, tmp_path / "index.sqlite")
    assert reasons(report) == {"pipe": "not a regular file"}


def test_index_inside_the_store_is_refused(odd_store):
    before = snapshot(odd_store)
    with pytest.raises(ValueError, match="inside the store"):
        build_index(odd_store, odd_store / "sub" / "index.sqlite")
    assert snapshot(odd_store) == before


def test_index_of_another_folder_is_rebuilt(odd_store, sample_files, tmp_path):
    db = tmp_path / "index.sqlite"
    build_index(odd_store, db)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copyfile(sample_files[0], other / "only.dcm")
    report = build_index(other, db)
    assert served(db) == {sop_uid(sample_files[0]): "only.dcm"}
    assert (report.added, report.instances) == (1, 1)


def test_index_of_another_schema_is_rebuilt(odd_store, tmp_path):
    db = tmp_path / "index.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE instance (whatever TEXT)")
        conn.execute("PRAGMA user_version = 999")
    report = build_index(odd_store, db)
    assert report.instances == len(served(db)) == 10


def test_default_index_path_follows_the_cache_environment(tmp_path, monkeypatch):
    root = tmp_path / "store"
    root.mkdir()
    monkeypatch.setenv("WADOWS_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_index_path(root).parent == tmp_path / "explicit"
    monkeypatch.delenv("WADOWS_CACHE_DIR")
    assert default_index_path(root).parent == tmp_path / "xdg" / "wadows"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # invalid per the XDG spec: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_index_path(root).parent == tmp_path / "home" / ".cache" / "wadows"


def test_default_index_path_names_the_resolved_folder(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (tmp_path / "link").symlink_to(a, target_is_directory=True)
    assert default_index_path(a) == default_index_path(tmp_path / "link") == default_index_path(a / "." / "")
    assert default_index_path(a) != default_index_path(b)
    assert default_index_path(a).name.startswith("a-")


def test_readers_never_see_a_half_built_index(tmp_path, sample_files):
    root = tmp_path / "store"
    root.mkdir()
    for i, src in enumerate(sample_files):
        shutil.copyfile(src, root / f"{i}.dcm")
    db = tmp_path / "index.sqlite"
    store = FileStore(root, db)
    seen: set[int] = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.add(store.health()["instances"])

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        generate_ct_study(root / "more", 60, 8, 8, seed=7)
        report = store.refresh()
        shutil.rmtree(root / "more")
        store.refresh()
    finally:
        stop.set()
        watcher.join()
        store.close()
    assert report.added == 60
    assert seen <= {10, 70}
    assert 10 in seen


def test_progress_bar_on_request(odd_store, tmp_path, capsys):
    build_index(odd_store, tmp_path / "index.sqlite", progress=True)
    assert "indexing" in capsys.readouterr().err


@pytest.mark.slow
def test_indexing_a_200_file_ct_study(tmp_path):
    root = tmp_path / "ct"
    generate_ct_study(root, 200)
    report = build_index(root, tmp_path / "index.sqlite")
    assert report.instances == 200 and not report.errors
