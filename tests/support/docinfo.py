"""Raw RetrieveImagingDocumentSetInformation requests and their responses, for tests on the wire."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Sequence
from xml.sax.saxutils import escape

from lxml import etree

from . import rad69

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NATIVE = "http://dicom.nema.org/PS3.19/models/NativeDICOM"
NS = {
    "env": SOAP12, "wsa": "http://www.w3.org/2005/08/addressing", "ihe": "urn:ihe:iti:xds-b:2007",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0", "wado": "urn:dicom:wado:ws:2011", "n": NATIVE,
}
ACTION = "urn:wado:2011:RetrieveImagingDocumentSetInformation"
RESPONSE_ACTION = ACTION + "Response"
TEXT = "{urn:dicom:wado:ws:2011}Text"


@dataclass(frozen=True)
class Doc(rad69.Doc):
    """A RAD-69 document key plus this operation's own parameters."""

    frame: str | None = None
    home: str | None = None


def request_xml(docs: Sequence[Doc], xpaths: Sequence[str], *, action: str | None = ACTION,
                anonymize: str | None = None) -> bytes:
    body = []
    for study, series in rad69.by_study_and_series(docs).items():
        body.append(f'<wado:StudyRequest studyInstanceUID="{study}">')
        for s, ds in series.items():
            body.append(f'<wado:SeriesRequest seriesInstanceUID="{s}">')
            for d in ds:
                body.append("<wado:DocumentRequest>")
                if d.home is not None:
                    body.append(f"<ihe:HomeCommunityId>{d.home}</ihe:HomeCommunityId>")
                body.append(f"<ihe:RepositoryUniqueId>{d.repository}</ihe:RepositoryUniqueId>"
                            f"<ihe:DocumentUniqueId>{d.sop}</ihe:DocumentUniqueId>")
                if d.frame is not None:
                    body.append(f"<wado:FrameNumber>{d.frame}</wado:FrameNumber>")
                if d.anonymize is not None:
                    body.append(f"<wado:Anonymize>{d.anonymize}</wado:Anonymize>")
                body.append("</wado:DocumentRequest>")
            body.append("</wado:SeriesRequest>")
        body.append("</wado:StudyRequest>")
    body.append("<wado:XPathList>" + "".join(f"<wado:XPath>{escape(x)}</wado:XPath>" for x in xpaths)
                + "</wado:XPathList>")
    if anonymize is not None:
        body.append(f"<wado:Anonymize>{anonymize}</wado:Anonymize>")
    header = f'<wsa:Action env:mustUnderstand="true">{action}</wsa:Action>' if action else ""
    header += f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="{SOAP12}" xmlns:wsa="{NS["wsa"]}">'
        f"<env:Header>{header}</env:Header><env:Body>"
        f'<wado:RetrieveImagingDocumentSetInformationRequest xmlns:wado="{NS["wado"]}" xmlns:ihe="{NS["ihe"]}">'
        f'{"".join(body)}</wado:RetrieveImagingDocumentSetInformationRequest></env:Body></env:Envelope>'
    ).encode()


@dataclass
class Answer:
    document_unique_id: str
    frame: str | None
    home: str | None
    responses: list[list[etree._Element]]  # per expression, its wado:Item elements

    def texts(self, position: int) -> list[str]:
        """The text items of the answer to expression ``position`` (1-based)."""
        return [item[0].text or "" for item in self.responses[position - 1] if item[0].tag == TEXT]

    def elements(self, position: int) -> list[etree._Element]:
        return [item[0] for item in self.responses[position - 1] if item[0].tag != TEXT]


@dataclass
class Response:
    envelope: etree._Element

    @property
    def body(self) -> etree._Element:
        return self.envelope.find("env:Body", NS)[0]

    @property
    def status(self) -> str:
        return self.envelope.find(".//rs:RegistryResponse", NS).get("status").rpartition(":")[2]

    @property
    def errors(self) -> list[dict[str, str]]:
        return [dict(e.attrib) for e in self.envelope.iterfind(".//rs:RegistryError", NS)]

    @property
    def action(self) -> str | None:
        return self.envelope.findtext("env:Header/wsa:Action", namespaces=NS)

    def answers(self) -> list[Answer]:
        out = []
        for dr in self.envelope.iterfind(".//wado:DocumentInformationResponse", NS):
            out.append(Answer(
                dr.findtext("ihe:DocumentUniqueId", namespaces=NS), dr.findtext("wado:FrameNumber", namespaces=NS),
                dr.findtext("ihe:HomeCommunityId", namespaces=NS),
                [list(xr.iterfind("wado:Item", NS)) for xr in dr.iterfind("wado:XPathResponseList/wado:XPathResponse", NS)]))
        return out


def parse_response(content_type: str, body: bytes) -> Response:
    """Plain SOAP or MTOM (the server answers MTOM; this operation has no parts besides the envelope)."""
    parsed = rad69.parse_response(content_type, body)
    assert not parsed.parts, "RetrieveImagingDocumentSetInformation answers in the envelope alone"
    return Response(parsed.envelope)
