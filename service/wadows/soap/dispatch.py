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
from .ns import IHE_RAD
from .operations import OPERATIONS, Operation


def _method(op: Operation):
    def method(ctx, req):  # noqa: ANN001, ANN202 - spyne's calling convention
        return op.to_request(req)

    method.__name__ = op.name  # spyne names the method after the function: the WSDL operation name
    return rpc(op.model, _body_style="bare", _returns=AnyXml, _in_message_name=op.request)(method)


_Service = type("_ImagingDocumentSource", (ServiceBase,), {op.name: _method(op) for op in OPERATIONS.values()})
_app = Application([_Service], tns=IHE_RAD, in_protocol=XmlDocument(), out_protocol=XmlDocument())
_server = ServerBase(_app)


def dispatch(body: etree._Element) -> Any:
    """The typed request for ``body``; the caller hands it, with who asked, to the operation's handler."""
    ctx = MethodContext(_server, MethodContext.SERVER)
    ctx.in_document = body
    _app.in_protocol.decompose_incoming_envelope(ctx, _app.in_protocol.REQUEST)
    (ctx,) = _app.in_protocol.generate_method_contexts(ctx)
    _server.get_in_object(ctx)
    if ctx.in_error is not None:
        raise faults.sender(f"The request body could not be read: {ctx.in_error.faultstring}")
    _app.process_request(ctx)
    if ctx.out_error is not None:
        raise ctx.out_error
    return ctx.out_object[0]
