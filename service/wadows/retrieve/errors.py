"""The RegistryError codes, defined once in dicom/errors.py (render/ reports the same codes and may
not import retrieve/); re-exported here where retrieval code has always found them."""

from ..dicom.errors import ErrorCode

__all__ = ["ErrorCode"]
