"""spyne's one job here: read the validated body element into the typed request of its operation.

Its generated WSDL, validator, fault writer, MTOM and serializer are all bypassed (NOTES.md lists
why); the body reaching it has already passed our XSD validation, so spyne's local-name matching
cannot be fooled by elements in the wrong namespace. One spyne method per row of operations.py.

spyne keys a method by its Application's target namespace and the element's local name, whatever
namespace the input message declares, so each request namespace (iherad for RAD-69, wado for the
WADO-WS operations of PS3.18 §6.4.2-6.4.3) gets its own Application.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from spyne import Application, MethodContext, ServiceBase, rpc
from spyne.model import AnyXml
from spyne.protocol.xml import XmlDocument
from spyne.server import ServerBase

from . import faults
from .operations import OPERATIONS, Operation
from .requests import RawElement


def _method(op: Operation):
    def method(ctx, req):  # noqa: ANN001, ANN202 - spyne's calling convention
        return op.to_request(req, ctx.in_document)

    method.__name__ = op.name  # spyne names the method after the function: the WSDL operation name
    return rpc(op.model, _body_style="bare", _returns=AnyXml, _in_message_name=op.request)(method)


class _XmlDocument(XmlDocument):
    def __init__(self) -> None:
        super().__init__()
        self.deserialization_handlers[RawElement] = lambda _ctx, _cls, element: element


def _namespace(op: Operation) -> str:
    return op.request[1:].partition("}")[0]


def _server_for(tns: str) -> ServerBase:
    rows = {op.name: _method(op) for op in OPERATIONS.values() if _namespace(op) == tns}
    service = type("_ImagingDocumentSource", (ServiceBase,), rows)
    return ServerBase(Application([service], tns=tns, in_protocol=_XmlDocument(), out_protocol=XmlDocument()))


_SERVERS = {tns: _server_for(tns) for tns in sorted({_namespace(op) for op in OPERATIONS.values()})}
PUBLIC_METHODS = {m.name: m for server in _SERVERS.values() for m in server.app.services[0].public_methods.values()}


def dispatch(body: etree._Element) -> Any:
    """The typed request for ``body``; the caller hands it, with who asked, to the operation's handler."""
    server = _SERVERS.get(body.tag[1:].partition("}")[0] if isinstance(body.tag, str) else "")
    if server is None:
        raise faults.sender("Unsupported operation element")
    app = server.app
    ctx = MethodContext(server, MethodContext.SERVER)
    ctx.in_document = body
    app.in_protocol.decompose_incoming_envelope(ctx, app.in_protocol.REQUEST)
    (ctx,) = app.in_protocol.generate_method_contexts(ctx)
    server.get_in_object(ctx)
    if ctx.in_error is not None:
        raise faults.sender(f"The request body could not be read: {ctx.in_error.faultstring}")
    app.process_request(ctx)
    if ctx.out_error is not None:
        raise ctx.out_error
    return ctx.out_object[0]
