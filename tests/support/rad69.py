"""Raw RAD-69 requests and MTOM responses, for tests that look at the wire itself."""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import uuid
from dataclasses import dataclass, field
from typing import Sequence

from lxml import etree

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS = {
    "env": SOAP12, "wsa": "http://www.w3.org/2005/08/addressing", "ihe": "urn:ihe:iti:xds-b:2007",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0", "xop": "http://www.w3.org/2004/08/xop/include",
    "iherad": "urn:ihe:rad:xdsi-b:2009", "wado": "urn:dicom:wado:ws:2011",
}
ACTION = "urn:ihe:rad:2009:RetrieveImagingDocumentSet"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"


@dataclass(frozen=True)
class Doc:
    study: str
    series: str
    sop: str
    repository: str
    anonymize: str | None = None


def by_study_and_series(docs: Sequence) -> dict[str, dict[str, list]]:
    """Documents (anything with .study and .series) grouped as a request nests them, in first-seen order."""
    studies: dict[str, dict[str, list]] = {}
    for d in docs:
        studies.setdefault(d.study, {}).setdefault(d.series, []).append(d)
    return studies


def request_xml(docs: Sequence[Doc], syntaxes: Sequence[str] = (EXPLICIT_LE,), *, action: str | None = ACTION,
                message_id: str | None = None, extra_header: str = "", anonymize: str | None = None) -> bytes:
    body = []
    for study, series in by_study_and_series(docs).items():
        body.append(f'<iherad:StudyRequest studyInstanceUID="{study}">')
        for s, ds in series.items():
            body.append(f'<iherad:SeriesRequest seriesInstanceUID="{s}">')
            for d in ds:
                anon = f"<wado:Anonymize>{d.anonymize}</wado:Anonymize>" if d.anonymize is not None else ""
                body.append(f"<ihe:DocumentRequest>\n  <ihe:RepositoryUniqueId>{d.repository}</ihe:RepositoryUniqueId>\n"
                            f"  <ihe:DocumentUniqueId>\n   {d.sop}\n  </ihe:DocumentUniqueId>{anon}</ihe:DocumentRequest>")
            body.append("</iherad:SeriesRequest>")
        body.append("</iherad:StudyRequest>")
    ts = "".join(f"<iherad:TransferSyntaxUID>{t}</iherad:TransferSyntaxUID>" for t in syntaxes)
    req_anon = f"<wado:Anonymize>{anonymize}</wado:Anonymize>" if anonymize is not None else ""
    header = ""
    if action:
        header += f'<wsa:Action env:mustUnderstand="true">{action}</wsa:Action>'
    header += f"<wsa:MessageID>{message_id or 'urn:uuid:' + str(uuid.uuid4())}</wsa:MessageID>{extra_header}"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="{SOAP12}" xmlns:wsa="{NS["wsa"]}">'
        f"<env:Header>{header}</env:Header><env:Body>"
        f'<iherad:RetrieveImagingDocumentSetRequest xmlns:iherad="{NS["iherad"]}" xmlns:ihe="{NS["ihe"]}" '
        f'xmlns:wado="{NS["wado"]}">{"".join(body)}<iherad:TransferSyntaxUIDList>{ts}</iherad:TransferSyntaxUIDList>'
        f"{req_anon}</iherad:RetrieveImagingDocumentSetRequest></env:Body></env:Envelope>"
    ).encode()


def as_mtom(xml: bytes, action: str = ACTION) -> tuple[str, bytes]:
    """Wrap a SOAP envelope the way CXF/Axis2 send it (IHE ITI TF-2 Appendix V)."""
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    root = f"0.{uuid.uuid4().hex}@apache.org"
    ctype = (f'multipart/related; boundary="{boundary}"; type="application/xop+xml"; start="<{root}>"; '
             f'start-info="application/soap+xml"; action="{action}"')
    body = (f"--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{root}>\r\n\r\n").encode() + xml + \
        f"\r\n--{boundary}--\r\n".encode()
    return ctype, body


@dataclass
class Response:
    envelope: etree._Element
    parts: dict[str, bytes] = field(default_factory=dict)  # Content-ID without <> -> bytes
    part_types: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.envelope.find(".//rs:RegistryResponse", NS).get("status").rpartition(":")[2]

    @property
    def errors(self) -> list[dict[str, str]]:
        return [dict(e.attrib) for e in self.envelope.iterfind(".//rs:RegistryError", NS)]

    def documents(self) -> list[tuple[str, bytes]]:
        """(DocumentUniqueId, bytes) in response order, following each xop:Include."""
        out = []
        for dr in self.envelope.iterfind(".//ihe:DocumentResponse", NS):
            href = dr.find("ihe:Document/xop:Include", NS).get("href")
            out.append((dr.findtext("ihe:DocumentUniqueId", namespaces=NS), self.parts[href[4:]]))
        return out

    def header(self, name: str) -> str | None:
        return self.envelope.findtext(f"env:Header/wsa:{name}", namespaces=NS)


def parse_response(content_type: str, body: bytes) -> Response:
    if content_type.startswith("application/soap+xml"):
        return Response(etree.fromstring(body))
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = list(msg.iter_parts())
    start = msg.get_param("start").strip("<>")
    resp = Response(envelope=None)  # type: ignore[arg-type]
    for p in parts:
        cid = p["Content-ID"].strip("<>")
        payload = p.get_payload(decode=True)
        if cid == start:
            resp.envelope = etree.fromstring(payload)
        else:
            resp.parts[cid] = payload
            resp.part_types[cid] = p.get_content_type()
    return resp


def xop_folded(resp: Response) -> etree._Element:
    """The response body with each xop:Include replaced by its part in base64 (the XOP infoset)."""
    body = copy.deepcopy(resp.envelope.find("env:Body", NS)[0])
    for inc in list(body.iter("{http://www.w3.org/2004/08/xop/include}Include")):
        parent = inc.getparent()
        parent.remove(inc)
        parent.text = base64.b64encode(resp.parts[inc.get("href")[4:]]).decode()
    return body
