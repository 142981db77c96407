"""The bundled sample set: deterministic, readable, varied as advertised, committed up to date."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from wadows.samples import bundled_samples_dir, generate_samples, pixels
from wadows.samples.headers import PRIVATE_CREATOR, PRIVATE_GROUP
from wadows.security.uids import is_valid_uid

REPO = Path(__file__).resolve().parents[2]


def read_all(paths: list[Path]) -> list[pydicom.FileDataset]:
    return [pydicom.dcmread(p) for p in paths]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_runs_are_byte_identical(bundled, tmp_path):
    again = generate_samples(tmp_path / "again")
    first_root = bundled[0].parents[3]
    assert tree(first_root) == tree(tmp_path / "again")
    assert [p.relative_to(tmp_path / "again") for p in again] == [p.relative_to(first_root) for p in bundled]


@pytest.mark.parametrize("copy", [REPO / "samples" / "dicom", bundled_samples_dir()],
                         ids=["samples/dicom", "package data"])
def test_committed_copies_match_the_generator(bundled, copy):
    """Regenerate with `python -m wadows.samples samples/dicom service/wadows/data/samples`."""
    generated, committed = tree(bundled[0].parents[3]), tree(copy)
    assert sorted(committed) == sorted(generated)
    for name, data in generated.items():
        if committed[name] != data:
            # Only a JPEG 2000 codestream may differ (another OpenJPEG release); same pixels then.
            old, new = pydicom.dcmread(copy / name), pydicom.dcmread(bundled[0].parents[3] / name)
            assert new.file_meta.TransferSyntaxUID == JPEG2000Lossless, name
            assert np.array_equal(old.pixel_array, new.pixel_array)


def test_package_data_folder_is_inside_the_package():
    import wadows

    assert bundled_samples_dir() == Path(wadows.__file__).parent / "data" / "samples"


def test_small_and_laid_out_by_patient_study_series(bundled):
    assert sum(p.stat().st_size for p in bundled) < 2 * 2**20
    for path, ds in zip(bundled, read_all(bundled), strict=True):
        assert path.parts[-4:] == (ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, f"{ds.InstanceNumber}.dcm")


def test_every_object_reads_and_decodes(bundled):
    for ds in read_all(bundled):
        frames = int(ds.get("NumberOfFrames", 1))
        expected = (frames, ds.Rows, ds.Columns) if frames > 1 else (ds.Rows, ds.Columns)
        assert ds.pixel_array.shape == expected
        assert ds.pixel_array.max() < 2**ds.BitsStored
        assert ds.pixel_array.std() > 50  # an image, not a constant


def test_advertised_variety(bundled):
    datasets = read_all(bundled)
    assert {ds.file_meta.TransferSyntaxUID for ds in datasets} == {
        ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless, JPEG2000Lossless}
    assert {ds.Modality for ds in datasets} == {"CT", "MR"}
    assert len({ds.PatientID for ds in datasets}) == 2
    assert len({ds.StudyInstanceUID for ds in datasets}) == 2
    by_class = {}
    for ds in datasets:
        by_class.setdefault(ds.SOPClassUID.name, []).append(ds)
    assert len(by_class["CT Image Storage"]) == 6
    assert len(by_class["MR Image Storage"]) == 3
    (cine,) = by_class["Multi-frame Grayscale Word Secondary Capture Image Storage"]
    assert cine.NumberOfFrames >= 8
    assert all(ds.BitsAllocated == 16 for ds in datasets)


def test_one_patient_has_a_utf8_name(bundled):
    utf8 = [ds for ds in read_all(bundled) if ds.SpecificCharacterSet == "ISO_IR 192"]
    assert utf8 and all(str(ds.PatientName) == "Yamada^Tarou=山田^太郎=やまだ^たろう" for ds in utf8)
    assert "山田".encode() in bundled[-1].read_bytes()  # stored as UTF-8 on disk


def test_ct_header_is_realistic_and_full_of_phi(bundled):
    ct = next(ds for ds in read_all(bundled) if ds.Modality == "CT" and "AXIAL" in ds.ImageType)
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge", "StudyDate",
                    "StudyTime", "SeriesDate", "AcquisitionTime", "ContentDate", "AccessionNumber",
                    "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName",
                    "NameOfPhysiciansReadingStudy", "InstitutionName", "InstitutionAddress", "StationName",
                    "Manufacturer", "DeviceSerialNumber", "KVP", "ConvolutionKernel", "RescaleIntercept",
                    "FrameOfReferenceUID", "ImagePositionPatient", "PatientAddress", "OtherPatientIDsSequence"):
        assert ct.get(keyword) not in (None, ""), keyword
    assert "FAKE" in ct.InstitutionName and ct.PatientID.startswith("FAKE-")
    assert ct.OtherPatientIDsSequence[0].PatientID
    assert ct.ReferencedStudySequence[0].ReferencedSOPInstanceUID
    assert ct.ReferencedImageSequence[0].ReferencedSOPInstanceUID  # points at the topogram


def test_nested_sequences_reach_a_name_four_levels_down(bundled):
    ds = pydicom.dcmread(bundled[1])
    request = ds.RequestAttributesSequence[0]
    protocol = request.ScheduledProtocolCodeSequence[0]
    assert request.RequestedProcedureCodeSequence[0].CodeValue
    context = protocol.ProtocolContextSequence
    assert context[1].ConceptNameCodeSequence[0].CodeMeaning == "Person Observer Name"
    assert str(context[1].PersonName) == "Approver^Alex"


def test_private_block_holds_a_name_and_a_date(bundled):
    ds = pydicom.dcmread(bundled[1])
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
    assert ds[PRIVATE_GROUP, 0x0010].value == PRIVATE_CREATOR
    assert block[0x11].VR == "PN" and str(block[0x11].value) == "Approver^Alex"
    assert block[0x12].VR == "DA" and block[0x12].value == ds.StudyDate
    assert "Approver Alex" in block[0x14].value


def test_uids_are_valid_unique_and_under_2_25(bundled):
    datasets = read_all(bundled)
    sop = [ds.SOPInstanceUID for ds in datasets]
    assert len(set(sop)) == len(sop)
    for ds in datasets:
        for uid in (ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID
                    if "FrameOfReferenceUID" in ds else "2.25.1", ds.file_meta.ImplementationClassUID):
            assert is_valid_uid(uid) and uid.startswith("2.25.")
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.file_meta.ImplementationVersionName == "WADOWS_SAMPLES"


def test_compressed_objects_are_lossless(bundled):
    for ds in read_all(bundled):
        if ds.file_meta.TransferSyntaxUID == RLELossless:
            assert np.array_equal(ds.pixel_array, pixels.coronal_ct(256, 256, key=100))
        if ds.file_meta.TransferSyntaxUID == JPEG2000Lossless:
            assert np.array_equal(ds.pixel_array, pixels.coronal_ct(256, 256, key=300))


@pytest.mark.tools
def test_dciodvfy_finds_no_errors(bundled, tool):
    dciodvfy = tool("dciodvfy")
    for path in bundled:
        result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")]
        assert errors == [], path


@pytest.mark.tools
def test_dcmtk_reads_every_object(bundled, tool):
    dcmdump = tool("dcmdump")
    for path in bundled:
        result = subprocess.run([dcmdump, "-q", str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "(7fe0,0010)" in result.stdout
