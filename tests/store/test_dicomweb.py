"""DICOMweb backend against a stub archive: lookups, round trips, the stored transfer syntax, and
every fault an archive can produce, each as an OSError of the documented class, never a hang.
The same backend against a real Orthanc is in test_dicomweb_orthanc.py."""

from __future__ import annotations

import threading
import time

import pydicom
import pytest

from support.stub_archive import stub_archive
from wadows.samples import generate_samples
from wadows.store.dicomweb import ARCHIVE_DEFAULT, AS_STORED, DicomwebStore
from wadows.store.errors import ArchiveAnswerError, ArchiveTimeout, ArchiveUnavailable, InstanceGone
from wadows.store.http import ArchiveClient, HttpSettings
from wadows.store.perthread import IN_TOUCH_SECONDS


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return generate_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture
def stub(files):
    with stub_archive(files) as archive:
        yield archive


def _store(url: str, **kw) -> DicomwebStore:
    kw.setdefault("backoff", 0.01)
    return DicomwebStore(url, ArchiveClient(HttpSettings(**kw)), chunk_size=64 << 10)


def _meta(path):
    return pydicom.dcmread(path, stop_before_pixels=True)


def _looked_up_elsewhere(store: DicomwebStore, uid: str):
    """Looked up on another thread, so nothing is parked or confirmed for this one: what this
    thread does next meets the archive as it is now."""
    out = []
    worker = threading.Thread(target=lambda: out.append(store.lookup(uid)))
    worker.start()
    worker.join()
    return out[0]


def test_every_sample_comes_back_byte_identical_with_its_stored_syntax(stub, files):
    store = _store(stub.url)
    for path in files:
        ds = _meta(path)
        inst = store.lookup(ds.SOPInstanceUID)
        assert (inst.study_uid, inst.series_uid, inst.sop_class_uid, inst.transfer_syntax_uid) == (
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
        store.check(inst)
        with store.open(inst) as f:
            assert not f.seekable()
            assert f.read() == path.read_bytes()
        header = store.header(inst)
        assert header.SOPInstanceUID == ds.SOPInstanceUID and header.PatientName == ds.PatientName
        assert ("PixelData" in header) == ("PixelData" in pydicom.dcmread(path))


def test_a_study_asked_instance_by_instance_costs_two_instance_queries_and_one_study_query(stub, files):
    store = _store(stub.url)
    study = _meta(files[0]).StudyInstanceUID
    same = [p for p in files if _meta(p).StudyInstanceUID == study]
    assert len(same) >= 3
    for p in same:
        store.lookup(_meta(p).SOPInstanceUID)
    assert store.round_trips["qido-instance"] == 2 and store.round_trips["qido-study"] == 1
    # Orthanc-like: no AvailableTransferSyntaxUID, so each object is started once to learn it,
    # and the header read then is what Anonymize gets without another round trip.
    assert store.round_trips["wado"] == len(same)
    store.header(store.lookup(_meta(same[0]).SOPInstanceUID))
    assert store.round_trips["wado"] == len(same)
    # Cached: asking again costs nothing.
    before = len(stub.behaviour.requests)
    for p in same:
        store.lookup(_meta(p).SOPInstanceUID)
    assert len(stub.behaviour.requests) == before
    # A later request (another server thread) answered from the cache hears from the archive once
    # before streaming: the first check starts the fetch open() will use, and the archive having
    # just answered vouches for the rest of the burst.
    worker = threading.Thread(target=lambda: [store.check(store.lookup(_meta(p).SOPInstanceUID)) for p in same])
    worker.start()
    worker.join()
    assert [r.split("?")[0].rsplit("/", 1)[-1] for r in stub.behaviour.requests[before:]] == [_meta(same[0]).SOPInstanceUID]


def test_available_transfer_syntax_saves_the_fetch(stub, files):
    stub.behaviour.with_available_ts = True
    store = _store(stub.url)
    inst = store.lookup(_meta(files[0]).SOPInstanceUID)
    assert inst.transfer_syntax_uid == _meta(files[0]).file_meta.TransferSyntaxUID
    assert store.round_trips["wado"] == 0


def test_unknown_uid_is_none(stub):
    assert _store(stub.url).lookup("1.2.3.4.5") is None


def test_archive_down_is_unavailable_fast_and_then_fails_fast():
    from conftest import free_port

    store = _store(f"http://127.0.0.1:{free_port()}/dicom-web", retries=1)
    started = time.monotonic()
    with pytest.raises(ArchiveUnavailable):
        store.lookup("1.2.3.4.5")
    for _ in range(100):
        with pytest.raises(ArchiveUnavailable):
            store.lookup("1.2.3.4.6")
    assert time.monotonic() - started < 2
    assert store.health()["ok"] is False


def test_slow_archive_times_out_within_the_read_timeout(stub, files):
    stub.behaviour.delay = 3
    started = time.monotonic()
    with pytest.raises(ArchiveTimeout):
        _store(stub.url, read_timeout=0.5).lookup(_meta(files[0]).SOPInstanceUID)
    assert time.monotonic() - started < 2


def test_an_answer_that_stalls_mid_object_times_out(stub, files):
    store = _store(stub.url, read_timeout=0.5)
    inst = _looked_up_elsewhere(store, _meta(files[0]).SOPInstanceUID)
    stub.behaviour.stall_after = 5000
    started = time.monotonic()
    with pytest.raises(ArchiveTimeout):
        with store.open(inst) as f:
            f.read()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_cut_answer_is_an_error_not_a_short_object(stub, files, chunked):
    store = _store(stub.url)
    path = max(files, key=lambda p: p.stat().st_size)
    inst = _looked_up_elsewhere(store, _meta(path).SOPInstanceUID)
    stub.behaviour.cut_after = path.stat().st_size // 2
    stub.behaviour.chunked = chunked
    got = bytearray()
    with pytest.raises(ArchiveAnswerError):
        with store.open(inst) as f:
            while piece := f.read(4096):
                got += piece
    assert len(got) < path.stat().st_size


def test_busy_archive_is_retried(stub, files):
    stub.behaviour.busy = 2
    assert _store(stub.url, retries=2).lookup(_meta(files[0]).SOPInstanceUID) is not None


def test_5xx_after_the_retries_is_unavailable(stub, files):
    stub.behaviour.busy = 100
    with pytest.raises(ArchiveUnavailable):
        _store(stub.url, retries=1).lookup(_meta(files[0]).SOPInstanceUID)


def test_instance_gone_after_lookup(stub, files):
    store = _store(stub.url)
    ds = _meta(files[0])
    inst = _looked_up_elsewhere(store, ds.SOPInstanceUID)
    del stub.instances[ds.SOPInstanceUID]
    with pytest.raises(InstanceGone):
        store.open(inst)
    # Nothing confirmed on this thread: the check asks (by starting the fetch) and finds it gone.
    with pytest.raises(InstanceGone):
        store.check(inst)
    assert store.lookup(ds.SOPInstanceUID) is None


def test_a_lookup_confirms_for_one_check_and_parks_the_fetch_for_open(stub, files):
    store = _store(stub.url)
    path = files[0]
    inst = store.lookup(_meta(path).SOPInstanceUID)
    asked = len(stub.behaviour.requests)
    store.check(inst)
    assert store.header(inst).SOPInstanceUID == inst.sop_instance_uid
    with store.open(inst) as f:
        assert f.read() == path.read_bytes()
    assert len(stub.behaviour.requests) == asked  # lookup's fetch served check, header and open


def test_an_object_in_another_syntax_than_announced_is_refused(stub, files):
    store = _store(stub.url)
    inst = _looked_up_elsewhere(store, _meta(files[0]).SOPInstanceUID)
    stub.behaviour.announce_syntax = "1.2.840.10008.1.2.4.50"
    with pytest.raises(ArchiveAnswerError):
        store.open(inst)


def test_error_texts_carry_no_identifiers(stub, files):
    ds = _meta(files[0])
    store = _store(stub.url, read_timeout=0.3)
    stub.behaviour.delay = 1
    for call in (lambda: store.lookup(ds.SOPInstanceUID), store.health):
        try:
            out = str(call())
        except OSError as exc:
            out = str(exc)
        assert ds.SOPInstanceUID not in out and str(ds.PatientName) not in out


def test_health_names_the_archive_without_credentials(stub):
    store = _store(stub.url.replace("http://", "http://user:pw@"))
    health = store.health()
    assert health["ok"] is True and "pw" not in health["archive"] and health["kind"] == "dicomweb"


def test_streaming_an_instance_leaves_no_confirmation_behind(stub, files):
    # Otherwise the next request's check would trust a fetch made before the archive went away.
    store = _store(stub.url)
    ds = _meta(files[0])
    inst = store.lookup(ds.SOPInstanceUID)
    store.check(inst)
    with store.open(inst) as f:
        f.read()
    del stub.instances[ds.SOPInstanceUID]
    time.sleep(IN_TOUCH_SECONDS + 0.05)  # the next request, not the rest of this one's burst
    with pytest.raises(InstanceGone):
        store.check(store.lookup(ds.SOPInstanceUID))


def test_an_archive_without_transfer_syntax_star_is_asked_for_its_default(stub, files):
    stub.behaviour.refuse_as_stored = True
    store = _store(stub.url)
    path = files[0]
    inst = _looked_up_elsewhere(store, _meta(path).SOPInstanceUID)
    with store.open(inst) as f:
        assert f.read() == path.read_bytes()  # the stub's default is the stored object
    wado = [a for a in stub.behaviour.accept if a.startswith("multipart/related")]
    assert wado == [AS_STORED, ARCHIVE_DEFAULT, ARCHIVE_DEFAULT]  # asked once, then remembered


def test_an_archive_answering_another_instance_is_refused_as_0004(stub, files):
    from wadows.retrieve.errors import ErrorCode
    from wadows.retrieve.resolve import unavailable
    from wadows.store.errors import InstanceChanged

    metas = [_meta(p) for p in files]
    asked, other = next((a, b) for a in metas for b in metas
                        if a is not b and a.file_meta.TransferSyntaxUID == b.file_meta.TransferSyntaxUID)
    store = _store(stub.url)
    inst = _looked_up_elsewhere(store, asked.SOPInstanceUID)
    stub.instances[asked.SOPInstanceUID].data = stub.instances[other.SOPInstanceUID].data
    with pytest.raises(InstanceChanged) as raised:
        store.open(inst)
    assert unavailable(raised.value)[0] is ErrorCode.NO_LONGER_AVAILABLE
    with pytest.raises(InstanceChanged):
        _store(stub.url).header(_looked_up_elsewhere(store, asked.SOPInstanceUID))
