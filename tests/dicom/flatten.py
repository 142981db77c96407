"""A Native DICOM Model document as comparable facts: (tag path, vr) -> what the value is, so two
writers are compared by content, not bytes (order, whitespace, UUIDs, encodings aside)."""

from __future__ import annotations

import base64
import struct

from lxml import etree

NS = "http://dicom.nema.org/PS3.19/models/NativeDICOM"
_ = "{%s}" % NS

BULK = ("bulk",)


def _local(el) -> str:
    return etree.QName(el).localname


def _value_of(attr, vr: str):
    children = list(attr)
    if not children:
        return ()
    kind = _local(children[0])
    if kind == "BulkData":
        return BULK
    if kind == "InlineBinary":
        return ("binary", base64.b64decode("".join(children[0].itertext())))
    if kind == "Item":
        return ("items", len(children))
    if kind == "PersonName":
        names = []
        for pn in children:
            groups = []
            for group in pn:
                groups.append((_local(group), tuple((_local(c), c.text or "") for c in group)))
            names.append((int(pn.get("number")), tuple(groups)))
        return ("pn", tuple(names))
    return ("values", tuple((int(v.get("number")), _number(v.text or "", vr)) for v in children))


def _number(text: str, vr: str):
    """Numbers by value: writers may spell the same float differently (0.1 vs 1.0000000000000001e-1)."""
    if vr in ("FL", "FD") and text:
        try:
            value = float(text.replace("INF", "inf"))
        except ValueError:
            return text
        if vr == "FL":
            value = struct.unpack("<f", struct.pack("<f", value))[0]
        return value
    return text


def flatten(root) -> dict[tuple, tuple]:
    """((tag, privateCreator), item number, ...) -> (vr, keyword, value) for every attribute at every depth."""
    out: dict[tuple, tuple] = {}

    def walk(node, path):
        for attr in node.iterchildren(_ + "DicomAttribute"):
            vr = attr.get("vr")
            # A private element is named by its creator and gggg00ee (PS3.19 §A.1.5).
            here = path + ((attr.get("tag"), attr.get("privateCreator")),)
            out[here] = (vr, attr.get("keyword"), _value_of(attr, vr))
            for item in attr.iterchildren(_ + "Item"):
                walk(item, here + (int(item.get("number")),))

    walk(root, ())
    return out
