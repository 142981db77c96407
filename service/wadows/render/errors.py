"""Why a document cannot be rendered, as the urn:dicom:wado:00NN code the operation reports
(PS3.18 2016e §6.4.4; the numbering dcm4chee-arc uses, defined once in dicom/errors.py). The message
is fixed text about the request or the object's structure, never a value read from the object, so it
is safe to show when the request asked for Anonymize."""

from __future__ import annotations

from ..dicom.errors import ErrorCode


class RenderError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
