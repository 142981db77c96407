"""MTOM/XOP on the wire: reading multipart/related requests and streaming multipart responses.

spyne's MTOM support crashes on Python 3 and cannot stream, and Java clients (CXF, Axis2,
JAX-WS with MTOM on) send every request as multipart/related (IHE ITI TF-2 Appendix V), so this
module owns both directions. Responses are generators: a 500 MB document goes out chunk by chunk.
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from . import faults

if TYPE_CHECKING:
    from ..filespan import FileSpan

ROOT_CONTENT_TYPE = 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'


@dataclass
class Attachment:
    content_id: str  # without angle brackets
    content_type: str
    chunks: Iterable[bytes | FileSpan]  # spans pass through untouched, for the server to send


def _header_params(content_type: str) -> email.message.EmailMessage:
    msg = email.message.EmailMessage()
    msg["Content-Type"] = content_type
    return msg


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


@functools.lru_cache(maxsize=256)
def content_type_param(content_type: str, name: str) -> str | None:
    # Cached: a client sends the same Content-Type on every request, and the email package's header
    # parser costs about a tenth of a one-document request.
    return _header_params(content_type).get_param(name)


def parse_request(content_type: str, body: bytes) -> tuple[bytes, dict[str, bytes]]:
    """Split an MTOM request into the root XML and its attachments keyed by Content-ID.

    The root part is the one named by ``start``; without it, the first part (RFC 2387 §3.2).
    """
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart() or msg.get_boundary() is None:
        raise faults.sender("multipart/related request without a usable boundary")
    parts = list(msg.iter_parts())
    if not parts:
        raise faults.sender("multipart/related request with no parts")
    start = msg.get_param("start")
    start_id = start.strip().strip("<>") if isinstance(start, str) else None
    root = None
    attachments: dict[str, bytes] = {}
    for part in parts:
        cid = (part.get("Content-ID") or "").strip().strip("<>")
        payload = part.get_payload(decode=True) or b""
        if root is None and (start_id is None or cid == start_id):
            root = payload
        else:
            attachments[cid] = payload
    if root is None:
        raise faults.sender("multipart/related request: no part has the Content-ID named by 'start'")
    return root, attachments


def new_content_id(n: int) -> str:
    """Random per response, so a Content-ID never carries a document's identifier (issue: Anonymize)."""
    return f"{uuid.uuid4()}-{n}@wadows"


def write_response(envelope: bytes, attachments: Sequence[Attachment], *, action: str | None = None) -> tuple[str, Iterator[bytes | FileSpan]]:
    """Content-Type header value and the body generator for a multipart/related MTOM response."""
    boundary = f"uuid:{uuid.uuid4()}"
    root_id = f"root.{uuid.uuid4()}@wadows"
    ctype = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="application/soap+xml"'
    )
    if action:
        ctype += f'; action="{action}"'

    def body() -> Iterator[bytes | FileSpan]:
        yield (
            f"--{boundary}\r\nContent-Type: {ROOT_CONTENT_TYPE}\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{root_id}>\r\n\r\n"
        ).encode("ascii") + envelope
        for att in attachments:
            yield (
                f"\r\n--{boundary}\r\nContent-Type: {att.content_type}\r\n"
                f"Content-Transfer-Encoding: binary\r\nContent-ID: <{att.content_id}>\r\n\r\n"
            ).encode("ascii")
            for chunk in att.chunks:
                if chunk:
                    yield chunk
        yield f"\r\n--{boundary}--\r\n".encode("ascii")

    return ctype, body()
