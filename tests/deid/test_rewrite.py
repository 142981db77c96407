"""The byte-level header rewriter against the reference (the walker, then the pydicom-based writer):
byte for byte, on the planted-PHI corpus, the bundled samples and every Part-10 file pydicom ships,
under option sets that exercise every action code; what it declines it declines for a stated reason,
and the bulk of real objects does not fall back."""

from __future__ import annotations

import collections
import io
import shutil
from pathlib import Path

import pydicom
import pydicom.data
from pydicom.data import get_testdata_files
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from wadows.deid import DeidentificationRefused, Deidentifier
from wadows.deid.rewrite import Rewritten, attempt, rewrite
from wadows.deid.stream import reference_header
from wadows.store.header import header_and_offset

from phi.corpus import corpus_for_tests

KEY = b"rewrite-test-key-0123456789abcdef"
OPTION_SETS = ((), ("CleanDescriptorsOption", "RetainLongitudinalTemporalInformationModifiedDatesOption"),
               ("RetainUIDsOption", "RetainDeviceIdentityOption", "RetainLongitudinalTemporalInformationFullDatesOption"),
               ("CleanStructuredContentOption", "CleanGraphicsOption", "RetainPatientCharacteristicsOption",
                "RetainInstitutionIdentityOption"),
               ("RetainSafePrivateOption",))

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def objects(tmp_path_factory, sample_store) -> list[Path]:
    root = tmp_path_factory.mktemp("rewrite-objects")
    corpus = corpus_for_tests(root / "phi", seed=0)
    assert corpus.objects
    paths = sorted((root / "phi").rglob("*.dcm")) + sorted(Path(sample_store).rglob("*.dcm"))
    # Every Part-10 file pydicom ships, and the pydicom-data package's where it is installed.
    for path in sorted({Path(p) for p in get_testdata_files() if Path(p).is_file()}):
        with open(path, "rb") as f:
            if f.read(132)[128:] == b"DICM":
                paths.append(path)
    return paths


def _read(path: Path, how: str) -> Dataset:
    """The two header readers that feed the rewriter: RAD-69's (store/header.py, with its pixel data
    marker) and the stream's (pydicom's stop_before_pixels)."""
    with open(path, "rb") as f:
        if how == "store":
            return header_and_offset(f)[0]
        return pydicom.dcmread(f, stop_before_pixels=True)


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: "+".join(o) or "basic")
def test_bytes_equal_the_reference(objects, options):
    deid = Deidentifier(KEY, options)
    outcomes: collections.Counter[str] = collections.Counter()
    for path in objects:
        for how in ("store", "stream"):
            ds = _read(path, how)
            try:
                decided = deid.decide(ds)
            except (DeidentificationRefused, Exception):
                outcomes["refused"] += 1
                continue
            # decide() sees no pixel data in the stream's header, but the stream reads such an object whole.
            if decided.reads_whole_object or decided.plan.pixel_rule is not None:
                outcomes["whole object"] += 1
                continue
            done = attempt(ds, decided.plan)
            if not isinstance(done, Rewritten):
                outcomes[done] += 1
                continue
            # The walker on the very data set the rewriter had: it must have left it as it found it.
            assert done.header == reference_header(ds, decided.plan), (path.name, how)
            assert done.sop_instance_uid == str(ds.SOPInstanceUID)
            assert done.study_instance_uid == str(ds.get("StudyInstanceUID", ""))
            assert done.series_instance_uid == str(ds.get("SeriesInstanceUID", ""))
            assert done.sop_class_uid == str(ds.SOPClassUID)
            outcomes["bytes"] += 1
    print(f"\n{options or 'basic'}: {dict(outcomes)}")
    assert set(outcomes) <= {"bytes", "refused", "whole object", "UN", "order"}
    declined = sum(n for k, n in outcomes.items() if k not in ("bytes", "refused", "whole object"))
    assert outcomes["bytes"] > 200 and declined <= 0.05 * outcomes["bytes"]


def _object(implicit: bool = False, replace: tuple[bytes, bytes] | None = None, edit=None, **values) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.77"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.78"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.79"
    ds.Modality = "CT"
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "4711"
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    if edit is not None:
        edit(ds)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    if replace is not None:
        assert replace[0] in data
        data = data.replace(*replace)
    return header_and_offset(io.BytesIO(data))[0]


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
def test_nested_and_emptied_sequences(implicit):
    """Items left empty are dropped and a sequence left with none is removed; undefined lengths stay
    undefined, defined ones are recomputed; a Long Code Value sees the Coding Scheme as cleaned."""
    code = Dataset()
    code.CodeValue = "T-D1100"
    code.CodingSchemeDesignator = "SRT"
    code.CodeMeaning = "Head of Jane Doe"
    only_private = Dataset()
    only_private.add_new(0x00291010, "LO", "CREATOR")
    only_private.add_new(0x00291011, "LO", "secret")
    ds = _object(implicit, AnatomicRegionSequence=[code, only_private],
                 ReferencedPatientSequence=[only_private],
                 OtherPatientIDsSequence=[])
    for options in ((), ("CleanDescriptorsOption", "CleanStructuredContentOption")):
        deid = Deidentifier(KEY, options)
        decided = deid.decide(ds)
        done = rewrite(ds, decided.plan)
        assert done is not None
        assert done.header == reference_header(ds, decided.plan)
        assert b"secret" not in done.header and b"CREATOR" not in done.header and b"4711" not in done.header
        out = pydicom.dcmread(io.BytesIO(done.header + b"\xe0\x7f\x10\x00OW\0\0\0\0\0\0"), force=True)
        assert len(out.AnatomicRegionSequence) == 1  # the item that held only private elements is gone
        ds = _object(implicit, AnatomicRegionSequence=[code, only_private], ReferencedPatientSequence=[only_private],
                     OtherPatientIDsSequence=[])


def test_text_in_the_objects_character_set():
    """A Latin-1 Patient ID: decoded with the object's character set, as the walker decodes it, for
    its pseudonym; the output is the reference's."""
    ds = _object(SpecificCharacterSet="ISO_IR 100", PatientID="MÜLLER", StudyDescription="Thorax Übersicht")
    decided = Deidentifier(KEY, ["CleanDescriptorsOption"]).decide(ds)
    done = rewrite(ds, decided.plan)
    assert done is not None and done.header == reference_header(ds, decided.plan)
    assert "MÜLLER".encode("latin-1") not in done.header


def test_declines_a_known_attribute_sent_as_un():
    """pydicom converts such an element to its dictionary VR before the walker acts on it; the bytes
    path leaves that to the walker, and the result is still the reference's (through the stream)."""
    # Modality, kept by the profile, re-encoded as UN (PS3.5 §6.2.2) by hand: pydicom's writer would not
    ds = _object(replace=(b"\x08\x00\x60\x00CS\x02\x00CT", b"\x08\x00\x60\x00UN\x00\x00\x02\x00\x00\x00CT"))
    decided = Deidentifier(KEY).decide(ds)
    assert attempt(ds, decided.plan) == "UN"
    assert rewrite(ds, decided.plan) is None


def test_the_stream_uses_it_and_agrees(tmp_path):
    """deid.stream() (the CLI and RAD-69's second read) writes the rewriter's header; the file meta
    and identifiers it reports are the new ones."""
    src = Path(pydicom.data.get_testdata_file("CT_small.dcm"))
    shutil.copy(src, tmp_path / "ct.dcm")
    deid = Deidentifier(KEY)
    with open(tmp_path / "ct.dcm", "rb") as f:
        stream = deid.stream(f)
        data = b"".join(stream)
    ds = _read(tmp_path / "ct.dcm", "stream")
    decided = deid.decide(ds)
    header = reference_header(ds, decided.plan)
    assert data.startswith(header)
    out = pydicom.dcmread(io.BytesIO(data))
    assert stream.sop_instance_uid == out.SOPInstanceUID == out.file_meta.MediaStorageSOPInstanceUID
    assert stream.study_instance_uid == out.StudyInstanceUID != pydicom.dcmread(src).StudyInstanceUID


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
def test_retain_safe_private_keeps_listed_elements_and_their_creator(implicit):
    """PS3.15 E.3.10: an element Table E.3.10-1 lists for its creator stays with that creator; the rest
    of the block and an unknown block go, at the top level and in an item."""
    from wadows.deid import private

    table = private.safe_table()
    (group, creator, element), _action = next((k, a) for k, a in sorted(table.items()) if a == "K")
    unsafe = next(e for e in range(0xFF, 0, -1) if (group, creator, e) not in table)

    def block(ds: Dataset) -> None:
        ds.add_new((group << 16) | 0x0010, "LO", creator)
        ds.add_new((group << 16) | 0x1000 | element, "LO", "SAFEVALUE")
        ds.add_new((group << 16) | 0x1000 | unsafe, "LO", "QZSECRET1")
        ds.add_new(0x00451010, "LO", "OTHER CREATOR")
        ds.add_new(0x00451011, "LO", "QZSECRET2")

    item = Dataset()
    item.CodeValue = "T-D1100"
    item.CodingSchemeDesignator = "SRT"
    item.CodeMeaning = "Head"
    block(item)
    ds = _object(implicit, edit=block, AnatomicRegionSequence=[item])
    deid = Deidentifier(KEY, ["RetainSafePrivateOption"])
    decided = deid.decide(ds)
    done = rewrite(ds, decided.plan)
    assert done is not None and done.header == reference_header(ds, decided.plan)
    assert done.header.count(b"SAFEVALUE") == 2  # the top level's and the item's
    assert b"QZSECRET" not in done.header and b"OTHER CREATOR" not in done.header
    assert creator.encode() in done.header
