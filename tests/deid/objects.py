"""Generated test objects for the de-identification engine: small, with PHI planted where Table E.1-1
says it must go, at several sequence depths."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

KEY = bytes(range(32))
ORIGINAL_SOP = "1.2.826.0.1.3680043.8.498.1001"
ORIGINAL_STUDY = "1.2.826.0.1.3680043.8.498.1002"
ORIGINAL_SERIES = "1.2.826.0.1.3680043.8.498.1003"
REFERENCED_SOP = "1.2.826.0.1.3680043.8.498.1004"


def _item(**values) -> Dataset:
    ds = Dataset()
    for k, v in values.items():
        setattr(ds, k, v)
    return ds


def make_ct(*, rows: int = 16, cols: int = 16, sop: str = ORIGINAL_SOP, charset: str = "ISO_IR 100",
            name: str = "Doe^Jane", transfer_syntax: str = ExplicitVRLittleEndian) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop
    ds.StudyDate = "20240610"
    ds.SeriesDate = "20240610"
    ds.ContentDate = "20240611"
    ds.StudyTime = "140233"
    ds.AcquisitionDateTime = "20240610140301.250000+0200"
    ds.AccessionNumber = "ACC123456"
    ds.Modality = "CT"
    ds.Manufacturer = "Fake Medical Systems"
    ds.ManufacturerModelName = "FakeScan 64"
    ds.InstitutionName = "Springfield General Hospital"
    ds.InstitutionAddress = "742 Evergreen Terrace, Springfield"
    ds.ReferringPhysicianName = "House^Gregory"
    ds.StationName = "CTROOM7"
    ds.StationAETitle = "SPRINGCT7"
    ds.StudyDescription = "CT Thorax contrast for Jane Doe 1971"
    ds.SeriesDescription = "Axial 5mm"
    ds.OperatorsName = "Tech^Tom"
    ds.PatientName = name
    ds.PatientID = "MRN-000042"
    ds.PatientBirthDate = "19710314"
    ds.PatientSex = "F"
    ds.PatientAge = "053Y"
    ds.PatientWeight = "64"
    ds.PatientAddress = "742 Example Avenue"
    ds.OtherPatientIDsSequence = Sequence([_item(PatientID="OTHER-77", IssuerOfPatientID="RIVERSIDE")])
    ds.DeviceSerialNumber = "SN-99812"
    ds.SoftwareVersions = "VA10"
    ds.ProtocolName = "TAP routine Dr Smith"
    ds.StudyInstanceUID = ORIGINAL_STUDY
    ds.SeriesInstanceUID = ORIGINAL_SERIES
    ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.1005"
    ds.StudyID = "S77"
    ds.SeriesNumber = 3
    ds.InstanceNumber = 1
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 5
    # Nested references: depth 1 and depth 3, with a person name hidden at depth 2.
    ds.ReferencedImageSequence = Sequence([_item(ReferencedSOPClassUID=CTImageStorage,
                                                 ReferencedSOPInstanceUID=REFERENCED_SOP)])
    ds.RequestAttributesSequence = Sequence([_item(RequestedProcedureID="RP-555", ScheduledProcedureStepID="SPS-555")])
    ds.StudiesContainingOtherReferencedInstancesSequence = Sequence([_item(
        StudyInstanceUID=ORIGINAL_STUDY,
        ReferencedSeriesSequence=Sequence([_item(
            SeriesInstanceUID=ORIGINAL_SERIES,
            ReferencedInstanceSequence=Sequence([_item(ReferencedSOPClassUID=CTImageStorage,
                                                       ReferencedSOPInstanceUID=REFERENCED_SOP)]))]))])
    ds.ProcedureCodeSequence = Sequence([_item(CodeValue="74177", CodingSchemeDesignator="C4",
                                               CodeMeaning="CT abdomen and pelvis with contrast")])
    ds.ReferencedPerformedProcedureStepSequence = Sequence([_item(
        ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.3",
        ReferencedSOPInstanceUID="1.2.826.0.1.3680043.8.498.1006",
        PerformedProcedureStepDescription="done by Tech^Tom")])
    # Private block of a fictitious vendor with a name in it, and a safe GE one.
    block = ds.private_block(0x0009, "FAKEVENDOR", create=True)
    block.add_new(0x01, "LO", "Approved by Tech^Tom")
    ge = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    ge.add_new(0x23, "DS", "39.37")  # Table Speed: on the safe list
    ge.add_new(0x10, "LO", "Doe Jane")  # not on the safe list
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.BurnedInAnnotation = "NO"
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.PixelData = (np.arange(rows * cols, dtype=np.uint16) % 4096).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.file_meta.SourceApplicationEntityTitle = "SPRINGPACS"
    return ds


def to_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.preamble = b"TIFF-PHI: Doe Jane".ljust(128, b"\0")
    ds.save_as(buf, enforce_file_format=True, implicit_vr=ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian,
               little_endian=True)
    return buf.getvalue()


def write(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_bytes(ds))
    return path


def reread(data: bytes) -> Dataset:
    return pydicom.dcmread(io.BytesIO(data))


def fresh_uid() -> str:
    return generate_uid()
