"""The Native DICOM Model writer, element by element, on data sets whose answer is known."""

from __future__ import annotations

import base64

import pydicom
import pytest
from lxml import etree
from pydicom.data import get_charset_files, get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.tag import BaseTag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence

from wadows.dicom.nativexml import NAMESPACE, default_bulk_uri, to_native_xml, to_native_xml_bytes

from .schema import schemas, uses_newer_vr

N = {"n": NAMESPACE}


def attr(root, tag: str):
    found = root.xpath(f"n:DicomAttribute[@tag='{tag}']", namespaces=N)
    assert len(found) == 1, (tag, len(found))
    return found[0]


def values(node) -> list[tuple[str, str]]:
    return [(v.get("number"), v.text or "") for v in node.xpath("n:Value", namespaces=N)]


def test_root_namespace_and_attributes():
    ds = Dataset()
    ds.Modality = "CT"
    root = to_native_xml(ds)
    assert root.tag == f"{{{NAMESPACE}}}NativeDicomModel" and root.nsmap == {None: NAMESPACE}
    a = attr(root, "00080060")
    assert dict(a.attrib) == {"tag": "00080060", "vr": "CS", "keyword": "Modality"}
    assert values(a) == [("1", "CT")]
    assert to_native_xml_bytes(ds).startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_multiple_values_numbered_from_one_with_empty_components_kept():
    ds = Dataset()
    ds.ImageType = ["ORIGINAL", "", "AXIAL "]
    ds.add_new(0x00280030, "DS", "0.5\\1.50")
    ds.add_new(0x00200013, "IS", "007")
    ds.add_new(0x00280010, "US", 512)
    ds.add_new(0x00189345, "FL", [0.1, float("nan")])
    ds.add_new(0x00186028, "FD", [0.1, float("-inf")])
    ds.add_new(0x00209165, "AT", [0x00100010, 0x7FE00010])
    ds.AccessionNumber = ""
    root = to_native_xml(ds)
    assert values(attr(root, "00080008")) == [("1", "ORIGINAL"), ("2", ""), ("3", "AXIAL")]
    assert values(attr(root, "00280030")) == [("1", "0.5"), ("2", "1.50")]  # string forms kept
    assert values(attr(root, "00200013")) == [("1", "007")]
    assert values(attr(root, "00280010")) == [("1", "512")]
    assert values(attr(root, "00189345")) == [("1", "0.1"), ("2", "NaN")]  # shortest 32-bit text
    assert values(attr(root, "00186028")) == [("1", "0.1"), ("2", "-INF")]
    assert values(attr(root, "00209165")) == [("1", "00100010"), ("2", "7FE00010")]
    assert len(attr(root, "00080050")) == 0  # no value: no child


def test_person_name_groups_and_components():
    ds = Dataset()
    ds.PatientName = "Yamada^Tarou^^Dr^III=山田^太郎=やまだ^たろう"
    ds.add_new(0x00081070, "PN", ["A^B", "", "^^^^"])
    root = to_native_xml(ds)
    pn = attr(root, "00100010").xpath("n:PersonName", namespaces=N)
    assert [p.get("number") for p in pn] == ["1"]
    groups = {etree.QName(g).localname: {etree.QName(c).localname: c.text for c in g} for g in pn[0]}
    assert groups == {
        "Alphabetic": {"FamilyName": "Yamada", "GivenName": "Tarou", "NamePrefix": "Dr", "NameSuffix": "III"},
        "Ideographic": {"FamilyName": "山田", "GivenName": "太郎"},
        "Phonetic": {"FamilyName": "やまだ", "GivenName": "たろう"},
    }
    operators = attr(root, "00081070").xpath("n:PersonName", namespaces=N)
    assert [(p.get("number"), len(p)) for p in operators] == [("1", 1), ("2", 0), ("3", 0)]


def test_sequences_items_and_private_creators_per_item():
    ds = Dataset()
    item = Dataset()
    item.private_block(0x0029, "ACME 1.0", create=True).add_new(0x05, "LO", "inner")
    ds.ReferencedSeriesSequence = Sequence([item, Dataset()])
    ds.private_block(0x0029, "OTHER", create=True).add_new(0x05, "LO", "outer")
    ds.add_new(0x00291105, "LO", "same block as OTHER")  # the creator is at (0029,0011)
    ds.add_new(0x00330010 + 0x1000, "LO", "orphan")       # no creator element at (0033,0010)
    root = to_native_xml(ds)
    seq = attr(root, "00081115")
    assert [i.get("number") for i in seq.xpath("n:Item", namespaces=N)] == ["1", "2"]
    inner = seq.xpath("n:Item[1]/n:DicomAttribute[@privateCreator='ACME 1.0']", namespaces=N)
    assert [(a.get("tag"), values(a)) for a in inner] == [("00290005", [("1", "inner")])]
    outer = root.xpath("n:DicomAttribute[@privateCreator='OTHER']", namespaces=N)
    assert [a.get("tag") for a in outer] == ["00290005"]
    assert "privateCreator" not in attr(root, "00290010").attrib  # a creator element is itself
    orphan = attr(root, "00331010")
    assert "privateCreator" not in orphan.attrib and "keyword" not in orphan.attrib
    assert len(seq.xpath("n:Item[2]/*", namespaces=N)) == 0


def test_bulk_and_inline_binary():
    ds = Dataset()
    ds.add_new(0x00281201, "OW", bytes(range(256)) * 2)          # 512 bytes: inline
    ds.add_new(0x00660023, "OW", b"\x01\x00" * 600)              # 1200 bytes: bulk
    ds.add_new(0x60003000, "OW", b"\x00\x00")                    # Overlay Data: bulk however small
    ds.add_new(0x7FE00010, "OW", b"\x00\x00")                    # Pixel Data: never inlined
    ds.add_new(0x00189346, "SQ", [Dataset()])
    ds[0x00189346].value[0].add_new(0x7FE00008, "OF", b"\0" * 4)  # nested Float Pixel Data
    root = to_native_xml(ds)
    inline = attr(root, "00281201").xpath("n:InlineBinary", namespaces=N)[0]
    assert base64.b64decode(inline.text) == bytes(range(256)) * 2
    for tag in ("00660023", "60003000", "7FE00010"):
        [bulk] = attr(root, tag).xpath("n:BulkData", namespaces=N)
        assert bulk.get("uri") == f"bulkdata/{tag}"
    nested = attr(root, "00189346").xpath(".//n:BulkData/@uri", namespaces=N)
    assert nested == ["bulkdata/00189346/1/7FE00008"] == [default_bulk_uri((0x00189346, 1, 0x7FE00008))]
    assert b"AAAA" not in to_native_xml_bytes(ds, bulk_uri=lambda p: "cid:x")[-300:]
    custom = to_native_xml(ds, bulk_threshold=10_000, bulk_uri=lambda path: f"urn:x:{len(path)}")
    assert attr(custom, "00660023").xpath("n:InlineBinary", namespaces=N)
    assert attr(custom, "7FE00010").xpath("n:BulkData/@uri", namespaces=N) == ["urn:x:1"]


def test_big_endian_words_are_given_little_endian():
    path = get_testdata_file("MR_small_bigendian.dcm")
    big = pydicom.dcmread(path)
    little = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    assert big.original_encoding[1] is False
    ow = Dataset()
    ow.add_new(0x00281201, "OW", b"\x12\x34")
    ow.set_original_encoding(False, False)
    assert base64.b64decode(attr(to_native_xml(ow), "00281201")[0].text) == b"\x34\x12"
    # the two encodings of the same object render alike (values, not bytes); only the Little
    # Endian file carries trailing padding
    del little[0xFFFCFFFC]
    assert to_native_xml_bytes(big) == to_native_xml_bytes(little)


def test_file_meta_only_when_asked():
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"), stop_before_pixels=True)
    assert not to_native_xml(ds).xpath("n:DicomAttribute[starts-with(@tag, '0002')]", namespaces=N)
    with_meta = to_native_xml(ds, include_file_meta=True)
    assert values(attr(with_meta, "00020010")) == [("1", "1.2.840.10008.1.2.1")]
    assert not with_meta.xpath("//n:DicomAttribute[substring(@tag, 5) = '0000']", namespaces=N)


@pytest.mark.parametrize("name, expected", [
    ("chrRuss.dcm", ["Люкceмбypг"]),                                  # ISO_IR 144
    ("chrH31.dcm", ["Yamada", "Tarou", "山田", "太郎", "やまだ", "たろう"]),  # ISO 2022 IR 87
    ("chrX1.dcm", ["Wang", "XiaoDong", "王", "小東"]),                  # ISO_IR 192
])
def test_character_sets_are_decoded(name, expected):
    root = to_native_xml(pydicom.dcmread(get_charset_files(name)[0]))
    assert list(attr(root, "00100010").itertext()) == expected


def test_a_specific_character_set_inside_an_item_applies_to_that_item():
    root = to_native_xml(pydicom.dcmread(get_charset_files("chrSQEncoding.dcm")[0]))
    names = root.xpath("//n:Item//n:DicomAttribute[@tag='00100010']//n:Ideographic/*/text()", namespaces=N)
    assert names == ["山田", "太郎"]


def test_text_xml_cannot_hold_is_replaced_and_bad_values_kept_as_bytes():
    ds = Dataset()
    ds.StudyDescription = "a\x01b"
    # as read from a file: an invalid string is kept as read, a US of 3 bytes cannot be converted
    ds._dict[BaseTag(0x00200013)] = RawDataElement(BaseTag(0x00200013), "IS", 2, b"1A", 0, False, True)
    ds._dict[BaseTag(0x00280010)] = RawDataElement(BaseTag(0x00280010), "US", 3, b"\1\2\3", 0, False, True)
    root = to_native_xml(ds)
    assert values(attr(root, "00081030")) == [("1", "a\ufffdb")]
    assert values(attr(root, "00200013")) == [("1", "1A")]
    bad = attr(root, "00280010")
    assert bad.get("vr") == "US"
    assert [base64.b64decode(b.text) for b in bad] == [b"\1\2\3"]
    assert etree.tostring(root)  # serialisable


def test_newer_vrs_validate_against_the_current_schema(tmp_path):
    ds = Dataset()
    ds.add_new(0x0008010E, "UR", "http://example.org/scheme")
    ds.add_new(0x00080120, "UR", "urn:x")
    ds.add_new(0x00400610, "SQ", [])
    root = to_native_xml(ds)
    compiled = schemas(tmp_path)
    assert uses_newer_vr(root)
    assert compiled.current.validate(root), compiled.current.error_log
    assert not compiled.strict.validate(root)  # the published edition lacks UR
