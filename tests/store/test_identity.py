"""The served object is the one asked for: a file swapped for another object of the same size, or
random bytes, answer urn:dicom:wado:0004 on every path (stored, transcoded, Anonymize), and the
index follows the file; the raw UID reader agrees with pydicom on every file pydicom ships."""

from __future__ import annotations

import os
import shutil
import sqlite3
import warnings

import pydicom
import pytest
from pydicom.data import get_testdata_files

from support.rad69 import EXPLICIT_LE, IMPLICIT_LE, Doc, parse_response, request_xml
from wadows.retrieve.errors import ErrorCode
from wadows.store.identity import sop_instance_uid


def _uid_of(path) -> str | None:
    fd = os.open(path, os.O_RDONLY)
    try:
        return sop_instance_uid(lambda n, offset: os.pread(fd, n, offset))
    finally:
        os.close(fd)


def test_reader_agrees_with_pydicom_on_every_bundled_part10_file():
    checked = 0
    for path in get_testdata_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if not ds.preamble:
            continue
        expected = ds.get("SOPInstanceUID")
        assert _uid_of(path) == (str(expected) if expected else None), os.path.basename(path)
        checked += 1
    assert checked > 100


def test_reader_rejects_random_bytes(tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(os.urandom(5000))
    assert _uid_of(junk) is None


def _same_size_pair(instances):
    by_size: dict[int, list] = {}
    for inst in instances:
        by_size.setdefault(inst.path.stat().st_size, []).append(inst)
    return next(group[:2] for group in by_size.values() if len(group) >= 2)


@pytest.fixture
def swapped_server(sample_store, tmp_path):
    from conftest import instances_in, run_server

    root = tmp_path / "store"
    shutil.copytree(sample_store, root)
    asked, other = _same_size_pair(instances_in(root))
    running, srv = run_server(root, tmp_path)
    yield running, asked, other, tmp_path / "index.sqlite"
    srv.close()


def _retrieve(running, inst, syntax, anonymize=None):
    doc = Doc(inst.study, inst.series, inst.sop, running.repository)
    r = running.post(request_xml([doc], [syntax], anonymize=anonymize))
    assert r.status_code == 200, r.text[:300]
    return parse_response(r.headers["Content-Type"], r.content)


def _served_uid(index, path) -> str | None:
    rel = os.path.relpath(path, index.parent / "store")
    with sqlite3.connect(index) as db:
        row = db.execute("SELECT sop_instance_uid FROM instance WHERE path = ?", (rel,)).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("path", ["stored", "transcoded", "anonymized"])
def test_swapped_file_is_0004_and_reindexed(swapped_server, path):
    running, asked, other, index = swapped_server
    assert _served_uid(index, asked.path) == asked.sop
    tmp = asked.path.with_name("swap.tmp")
    shutil.copy2(other.path, tmp)
    os.replace(tmp, asked.path)  # same size; mtime kept from the other file, as `mv` does
    syntax = {"stored": asked.transfer_syntax, "transcoded": IMPLICIT_LE if asked.transfer_syntax != IMPLICIT_LE
              else EXPLICIT_LE, "anonymized": asked.transfer_syntax}[path]
    r = _retrieve(running, asked, syntax, anonymize="yes" if path == "anonymized" else None)
    assert not r.documents()
    assert [e["errorCode"] for e in r.errors] == [ErrorCode.NO_LONGER_AVAILABLE.value]
    assert _served_uid(index, asked.path) != asked.sop  # the index now knows what the file holds


def test_random_bytes_of_the_same_size_are_0004(swapped_server):
    running, asked, _, _ = swapped_server
    size = asked.path.stat().st_size
    asked.path.write_bytes(os.urandom(size))
    r = _retrieve(running, asked, asked.transfer_syntax)
    assert not r.documents()
    assert [e["errorCode"] for e in r.errors] == [ErrorCode.NO_LONGER_AVAILABLE.value]


def test_swap_after_the_check_never_streams_the_other_object(swapped_server):
    """The descriptor verified is the one streamed: open() itself refuses a swapped file."""
    from wadows.store.errors import InstanceChanged
    from wadows.store.filestore import FileStore

    running, asked, other, index = swapped_server
    fs = FileStore(running.root, index)
    try:
        inst = fs.lookup(asked.sop)
        fs.check(inst)
        tmp = asked.path.with_name("swap.tmp")
        shutil.copy2(other.path, tmp)
        os.replace(tmp, asked.path)
        with pytest.raises(InstanceChanged):
            fs.open(inst)
    finally:
        fs.close()


@pytest.mark.parametrize("path", ["stored", "transcoded", "anonymized", "anonymized-transcoded"])
def test_overwritten_in_place_with_size_and_mtime_kept_is_0004(swapped_server, path):
    """Same inode, same size, same mtime (an overwrite in place, the time set back as `cp -p` or
    `touch -r` do): only the SOP Instance UID read from the opened file can tell, on every path."""
    running, asked, other, index = swapped_server
    st = asked.path.stat()
    with open(asked.path, "r+b") as f:  # in place: the inode stays
        f.write(other.path.read_bytes())
    os.utime(asked.path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = asked.path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
    other_syntax = IMPLICIT_LE if asked.transfer_syntax != IMPLICIT_LE else EXPLICIT_LE
    syntax = other_syntax if path.endswith("transcoded") else asked.transfer_syntax
    r = _retrieve(running, asked, syntax, anonymize="yes" if path.startswith("anonymized") else None)
    assert not r.documents()
    assert [e["errorCode"] for e in r.errors] == [ErrorCode.NO_LONGER_AVAILABLE.value]
    # The other object is still served under its own UID, from its own file.
    r = _retrieve(running, other, other.transfer_syntax)
    assert [uid for uid, _ in r.documents()] == [other.sop]
