"""suds-community client: the service proxy from the served WSDL, plus the two adapters suds needs, because
it knows SOAP 1.1 only and cannot read MTOM (what an integrator using suds has to write):

- outgoing: the envelope namespace becomes SOAP 1.2's and the media type application/soap+xml with the
  action parameter (SOAP 1.2 Part 2 §7.1.4 moves SOAPAction there);
- incoming: the XOP package is folded back into one envelope with base64 text (XOP §3.2), under the SOAP 1.1
  namespace again, which is the only one suds' reply parser looks for.

suds has no WS-Addressing; wadows serves requests without wsa:Action by dispatching on the body.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import sys
from pathlib import Path
from urllib.parse import unquote

import suds.client
import suds.plugin
import suds.transport
import suds.transport.http
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pyclient import parse_args, report  # noqa: E402

SOAP11 = b"http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = b"http://www.w3.org/2003/05/soap-envelope"
XOP_INCLUDE = "{http://www.w3.org/2004/08/xop/include}Include"
ACTION = "urn:ihe:rad:2009:RetrieveImagingDocumentSet"


class Soap12Out(suds.plugin.MessagePlugin):
    def sending(self, context) -> None:
        context.envelope = context.envelope.replace(SOAP11, SOAP12)


class Soap12MtomTransport(suds.transport.http.HttpTransport):
    def send(self, request):
        request.headers = {k: v for k, v in request.headers.items() if k.lower() not in ("soapaction", "content-type")}
        request.headers["Content-Type"] = f'application/soap+xml; charset=utf-8; action="{ACTION}"'
        reply = super().send(request)
        ctype = {k.lower(): v for k, v in reply.headers.items()}.get("content-type", "")
        message = xop_folded(ctype, reply.message) if ctype.lower().startswith("multipart/") else reply.message
        return suds.transport.Reply(reply.code, reply.headers, message.replace(SOAP12, SOAP11))


def xop_folded(content_type: str, body: bytes) -> bytes:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    start = (msg.get_param("start") or "").strip("<>")
    parts = {(p["Content-ID"] or "").strip("<>"): p.get_payload(decode=True) for p in msg.iter_parts()}
    root = etree.fromstring(parts.pop(start) if start in parts else next(iter(parts.values())))
    for inc in list(root.iter(XOP_INCLUDE)):
        parent = inc.getparent()
        parent.remove(inc)
        parent.text = base64.b64encode(parts[unquote(inc.get("href")[4:])]).decode()
    return etree.tostring(root)


def main(argv: list[str]) -> None:
    req = parse_args(argv)
    client = suds.client.Client(req.wsdl, transport=Soap12MtomTransport(), plugins=[Soap12Out()])
    result = client.service.RetrieveImagingDocumentSet(
        StudyRequest=req.study_requests("_"),
        TransferSyntaxUIDList={"TransferSyntaxUID": [req.transfer_syntax]})
    registry = result.RegistryResponse
    errors = getattr(getattr(registry, "RegistryErrorList", None), "RegistryError", [])
    report(req.outdir, registry._status, [(e._errorCode, e._severity, e._location) for e in errors],
           [(d.DocumentUniqueId, d.mimeType, base64.b64decode(d.Document))
            for d in getattr(result, "DocumentResponse", [])])


if __name__ == "__main__":
    main(sys.argv[1:])
