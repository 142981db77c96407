"""[information]'s bounds (default-config.toml) as RetrieveImagingDocumentSetInformation applies them:
each gives the documented code, urn:dicom:wado:0012 for the request or 0005 for the document, naming
the expression's position; out-of-range values stop the server at start."""

from __future__ import annotations

import dataclasses
import shutil
import tomllib

import pydicom
import pytest
from pydicom.data import get_testdata_file

from wadows.config import ConfigError, InformationConfig, default_config_text, load_config
from wadows.retrieve.docinfo import InformationDocument, InformationRequest, \
    retrieve_imaging_document_set_information as information
from wadows.retrieve.errors import ErrorCode
from wadows.retrieve.model import DocumentRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.store.filestore import FileStore
from wadows.wiring import create_app

REPO_ID = "1.2.3.4.5"


@pytest.fixture(scope="module")
def ct(tmp_path_factory):
    root = tmp_path_factory.mktemp("limits-store")
    shutil.copyfile(get_testdata_file("CT_small.dcm"), root / "ct.dcm")
    store = FileStore(root, tmp_path_factory.mktemp("limits-index") / "index.sqlite")
    store.refresh()
    ds = pydicom.dcmread(root / "ct.dcm", stop_before_pixels=True)
    return store, DocumentRequest(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), REPO_ID, str(ds.SOPInstanceUID))


def configured(store, **information) -> ImagingDocumentSource:
    """The source as the server wires it from a configuration with these [information] values."""
    config = load_config(None, source__repository_unique_id=REPO_ID,
                         **{f"information__{k}": v for k, v in information.items()})
    return create_app(config, store).source


def ask(source, doc, xpaths, n=1):
    return information(source, InformationRequest(tuple(InformationDocument(doc) for _ in range(n)), tuple(xpaths)))


def only_error(result):
    (error,) = result.errors
    return error


def test_max_expression_length_is_0012_for_the_request_at_its_position(ct):
    source = configured(ct[0], max_expression_length=40)
    ok = "count(//DicomAttribute[@vr='UI'])"  # 33 characters
    assert not ask(source, ct[1], [ok]).errors
    error = only_error(ask(source, ct[1], [ok, ok + " + 10000000"]))
    assert error.code == ErrorCode.INVALID_PARAMETER_VALUE and error.location == "XPathList/XPath[2]"
    assert error.context == "XPath 2: the expression is longer than 40 characters"


def test_max_expressions_is_0012_at_the_first_expression_past_it(ct):
    source = configured(ct[0], max_expressions=2)
    assert not ask(source, ct[1], ["1", "2"]).errors
    result = ask(source, ct[1], ["1", "2", "3"])
    error = only_error(result)
    assert result.documents == [] and error.code == ErrorCode.INVALID_PARAMETER_VALUE
    assert error.location == "XPathList/XPath[3]" and error.context == "XPath 3: more than 2 XPath expressions"


@pytest.mark.parametrize("limit, value, reason", [
    ("max_answer_items", 50, "the answer has more than 50 items"),
    ("max_answer_bytes", 4096, "the answer is larger than 4096 bytes"),
    ("max_cost", 100_000, "the expression is too costly for this document"),
])
def test_answer_bounds_are_0005_for_the_document_at_the_expression(ct, limit, value, reason):
    source = configured(ct[0], **{limit: value})
    # Within every bound above: 1 item, ~100 bytes, cost 2 * (N + N) for N ~ 550 nodes.
    assert not ask(source, ct[1], ["//DicomAttribute[@keyword='Rows']"]).errors
    wide = "//*[//*]" if limit == "max_cost" else "//*"
    result = ask(source, ct[1], ["1", wide])
    error = only_error(result)
    assert result.documents == [] and error.code == ErrorCode.SIZE_EXCEEDS_LIMITS
    assert error.context == f"XPath 2: {reason}" and error.location == ct[1].document_unique_id


def test_max_response_mib_is_0005_for_the_documents_past_it(ct):
    source = configured(ct[0], max_response_mib=1)
    result = ask(source, ct[1], ["/"], n=60)  # ~30 KB each
    assert 0 < len(result.documents) < 60
    assert {e.code for e in result.errors} == {ErrorCode.SIZE_EXCEEDS_LIMITS}
    assert len(result.documents) + len(result.errors) == 60
    assert "exceed 1048576 bytes" in result.errors[0].context


def test_cache_mib_sizes_the_remembered_models(ct):
    assert configured(ct[0], cache_mib=3).native_models.max_bytes == 3 << 20
    off = configured(ct[0], cache_mib=0)
    ask(off, ct[1], ["1"])
    assert len(off.native_models) == 0


def test_every_key_is_documented_and_defaults_match_the_code(ct):
    text = default_config_text()
    section = tomllib.loads(text)["information"]
    assert section == dataclasses.asdict(InformationConfig())
    lines = text.splitlines()
    start = lines.index("[information]")
    for key in section:
        (at,) = [i for i, line in enumerate(lines) if i > start and line.startswith(f"{key} = ")]
        assert lines[start + 1].startswith("#") and any(lines[i].startswith("#") for i in range(start, at))
    defaults = SourceSettings(frozenset())
    configured_defaults = create_app(load_config(None), ct[0]).source.settings
    assert configured_defaults.xpath_limits == defaults.xpath_limits
    assert configured_defaults.max_information_bytes == defaults.max_information_bytes
    assert configured_defaults.native_model_cache_bytes == defaults.native_model_cache_bytes


@pytest.mark.parametrize("key, value", [
    ("max_expression_length", 0), ("max_expressions", 0), ("max_answer_bytes", 10), ("max_cost", -1),
    ("max_response_mib", 0), ("cache_mib", -1), ("max_answer_items", 0),
])
def test_out_of_range_stops_the_server(key, value):
    with pytest.raises(ConfigError, match=f"information.{key}"):
        load_config(None, **{f"information__{key}": value})
