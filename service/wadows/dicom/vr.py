"""Value Representation facts of PS3.5 that several byte-level readers and writers need alike."""

from __future__ import annotations

# PS3.5 Table 7.1-1: VRs with a 2-byte reserved field and a 32-bit length in explicit VR.
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
# The same, as the two bytes an explicit VR element header carries (readers of raw files).
LONG_VR_CODES = frozenset(vr.encode() for vr in LONG_VRS)
# Width of the unit whose bytes reverse between big and little endian, for values kept as bytes (PS3.5 §7.3).
WORD_SIZE = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
