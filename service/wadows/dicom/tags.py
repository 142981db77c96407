"""Tags that byte-level code recognises by number (PS3.5 §7.5, PS3.6 Table 6-1, PS3.3 C.7.6.3)."""

from __future__ import annotations

PIXEL_DATA = 0x7FE00010
FLOAT_PIXEL_DATA = 0x7FE00008
DOUBLE_FLOAT_PIXEL_DATA = 0x7FE00009
# The three elements that may hold an image's pixels; at most one is present (PS3.3 C.7.6.3.1).
PIXEL_TAGS = frozenset({FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA, PIXEL_DATA})
ITEM_GROUP = 0xFFFE  # items and delimitation items (PS3.5 §7.5): no VR in either encoding
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
UNDEFINED_LENGTH = 0xFFFFFFFF
