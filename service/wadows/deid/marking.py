"""How a de-identified object says so (PS3.15 E.1.1 item 6, and the temporal flag of E.3.6).

Shared by the engine, which marks a pydicom data set, and the byte-level rewriter (rewrite.py), which
writes the same four elements as pydicom encodes them: they depend only on the option set, the
encoding and the temporal flag the object already carried.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from .profile import BASIC_PROFILE_CODE, BASIC_PROFILE_MEANING, EDITION, FULL_DATES, MODIFIED_DATES, OPTION_BY_CODE, OPTIONS

# PS3.15 E.1.1 item 7: the File Meta Information is replaced by a description of the de-identifying
# application, which is wadows itself.
METHOD_PREFIX = f"wadows PS3.15 E.1-1 {EDITION}"

PATIENT_IDENTITY_REMOVED = 0x00120062
METHOD = 0x00120063
METHOD_CODES = 0x00120064
TEMPORAL = 0x00280303
MARKING_TAGS = (PATIENT_IDENTITY_REMOVED, METHOD, METHOD_CODES, TEMPORAL)
_TEMPORAL_RANK = {"UNMODIFIED": 0, "MODIFIED": 1, "REMOVED": 2}
_MEANING = {BASIC_PROFILE_CODE: BASIC_PROFILE_MEANING, **{o.code: o.meaning for o in OPTIONS}}


def temporal_flag(options: frozenset[str], old: str) -> str:
    """(0028,0303) after this run: what the options did to dates, never lower than what an earlier run
    wrote (REMOVED > MODIFIED > UNMODIFIED: a later run cannot bring removed dates back)."""
    ours = "UNMODIFIED" if FULL_DATES in options else "MODIFIED" if MODIFIED_DATES in options else "REMOVED"
    old = old.strip().upper()
    return old if _TEMPORAL_RANK.get(old, -1) > _TEMPORAL_RANK[ours] else ours


def previous_codes(ds: Dataset) -> set[str]:
    """The profile and option codes an earlier de-identification listed (DCM codes of CID 7050 only):
    marking is the union of theirs and ours, so a second run never forgets what the first one did."""
    seq = ds.get(METHOD_CODES)
    out = set()
    for item in (seq.value if seq is not None and seq.value else ()):
        if str(item.get("CodingSchemeDesignator", "")).strip() == "DCM":
            code = str(item.get("CodeValue", "")).strip()
            if code == BASIC_PROFILE_CODE or code in OPTION_BY_CODE:
                out.add(code)
    return out


def mark(ds: Dataset, options: Iterable[str], old_codes: set[str]) -> None:
    """Every selected option is listed: an object that an option could not be honoured for was
    refused before getting here (Clean Recognizable Visual Features refuses objects that say YES, and
    leaves the attribute as it was: wadows removes no faces, so it never writes NO itself)."""
    options = frozenset(options)
    codes = {BASIC_PROFILE_CODE} | old_codes
    codes.update(o.code for o in OPTIONS if o.name in options)
    ordered = sorted(codes)
    items = []
    for code in ordered:
        item = Dataset()
        item.CodeValue = code
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = _MEANING[code]
        items.append(item)
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = [METHOD_PREFIX] + [_MEANING[c] for c in ordered]
    ds.DeidentificationMethodCodeSequence = DicomSequence(items)
    ds.LongitudinalTemporalInformationModified = temporal_flag(
        options, str(ds.get("LongitudinalTemporalInformationModified", "") or ""))
