"""spyne's one job here: read the validated body element into the typed request of its operation.

Its generated WSDL, validator, fault writer, MTOM and serializer are all bypassed (NOTES.md lists
why); the body reaching it has already passed our XSD validation, so spyne's local-name matching
cannot be fooled by elements in the wrong namespace. One spyne method per row of operations.py.
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
        return op.to_request(req)

    method.__name__ = op.name  # spyne names the method after the function: the WSDL operation name
    return rpc(op.model, _body_style="bare", _returns=AnyXml, _in_message_name=op.request)(method)


class _XmlDocument(XmlDocument):
    def __init__(self) -> None:
        super().__init__()
        self.deserialization_handlers[RawElement] = lambda _ctx, _cls, element: element


def _application(op: Operation) -> tuple[type, Application, ServerBase]:
    """One spyne application per row: spyne keys a bare method by its application's target namespace,
    and the rows' request elements live in different namespaces (iherad for RAD-69, wado for PS3.18's)."""
    ns = op.request[1:].partition("}")[0]
    service = type(f"_ImagingDocumentSource_{op.name}", (ServiceBase,), {op.name: _method(op)})
    app = Application([service], tns=ns, in_protocol=_XmlDocument(), out_protocol=XmlDocument())
    return service, app, ServerBase(app)


_APPS = {request: _application(op) for request, op in OPERATIONS.items()}


def dispatch(body: etree._Element) -> Any:
    """The typed request for ``body``; the caller hands it, with who asked, to the operation's handler."""
    if body.tag not in _APPS:
        raise faults.sender(f"Unsupported operation element {body.tag}")
    _service, app, server = _APPS[body.tag]
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
