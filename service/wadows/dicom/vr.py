"""Value Representation facts of PS3.5 that several byte-level readers and writers need alike."""

from __future__ import annotations

# PS3.5 Table 7.1-1: VRs with a 2-byte reserved field and a 32-bit length in explicit VR.
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
# The same, as the two bytes an explicit VR element header carries (readers of raw files).
LONG_VR_CODES = frozenset(vr.encode() for vr in LONG_VRS)
# PS3.5 Table 6.2-1: every VR an explicit VR element header may carry; the others have a 16-bit length.
VRS = LONG_VRS | frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN", "SH", "SL",
                            "SS", "ST", "TM", "UI", "UL", "US"})
# The two bytes of each, read from a header, to its text (a dict lookup where a decode would be).
VR_OF_CODE = {vr.encode(): vr for vr in VRS}
# Width of the unit whose bytes reverse between big and little endian, for values kept as bytes (PS3.5 §7.3).
WORD_SIZE = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
