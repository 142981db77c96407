"""audit/syslog.py: RFC 5424 header fields and RFC 5425 octet counting."""

from __future__ import annotations

from datetime import datetime, timezone

from wadows.audit.syslog import BOM, frame, octet_counted


def test_header_fields_per_rfc5424_and_iti20():
    when = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=timezone.utc)
    msg = frame(b"<AuditMessage/>", app_name="wadows", hostname="node one", procid="77", when=when)
    header, _, rest = msg.partition(b" " + BOM)
    assert header == b"<85>1 2025-03-04T05:06:07.890123Z nodeone wadows 77 IHE+RFC-3881 -"
    assert rest == b"<AuditMessage/>"


def test_empty_fields_are_nil_and_long_ones_cut():
    msg = frame(b"x", app_name="a" * 60, hostname="", procid="")
    fields = msg.split(b" ")
    assert fields[2] == b"-" and fields[3] == b"a" * 48 and fields[4] == b"-"


def test_octet_counting_counts_bytes_not_characters():
    message = "<85>1 - - - - IHE+RFC-3881 - Müller".encode()
    framed = octet_counted(message)
    length, _, body = framed.partition(b" ")
    assert int(length) == len(message) == len(body) and body == message
