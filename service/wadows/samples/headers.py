"""Header modules of the generated objects (PS3.3 Module names), and writing them as Part-10 files.

The headers carry what real scanners put there, including what makes de-identification hard:
names and IDs in nested sequences, a vendor's private block holding a name and a date, dates and
times everywhere, references to other instances by UID.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, RLELossless

from .identifiers import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, sample_uid
from .people import FakePatient, FakeSite

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
MULTIFRAME_WORD_SC_STORAGE = "1.2.840.10008.5.1.4.1.1.7.3"
_DETACHED_STUDY_MANAGEMENT = "1.2.840.10008.3.1.2.3.1"  # retired, still what scanners reference
_MODALITY_PERFORMED_PROCEDURE_STEP = "1.2.840.10008.3.1.2.3.3"

PRIVATE_GROUP = 0x0009
PRIVATE_CREATOR = "WADOWS FAKEVENDOR 1.0"


@dataclass(frozen=True)
class Study:
    uid: str
    date: str
    time: str
    study_id: str
    accession: str
    description: str
    procedure: tuple[str, str, str]  # (Code Value, Coding Scheme Designator, Code Meaning)
    protocol: tuple[str, str, str]  # the scanner's protocol, as a private ("99") code
    reason: str


@dataclass(frozen=True)
class Series:
    uid: str
    number: int
    modality: str
    description: str
    time: str
    protocol: str
    body_part: str
    frame_of_reference_uid: str


def base_dataset(patient: FakePatient, site: FakeSite, study: Study, series: Series, *,
                 sop_class_uid: str, sop_instance_uid: str, instance_number: int,
                 manufacturer_model: str, content_time: str) -> Dataset:
    """The modules every generated image shares, plus the vendor's private block."""
    ds = Dataset()
    _sop_common(ds, patient, study, sop_class_uid, sop_instance_uid, content_time)
    _patient(ds, patient, site, study)
    _general_study(ds, study, site)
    _general_series(ds, series, site, study)
    _general_equipment(ds, site, manufacturer_model)
    ds.InstanceNumber = instance_number  # General Image (C.7.6.1)
    ds.AcquisitionDate = study.date
    ds.AcquisitionTime = content_time
    ds.ContentDate = study.date
    ds.ContentTime = content_time
    _private_block(ds, site, study, series)
    return ds


def _sop_common(ds: Dataset, patient: FakePatient, study: Study, sop_class_uid: str,
                sop_instance_uid: str, content_time: str) -> None:
    """SOP Common (C.12.1)."""
    ds.SpecificCharacterSet = patient.specific_character_set
    ds.InstanceCreationDate = study.date
    ds.InstanceCreationTime = content_time
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = sop_instance_uid
    ds.TimezoneOffsetFromUTC = "+0100"


def _patient(ds: Dataset, patient: FakePatient, site: FakeSite, study: Study) -> None:
    """Patient (C.7.1.1) and Patient Study (C.7.2.2)."""
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = patient.issuer
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.OtherPatientIDsSequence = Sequence([item(
        PatientID=patient.other_id, IssuerOfPatientID=patient.other_issuer, TypeOfPatientID="TEXT",
    )])
    ds.PatientAge = patient.age
    ds.PatientSize = patient.size_m
    ds.PatientWeight = patient.weight_kg
    ds.PatientAddress = patient.address
    ds.PatientTelephoneNumbers = patient.telephone
    ds.AdmittingDiagnosesDescription = study.reason
    ds.AdditionalPatientHistory = f"Referred by {site.referring_physician.split('^')[0]}; {study.reason}."


def _general_study(ds: Dataset, study: Study, site: FakeSite) -> None:
    """General Study (C.7.2.1), with the references a scheduled, RIS-driven study carries."""
    ds.StudyInstanceUID = study.uid
    ds.StudyDate = study.date
    ds.StudyTime = study.time
    ds.ReferringPhysicianName = site.referring_physician
    ds.ReferringPhysicianTelephoneNumbers = "+1-555-0150"
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession
    ds.IssuerOfAccessionNumberSequence = Sequence([item(LocalNamespaceEntityID=site.ris)])
    ds.StudyDescription = study.description
    ds.ProcedureCodeSequence = Sequence([code(*study.procedure)])
    ds.PhysiciansOfRecord = site.referring_physician
    ds.NameOfPhysiciansReadingStudy = site.reading_physician
    ds.RequestingPhysician = site.referring_physician
    ds.RequestedProcedureDescription = study.description
    ds.ReferencedStudySequence = Sequence([item(
        ReferencedSOPClassUID=_DETACHED_STUDY_MANAGEMENT,
        ReferencedSOPInstanceUID=sample_uid(study.uid, "referenced-study"),
    )])


def _general_series(ds: Dataset, series: Series, site: FakeSite, study: Study) -> None:
    """General Series (C.7.3.1), with the performed procedure step and the request behind it."""
    ds.Modality = series.modality
    ds.SeriesInstanceUID = series.uid
    ds.SeriesNumber = series.number
    ds.SeriesDate = study.date
    ds.SeriesTime = series.time
    ds.SeriesDescription = series.description
    ds.PerformingPhysicianName = site.performing_physician
    ds.OperatorsName = site.operator
    ds.ProtocolName = series.protocol
    ds.BodyPartExamined = series.body_part
    ds.PatientPosition = "HFS"
    ds.ReferencedPerformedProcedureStepSequence = Sequence([item(
        ReferencedSOPClassUID=_MODALITY_PERFORMED_PROCEDURE_STEP,
        ReferencedSOPInstanceUID=sample_uid(study.uid, series.uid, "mpps"),
    )])
    ds.PerformedProcedureStepStartDate = study.date
    ds.PerformedProcedureStepStartTime = series.time
    ds.PerformedProcedureStepID = f"PPS{study.study_id}{series.number:02d}"
    ds.PerformedProcedureStepDescription = study.description
    ds.RequestAttributesSequence = Sequence([_request_attributes(study, site)])


def _general_equipment(ds: Dataset, site: FakeSite, model: str) -> None:
    """General Equipment (C.7.5.1)."""
    ds.Manufacturer = "WADOWS Synthetic Imaging (FAKE)"
    ds.InstitutionName = site.institution
    ds.InstitutionAddress = site.address
    ds.StationName = site.station
    ds.InstitutionalDepartmentName = site.department
    ds.ManufacturerModelName = model
    ds.DeviceSerialNumber = "FAKE-SN-0042"
    ds.SoftwareVersions = "synthetic 1.0"


def _request_attributes(study: Study, site: FakeSite) -> Dataset:
    """Request Attributes Sequence item (C.4.10): codes nested four sequences deep, with a
    person's name at the bottom, which only a recursive de-identifier reaches."""
    protocol_context = Sequence([
        item(ValueType="TEXT", ConceptNameCodeSequence=Sequence([code("121106", "DCM", "Comment")]),
              TextValue=f"Protocol approved for accession {study.accession}"),
        item(ValueType="PNAME",
              ConceptNameCodeSequence=Sequence([code("121008", "DCM", "Person Observer Name")]),
              PersonName=site.approver),
    ])
    protocol = code(*study.protocol)
    protocol.ProtocolContextSequence = protocol_context
    return item(
        RequestedProcedureID=f"RP{study.study_id}",
        AccessionNumber=study.accession,
        StudyInstanceUID=study.uid,
        RequestedProcedureCodeSequence=Sequence([code(*study.procedure)]),
        ReasonForTheRequestedProcedure=study.reason,
        ScheduledProcedureStepID=f"SPS{study.study_id}",
        ScheduledProcedureStepDescription=study.description,
        ScheduledProtocolCodeSequence=Sequence([protocol]),
    )


def _private_block(ds: Dataset, site: FakeSite, study: Study, series: Series) -> None:
    """A vendor block (PS3.5 §7.8.1) holding a name, a date and free text mixing both: the kind
    of private data that leaks identity when a de-identifier keeps private tags."""
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "LO", series.protocol)
    block.add_new(0x11, "PN", site.approver)
    block.add_new(0x12, "DA", study.date)
    block.add_new(0x13, "DS", "12.5")
    block.add_new(0x14, "LT", f"Approved by {site.approver.replace('^', ' ')} on {study.date}")


def item(**values: object) -> Dataset:
    """A sequence item with these attributes, by keyword."""
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def code(value: str, scheme: str, meaning: str) -> Dataset:
    """A Code Sequence Macro item (PS3.3 Table 8.8-1)."""
    return item(CodeValue=value, CodingSchemeDesignator=scheme, CodeMeaning=meaning)


def set_pixels(ds: Dataset, frames: np.ndarray, *, bits_stored: int = 12) -> None:
    """Image Pixel module (C.7.6.3) for unsigned 16-bit MONOCHROME2 ``frames`` (rows x cols, or
    frames x rows x cols)."""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = frames.shape[-2:]
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    if frames.ndim == 3:
        ds.NumberOfFrames = frames.shape[0]
    ds.add_new(0x7FE00010, "OW", frames.astype("<u2").tobytes())


def file_meta(ds: Dataset, transfer_syntax_uid: str) -> FileMetaDataset:
    """File Meta Information (PS3.10 §7.1) naming this generator, not the pydicom release."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax_uid
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta


def layout_path(out_dir: Path, ds: Dataset) -> Path:
    """``<out>/<PatientID>/<StudyUID>/<SeriesUID>/<InstanceNumber>.dcm``: one common archive layout
    (the store does not depend on it)."""
    return (Path(out_dir) / str(ds.PatientID) / ds.StudyInstanceUID / ds.SeriesInstanceUID
            / f"{int(ds.InstanceNumber)}.dcm")


def write_part10(ds: Dataset, path: Path, transfer_syntax_uid: str) -> Path:
    """Write ``ds`` as a Part-10 file; compressed syntaxes are encoded from its native Pixel Data."""
    ts = UID(transfer_syntax_uid)
    # pydicom compresses only what it knows to be native: declare the native form first.
    ds.file_meta = file_meta(ds, ExplicitVRLittleEndian if ts.is_compressed else ts)
    if ts.is_compressed:
        # pydicom's own RLE encoder (no plugin, output independent of installed codecs); JPEG
        # 2000 needs pylibjpeg-openjpeg. Keep the deterministic SOP Instance UID (pydicom
        # would otherwise mint a random one).
        plugin = "pydicom" if ts == RLELossless else "pylibjpeg"
        ds.compress(ts, encoding_plugin=plugin, generate_instance_uid=False)
        ds.file_meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        ds.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path
