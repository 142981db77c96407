"""A WSDL-generated client (zeep) against the served WSDL, and every response envelope checked
against the OFFICIAL IHE XSDs from ../shared/reference (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.needs import unavailable
import requests
import zeep
from lxml import etree

from support.rad69 import Doc, parse_response, request_xml, xop_folded

OFFICIAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "schemas" / "ihe-official" / "schema"


@pytest.fixture(scope="module")
def official_response_schema() -> etree.XMLSchema:
    xsd = OFFICIAL / "IHE" / "XDS.b_DocumentRepository.xsd"
    if not xsd.exists():
        unavailable(f"official IHE schemas not found at {OFFICIAL} (../shared absent)")
    return etree.XMLSchema(etree.parse(str(xsd)))


@pytest.fixture(scope="module")
def client(server):
    settings = zeep.Settings(strict=True, xml_huge_tree=True)
    return zeep.Client(server.url + "?wsdl", settings=settings)


def test_served_wsdl_has_the_operation_soap12_and_config_address(client, server):
    service = client.wsdl.services["ImagingDocumentSource_Service"]
    port = service.ports["ImagingDocumentSource_Port_Soap12"]
    assert port.binding_options["address"] == server.url
    assert "RetrieveImagingDocumentSet" in port.binding._operations
    assert type(port.binding).__name__ == "Soap12Binding"


def test_wsdl_address_ignores_host_header(server):
    wsdl = requests.get(server.url + "?wsdl", headers={"Host": "evil.example:666"}, timeout=10).text
    assert "evil.example" not in wsdl and server.url in wsdl


def test_zeep_retrieves_byte_identical_documents(client, server, sample_instances):
    by_series: dict = {}
    for inst in sample_instances:
        by_series.setdefault((inst.study, inst.series), []).append(inst)
    studies: dict = {}
    for (study, series), insts in by_series.items():
        studies.setdefault(study, []).append({
            "seriesInstanceUID": series,
            "DocumentRequest": [{"RepositoryUniqueId": server.repository, "DocumentUniqueId": i.sop} for i in insts],
        })
    syntaxes = list(dict.fromkeys(i.transfer_syntax for i in sample_instances))
    result = client.service.RetrieveImagingDocumentSet(
        StudyRequest=[{"studyInstanceUID": s, "SeriesRequest": series} for s, series in studies.items()],
        TransferSyntaxUIDList={"TransferSyntaxUID": syntaxes},
    )
    assert result.RegistryResponse.status.endswith("Success")
    got = {d.DocumentUniqueId: d.Document for d in result.DocumentResponse}
    expected_same = [i for i in sample_instances if i.transfer_syntax == syntaxes[0]]
    assert expected_same, "the sample set should have documents stored in the first syntax"
    for inst in expected_same:
        assert got[inst.sop] == inst.path.read_bytes()
    assert set(got) == {i.sop for i in sample_instances}


@pytest.mark.parametrize("case", ["success", "partial", "failure"])
def test_responses_validate_against_official_ihe_xsd(server, sample_instances, official_response_schema, case):
    a = sample_instances[0]
    docs = {
        "success": [Doc(a.study, a.series, a.sop, server.repository)],
        "partial": [Doc(a.study, a.series, a.sop, server.repository), Doc(a.study, a.series, "1.2.3.4", server.repository)],
        "failure": [Doc(a.study, a.series, "1.2.3.4", server.repository)],
    }[case]
    r = server.post(request_xml(docs, [a.transfer_syntax]))
    resp = parse_response(r.headers["Content-Type"], r.content)
    body = xop_folded(resp)
    assert official_response_schema.validate(body), official_response_schema.error_log.last_error
