"""Why a document cannot be rendered, as the urn:dicom:wado:00NN code the operation reports
(PS3.18 2016e §6.4.4; the numbering dcm4chee-arc uses). The message is fixed text about the request
or the object's structure, never a value read from the object, so it is safe to show when the
request asked for Anonymize."""

from __future__ import annotations

FORMAT_NOT_SUPPORTED = "urn:dicom:wado:0006"
CANNOT_PROVIDE_IN_FORMAT = "urn:dicom:wado:0007"
SINGLE_IMAGE_FORMAT_MULTIFRAME = "urn:dicom:wado:0008"
INVALID_PARAMETER_VALUE = "urn:dicom:wado:0012"
PROCESSING_FAILURE = "urn:dicom:wado:0014"
FRAME_OUT_OF_RANGE = "urn:dicom:wado:0018"


class RenderError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
SIZE_EXCEEDS_LIMITS = "urn:dicom:wado:0005"
PRESENTATION_UID_UNKNOWN = "urn:dicom:wado:0019"
