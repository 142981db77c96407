"""FileStore: the Backend over a folder; lookups from many threads, opening confined to the store."""

from __future__ import annotations

import errno
import os
import random
import shutil
import threading
from pathlib import Path

import pydicom
import pytest

from wadows.security.uids import InvalidUID
from wadows.store.base import StoredInstance
from wadows.store.filestore import FileStore
from wadows.store.index import default_index_path

from .files import rewrite, sop_uid


@pytest.fixture
def store(odd_store, tmp_path):
    fs = FileStore(odd_store, tmp_path / "index.sqlite")
    yield fs
    fs.close()


def test_lookup_answers_from_the_headers(store, odd_store, sample_files):
    for src in sample_files:
        ds = pydicom.dcmread(src, stop_before_pixels=True)
        found = store.lookup(ds.SOPInstanceUID)
        assert found == StoredInstance(
            study_uid=ds.StudyInstanceUID,
            series_uid=ds.SeriesInstanceUID,
            sop_instance_uid=ds.SOPInstanceUID,
            sop_class_uid=ds.SOPClassUID,
            transfer_syntax_uid=ds.file_meta.TransferSyntaxUID,
            size=src.stat().st_size,
            location=found.location,
            identity=found.identity,
        )
        st = (odd_store / found.location).stat()
        assert found.identity == (st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
        assert not Path(found.location).is_absolute()
        assert (odd_store / found.location).read_bytes() == src.read_bytes()


def test_unknown_uid_is_none_and_invalid_uid_raises(store, sample_files):
    assert store.lookup("1.2.3.4.5") is None
    with pytest.raises(InvalidUID):
        store.lookup("1.2.3' OR '1'='1")
    with pytest.raises(InvalidUID):
        store.lookup("../../etc/passwd")
    assert store.lookup(f"\n   {sop_uid(sample_files[0])}  \n") is not None


def test_open_gives_the_file_read_only_from_byte_zero(store, sample_files):
    for src in sample_files:
        with store.open(store.lookup(sop_uid(src))) as f:
            assert f.tell() == 0
            assert f.mode == "rb"
            assert not f.writable()
            assert f.read() == src.read_bytes()


def test_health(store, odd_store):
    assert store.health() == {"ok": True, "instances": 10, "root": str(odd_store.resolve())}


def test_health_without_an_index(odd_store, tmp_path):
    fs = FileStore(odd_store, tmp_path / "missing.sqlite", auto_index=False)
    assert not (tmp_path / "missing.sqlite").exists()
    health = fs.health()
    assert health["ok"] is False and health["instances"] == 0
    with pytest.raises(FileNotFoundError, match="wadows index"):
        fs.lookup("1.2.3")


def test_auto_index_builds_a_missing_index_in_the_cache(odd_store, tmp_path):
    fs = FileStore(odd_store)
    assert fs.index_path == default_index_path(odd_store)
    assert fs.last_report is not None and fs.last_report.instances == 10
    assert FileStore(odd_store).last_report is None  # present and current: not rebuilt
    fs.close()


def test_lookups_from_many_threads(store, sample_files):
    expected = {sop_uid(p): p.stat().st_size for p in sample_files}
    uids = list(expected) + ["1.2.3.4.5"]
    failures: list[str] = []
    barrier = threading.Barrier(8)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        for _ in range(300):
            uid = rng.choice(uids)
            try:
                found = store.lookup(uid)
                if (found.size if found else None) != expected.get(uid):
                    failures.append(f"{uid}: {found}")
                if found and rng.random() < 0.1:
                    with store.open(found) as f:
                        f.read(132)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(store._connections) == 8  # one read-only connection per thread


def test_refresh_is_seen_by_every_thread(store, odd_store, sample_files):
    new_uid = "1.2.826.0.1.3680043.2.1125.77"
    answers = {}
    thread = threading.Thread(target=lambda: answers.setdefault("before", store.lookup(new_uid)))
    thread.start()
    thread.join()
    rewrite(sample_files[1], odd_store / "later.dcm", SOPInstanceUID=new_uid)
    report = store.refresh()
    assert report.added == 1
    thread = threading.Thread(target=lambda: answers.setdefault("after", store.lookup(new_uid)))
    thread.start()
    thread.join()
    assert answers["before"] is None
    assert answers["after"].location == "later.dcm"


def test_location_outside_the_store_is_refused(store, odd_store, sample_files, tmp_path):
    shutil.copyfile(sample_files[1], tmp_path / "outside.dcm")
    found = store.lookup(sop_uid(sample_files[0]))
    for location in ("../outside.dcm", str(tmp_path / "outside.dcm"), "", ".", "CT/../../outside.dcm"):
        with pytest.raises(PermissionError):
            store.open(_at(found, location))


def test_symlink_swapped_in_after_indexing_is_refused(store, odd_store, sample_files, tmp_path):
    secret = tmp_path / "secret.dcm"
    found = store.lookup(sop_uid(sample_files[0]))  # "IM0001"
    shutil.copyfile(odd_store / found.location, secret)  # same size: only the link check can stop it
    (odd_store / found.location).unlink()
    (odd_store / found.location).symlink_to(secret)
    with pytest.raises(PermissionError):
        store.open(found)


def test_symlinked_folder_swapped_in_after_indexing_is_refused(store, odd_store, sample_files, tmp_path):
    found = store.lookup(sop_uid(sample_files[1]))  # "a/b/c/d/e/IMG.bin"
    assert found.location == "a/b/c/d/e/IMG.bin"
    shutil.move(odd_store / "a" / "b", tmp_path / "moved")
    (odd_store / "a" / "b").symlink_to(tmp_path / "moved", target_is_directory=True)
    with pytest.raises(PermissionError):
        store.open(found)


def test_a_file_changed_since_indexing_is_not_served(store, odd_store, sample_files):
    found = store.lookup(sop_uid(sample_files[0]))
    with open(odd_store / found.location, "ab") as f:
        f.write(b"\0\0")
    with pytest.raises(OSError) as raised:
        store.open(found)
    assert raised.value.errno == errno.ESTALE


def test_a_missing_file_raises_file_not_found(store, odd_store, sample_files):
    found = store.lookup(sop_uid(sample_files[0]))
    os.remove(odd_store / found.location)
    with pytest.raises(FileNotFoundError):
        store.open(found)


def test_root_must_be_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        FileStore(tmp_path / "nope")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        FileStore(tmp_path / "file")


def _at(instance: StoredInstance, location: str) -> StoredInstance:
    from dataclasses import replace

    return replace(instance, location=location)
