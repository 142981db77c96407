"""Error codes a RegistryError may carry (Sup 148 §6.4.4 as dcm4chee numbers them, plus XDS)."""

from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    UNABLE_TO_ANONYMIZE = "urn:dicom:wado:0001"
    ANONYMIZE_NOT_SUPPORTED = "urn:dicom:wado:0002"
    NOT_IMMEDIATELY_AVAILABLE = "urn:dicom:wado:0003"
    NO_LONGER_AVAILABLE = "urn:dicom:wado:0004"
    SIZE_EXCEEDS_LIMITS = "urn:dicom:wado:0005"
    FORMAT_NOT_SUPPORTED = "urn:dicom:wado:0006"
    CANNOT_PROVIDE_IN_FORMAT = "urn:dicom:wado:0007"
    SINGLE_IMAGE_FORMAT_MULTIFRAME = "urn:dicom:wado:0008"
    ID_DOES_NOT_MATCH_SOP_CLASS = "urn:dicom:wado:0009"
    INCONSISTENT_IDENTIFIERS = "urn:dicom:wado:0010"
    SOP_CLASS_NOT_SUPPORTED = "urn:dicom:wado:0011"
    INVALID_PARAMETER_VALUE = "urn:dicom:wado:0012"
    UNSUPPORTED_PARAMETER = "urn:dicom:wado:0013"
    PROCESSING_FAILURE = "urn:dicom:wado:0014"
    STUDY_UID_UNKNOWN = "urn:dicom:wado:0015"
    SERIES_UID_UNKNOWN = "urn:dicom:wado:0016"
    DOCUMENT_UID_UNKNOWN = "urn:dicom:wado:0017"
    FRAME_OUT_OF_RANGE = "urn:dicom:wado:0018"
    PRESENTATION_UID_UNKNOWN = "urn:dicom:wado:0019"
    PRESENTATION_SERIES_UID_UNKNOWN = "urn:dicom:wado:0020"
    XDS_DOCUMENT_UNIQUE_ID_ERROR = "XDSDocumentUniqueIdError"
    XDS_REPOSITORY_ERROR = "XDSRepositoryError"
    XDS_UNKNOWN_REPOSITORY_ID = "XDSUnknownRepositoryId"
    XDS_REPOSITORY_BUSY = "XDSRepositoryBusy"
    XDS_REPOSITORY_OUT_OF_RESOURCES = "XDSRepositoryOutOfResources"
