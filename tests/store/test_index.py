"""The SQLite index: any layout, junk, truncation, duplicates, incremental refresh, a store never written."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files

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


def _same_time(paths, ns=1_700_000_000_000_000_000):
    for path in paths:
        os.utime(path, ns=(ns, ns))


def test_duplicates_of_equal_soundness_and_time_keep_the_first_path(sample_files, tmp_path):
    root = tmp_path / "store"
    for name in ("z/late.dcm", "b/copy.dcm", "a/copy.dcm"):  # created in reverse order of their names
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample_files[1], root / name)
    _same_time(root.glob("*/*.dcm"))
    db = tmp_path / "index.sqlite"
    report = build_index(root, db)
    assert report.instances == 1
    assert served(db) == {sop_uid(sample_files[1]): "a/copy.dcm"}
    why = "duplicate SOP Instance UID (the file served is a/copy.dcm: same problems and time, its path sorts first)"
    assert reasons(report) == {"b/copy.dcm": why, "z/late.dcm": why}
    # When the served copy goes away, the next one in order takes over.
    (root / "a" / "copy.dcm").unlink()
    report = build_index(root, db)
    assert served(db) == {sop_uid(sample_files[1]): "b/copy.dcm"}
    assert (report.added, report.removed) == (1, 1)
    assert list(reasons(report)) == ["z/late.dcm"]


def test_of_sound_duplicates_the_newest_is_served(sample_files, tmp_path):
    root = tmp_path / "store"
    for name in ("a.dcm", "b.dcm", "c.dcm"):
        rewrite(sample_files[1], root / name, ImageComments=name)  # differ, not in soundness
    _same_time([root / "a.dcm", root / "c.dcm"])
    _same_time([root / "b.dcm"], ns=1_800_000_000_000_000_000)  # re-sent later
    db = tmp_path / "index.sqlite"
    report = build_index(root, db)
    assert served(db) == {sop_uid(sample_files[1]): "b.dcm"}
    assert reasons(report)["a.dcm"] == "duplicate SOP Instance UID (the file served is b.dcm: it is newer)"


def test_a_damaged_duplicate_loses_whatever_its_name_and_time(tmp_path):
    """pydicom's badVR.dcm is rtdose.dcm with invalid values (IS "1A" in Number of Frames): named
    first and newest, it must still lose, and the report says why."""
    root = tmp_path / "store"
    root.mkdir()
    shutil.copyfile(get_testdata_file("badVR.dcm"), root / "a-bad.dcm")
    shutil.copyfile(get_testdata_file("rtdose.dcm"), root / "b-sound.dcm")
    os.utime(root / "a-bad.dcm", ns=(2 * 10**18, 2 * 10**18))
    os.utime(root / "b-sound.dcm", ns=(10**18, 10**18))
    db = tmp_path / "index.sqlite"
    report = build_index(root, db)
    assert list(served(db).values()) == ["b-sound.dcm"]
    assert reasons(report) == {"a-bad.dcm": "duplicate SOP Instance UID (the file served is b-sound.dcm: "
                                            "it reads with fewer problems, 1 against 2)"}
    # Assessed once: an unchanged store is not read again, and a re-index of one file keeps the choice.
    assert build_index(root, db).errors == report.errors
    index_module.reindex_file(root, db, "a-bad.dcm")
    assert list(served(db).values()) == ["b-sound.dcm"]


def test_only_duplicates_are_read_in_full(sample_files, tmp_path, monkeypatch):
    root = tmp_path / "store"
    for n, src in enumerate(sample_files):
        rewrite(src, root / f"{n}.dcm")
    shutil.copyfile(sample_files[2], root / "copy.dcm")
    assessed = []
    real = index_module._count_problems
    monkeypatch.setattr(index_module, "_count_problems", lambda path: assessed.append(path.name) or real(path))
    build_index(root, tmp_path / "index.sqlite")
    assert sorted(assessed) == ["2.dcm", "copy.dcm"]


def test_the_summary_counts_skips_by_kind_without_paths(odd_store, sample_files, tmp_path):
    shutil.copyfile(sample_files[1], odd_store / "dup.dcm")
    data = sample_files[5].read_bytes()
    (odd_store / "cut1.dcm").write_bytes(data[: len(data) // 2])
    (odd_store / "cut2.dcm").write_bytes(data[:-3])
    report = build_index(odd_store, tmp_path / "index.sqlite")
    assert report.summary() == ("10 instances; skipped 7: 3 not DICOM, 2 truncated, 1 DICOMDIR, "
                                "1 duplicate SOP Instance UID")
    for path, _ in report.errors:
        assert path not in report.summary()
    assert IndexReport(instances=3).summary() == "3 instances; skipped 0"


def test_server_log_names_duplicates_only_when_nothing_is_anonymized(sample_files, tmp_path, caplog):
    root = tmp_path / "store"
    root.mkdir()
    shutil.copyfile(sample_files[1], root / "one.dcm")
    shutil.copyfile(sample_files[1], root / "two.dcm")
    report = build_index(root, tmp_path / "index.sqlite")
    with caplog.at_level(logging.INFO, logger="wadows"):
        index_module.log_report(report, names=False)
    assert [r.getMessage() for r in caplog.records] == [
        "store index: 1 instances; skipped 1: 1 duplicate SOP Instance UID"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="wadows"):
        index_module.log_report(report, names=True)
    kept = served(tmp_path / "index.sqlite")[sop_uid(sample_files[1])]
    other = ({"one.dcm", "two.dcm"} - {kept}).pop()
    assert caplog.records[1].getMessage().startswith(
        f"store index: {other}: duplicate SOP Instance UID (the file served is {kept}: ")
    assert sop_uid(sample_files[1]) not in caplog.text


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


def _header_only_part10() -> list[Path]:
    """pydicom's complete Part-10 files without pixel data (SR, RT Plan, waveforms, presentation
    states, the header-only CT records of its test file-set, ...), each with its identifying UIDs."""
    import warnings

    out = []
    for name in sorted(set(get_testdata_files())):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(name)
                if "truncated" in name or "PixelData" in ds or ds.file_meta.get("MediaStorageSOPClassUID") == \
                        "1.2.840.10008.1.3.10" or ds.file_meta.get("TransferSyntaxUID") is None:
                    continue
                list(ds.iterall())
            except Exception:
                continue
        if all(str(ds.get(k, "")) for k in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")):
            out.append(Path(name))
    return out


def test_complete_objects_without_pixel_data_are_indexed_and_served(tmp_path):
    files = _header_only_part10()
    assert len(files) >= 50  # the 50 header-only CT records alone; SR, RT Plan, waveforms beside them
    root = tmp_path / "store"
    for n, path in enumerate(files):
        (root / f"{n:03d}").mkdir(parents=True)
        shutil.copyfile(path, root / f"{n:03d}" / path.name)
    store = FileStore(root, tmp_path / "index.sqlite")
    try:
        assert [e for e in store.last_report.errors if not e[1].startswith("duplicate")] == []
        for n, path in enumerate(files):
            instance = store.lookup(sop_uid(path))
            assert instance is not None, path.name
            with store.open(instance) as f:
                if instance.location == f"{n:03d}/{path.name}":
                    assert f.read() == path.read_bytes()
    finally:
        store.close()


@pytest.mark.parametrize("name", ["rtplan.dcm", "reportsi.dcm", "waveform_ecg.dcm"])
def test_header_only_objects_cut_anywhere_inside_an_element_are_truncated(name, tmp_path):
    """Cuts inside the meta group, an element header, a value, a defined-length sequence or an
    undefined-length sequence are all caught; only a cut exactly between two top-level elements
    looks like a complete shorter object (no structure can tell it)."""
    data = Path(get_testdata_file(name)).read_bytes()
    ends = _top_level_element_ends(Path(get_testdata_file(name)))
    root = tmp_path / "store"
    root.mkdir()
    # Every 7th byte of the first 4 KB (meta group, sequences), 40 cuts spread over the rest, and
    # one byte either side of every element boundary.
    spread = range(4096, len(data), max(1, len(data) // 40))
    cuts = sorted({*range(140, 4096, 7), *spread, *(e - 1 for e in ends), *(e + 3 for e in ends)})
    cuts = [c for c in cuts if c < len(data) and c not in ends]
    for cut in cuts:
        (root / f"{cut:07d}").write_bytes(data[:cut])
    report = build_index(root, tmp_path / "index.sqlite")
    assert report.instances == 0
    assert len(report.errors) == len(cuts)
    for path, why in report.errors:
        assert why.startswith(("truncated", "no ", "unreadable header")), (path, why)


def _top_level_element_ends(path: Path) -> set[int]:
    """Where each top-level element ends (the next one starts), by pydicom's own reader: it stops
    just before the tag named in stop_when."""
    from pydicom.filereader import read_partial

    with open(path, "rb") as f:
        tags = list(pydicom.dcmread(f).keys())
    ends = {path.stat().st_size}
    for tag in tags[1:]:
        with open(path, "rb") as f:
            read_partial(f, stop_when=lambda t, vr, length, tag=tag: t == tag)
            ends.add(f.tell())
    return ends


def test_an_image_cut_just_before_its_pixel_data_is_truncated(sample_files, tmp_path):
    data = sample_files[1].read_bytes()
    at = data.rindex(b"\xe0\x7f\x10\x00")
    root = tmp_path / "store"
    root.mkdir()
    (root / "cut.dcm").write_bytes(data[:at])
    (root / "tail.dcm").write_bytes(data[:at + 5])
    assert reasons(build_index(root, tmp_path / "index.sqlite")) == {
        "cut.dcm": "truncated (no Pixel Data element)",
        "tail.dcm": "truncated (file ends inside an element header)",
    }
