"""XPath over the Native DICOM Model: result kinds, the unprefixed form, refusals and bounds."""

from __future__ import annotations

import time

import pydicom
import pytest
from lxml import etree
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from wadows.dicom.nativexml import NAMESPACE, to_native_xml
from wadows.retrieve.errors import ErrorCode
from wadows.retrieve.xpath import (PREFIX, XPathLimits, XPathRefused, compile_all, compile_xpath,
                                   evaluate)


@pytest.fixture(scope="module")
def ct():
    return to_native_xml(pydicom.dcmread(get_testdata_file("CT_small.dcm")))


def test_prefixed_and_unprefixed_names_select_the_same_nodes(ct):
    prefixed = evaluate(ct, f"//{PREFIX}:DicomAttribute[@keyword='PatientName']//{PREFIX}:FamilyName/text()")
    plain = evaluate(ct, "//DicomAttribute[@keyword='PatientName']//FamilyName/text()")
    assert prefixed == plain == ["CompressedSamples"]


def test_element_results_are_native_dicom_xml_in_the_namespace(ct):
    [element] = evaluate(ct, "//DicomAttribute[@tag='00100010']")
    assert etree.QName(element).namespace == NAMESPACE
    assert element.getparent() is None  # a copy, free to be placed in a response
    reread = etree.fromstring(etree.tostring(element))
    assert reread.get("keyword") == "PatientName"
    assert reread.find(f"{{{NAMESPACE}}}PersonName/{{{NAMESPACE}}}Alphabetic/{{{NAMESPACE}}}FamilyName").text \
        == "CompressedSamples"


def test_result_kinds(ct):
    assert evaluate(ct, "//DicomAttribute[@keyword='Modality']/@vr") == ["CS"]
    assert evaluate(ct, "//DicomAttribute[@keyword='Modality']/Value/text()") == ["CT"]
    assert evaluate(ct, "string(//DicomAttribute[@keyword='Modality']/Value)") == ["CT"]
    assert evaluate(ct, "count(//DicomAttribute[@keyword='ImageType']/Value)") == ["3"]
    assert evaluate(ct, "1 div 4") == ["0.25"]
    assert evaluate(ct, "0 div 0") == ["NaN"]
    assert evaluate(ct, "-1 div 0") == ["-Infinity"]
    assert evaluate(ct, "boolean(//DicomAttribute[@keyword='PixelData']/BulkData)") == ["true"]
    assert evaluate(ct, "//DicomAttribute[@keyword='NoSuchThing']") == []
    [root] = evaluate(ct, "/")
    assert etree.QName(root).localname == "NativeDicomModel"
    assert evaluate(ct, "//DicomAttribute[@keyword='ImageType']/Value/@number") == ["1", "2", "3"]


def test_private_elements_by_creator(ct):
    found = evaluate(ct, "//DicomAttribute[@privateCreator='GEMS_PARM_01' and @tag='0043004E']/Value/text()")
    assert found == ["10.60061"]


@pytest.mark.parametrize("expression, why", [
    ("", "empty"),
    ("//DicomAttribute[", "unbalanced"),
    ("//DicomAttribute[@tag=$tag]", "variables"),
    ("document('file:///etc/passwd')", "core function"),
    ("exsl:node-set(//Value)", "core function"),
    ("re:test(//Value, 'x')", "core function"),
    ("//x:DicomAttribute", "prefix"),
    ("1e3", "not an XPath"),
    ("//DicomAttribute[.//Value[//Value[//Value]]]", "two predicates"),
    ("banana::DicomAttribute", "axis"),
    ("//*[" * 9 + "1" + "]" * 9, "nested"),
    ("x" * 1025, "longer"),
])
def test_refused_with_0012(ct, expression, why):
    with pytest.raises(XPathRefused) as refused:
        evaluate(ct, expression)
    assert refused.value.code is ErrorCode.INVALID_PARAMETER_VALUE
    assert why in refused.value.reason


def test_the_list_check_gives_the_position_and_bounds_the_count():
    with pytest.raises(XPathRefused) as refused:
        compile_all(["//Value", "count(//Value)", "unparsed("])
    assert refused.value.position == 3
    with pytest.raises(XPathRefused) as refused:
        compile_all(["//Value"] * 3, XPathLimits(max_expressions=2))
    assert refused.value.code is ErrorCode.INVALID_PARAMETER_VALUE


def test_answers_are_bounded_with_0005(ct):
    with pytest.raises(XPathRefused) as refused:
        evaluate(ct, "//Value", XPathLimits(max_items=10))
    assert refused.value.code is ErrorCode.SIZE_EXCEEDS_LIMITS
    with pytest.raises(XPathRefused) as refused:
        evaluate(ct, "/", XPathLimits(max_bytes=1000))
    assert refused.value.code is ErrorCode.SIZE_EXCEEDS_LIMITS
    with pytest.raises(XPathRefused) as refused:
        evaluate(ct, "//*[count(//*) > 0]", XPathLimits(max_cost=1000))
    assert refused.value.code is ErrorCode.SIZE_EXCEEDS_LIMITS


def test_a_quadratic_expression_on_a_large_header_is_refused_before_it_runs():
    ds = Dataset()
    ds.ReferencedSOPSequence = [Dataset() for _ in range(5_000)]
    for item in ds.ReferencedSOPSequence:
        item.ReferencedSOPInstanceUID = "1.2.3"
    root = to_native_xml(ds)
    started = time.monotonic()
    with pytest.raises(XPathRefused) as refused:
        evaluate(root, "//*[count(following::*) > count(preceding::*)]")
    assert refused.value.code is ErrorCode.SIZE_EXCEEDS_LIMITS
    assert time.monotonic() - started < 5
    assert evaluate(root, "count(//Item)") == ["5000"]  # linear ones still run


def test_an_expression_cannot_leave_its_document(ct):
    outer = etree.Element("outer")
    outer.append(etree.fromstring(etree.tostring(ct)))
    with pytest.raises(ValueError):
        evaluate(outer[0], "/")
    assert compile_xpath("//DicomAttribute").rewritten == f"// {PREFIX}:DicomAttribute"


@pytest.mark.parametrize("expression", [
    "/", "//.", "/..", "(/)[1]", "/ | //DicomAttribute", "//DicomAttribute/ancestor::node()", "//node()",
    "//DicomAttribute[@keyword='Rows']", "//*", "//@*", "/*", "//Value[1]", "//Item/DicomAttribute[Value]",
    "//DicomAttribute[@keyword='Rows']/..", "//text()", "/NativeDicomModel/self::node()", "//self::node()",
])
def test_the_root_node_is_counted_whenever_it_may_be_selected(ct, expression):
    """evaluate() skips its count pass when the last step is a name test (xpath._may_select_root):
    the skip must never lose the root node."""
    compiled = compile_xpath(expression)
    selects_root = compiled._count(ct) > len(compiled._xpath(ct))
    assert compiled.may_select_root or not selects_root
    answer = evaluate(ct, compiled)
    assert len(answer) == compiled._count(ct)
    if selects_root:
        assert answer[0].tag == f"{{{NAMESPACE}}}NativeDicomModel"
