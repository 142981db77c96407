"""Deterministic UIDs for generated objects: the same name always gives the same UID.

PS3.5 §B.2 allows a UID of the form "2.25." followed by the decimal value of a UUID, which needs
no registered root. Version-5 (name-based, SHA-1) UUIDs make that deterministic, so two runs of
the generator write byte-identical files and tests can name objects by what they are.
"""

from __future__ import annotations

import uuid

# Fixed once; changing it changes every sample UID (and the committed sample files).
_NAMESPACE = uuid.UUID("6f1d3c2e-8a47-5b9e-9c0d-77a1e0b5d2f4")

# File Meta Information (PS3.10 §7.1): identify the generator, not the pydicom release that
# happened to write the file, so regenerating with another pydicom gives the same bytes.
IMPLEMENTATION_VERSION_NAME = "WADOWS_SAMPLES"


def sample_uid(*parts: object) -> str:
    """The UID named by ``parts``, e.g. ``sample_uid("bundled", "study", 1)``."""
    name = "/".join(str(p) for p in parts)
    return f"2.25.{uuid.uuid5(_NAMESPACE, name).int}"


IMPLEMENTATION_CLASS_UID = sample_uid("implementation-class")
