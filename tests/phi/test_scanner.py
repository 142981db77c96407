"""The scanner can fail: it finds planted values in every encoding an output could carry them in, and only those.
No engine needed."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import pytest

from .corpus import DATE, LITERAL, NUMBER, OPTION_COLUMNS, TEXT, TIME, UID, load_table
from .scanner import allowed_for, byte_scannable, required_for, scan_bytes, scan_dir, scan_file, scan_log


def _first(corpus, kind, **where):
    return next(pv for pv in corpus.values if pv.kind == kind and all(getattr(pv, k) == v for k, v in where.items()))


def _planted(findings):
    return {id(f.planted) for f in findings}


def test_untouched_corpus_yields_every_planted_value(corpus):
    found = set()
    for path in corpus.files():
        found |= _planted(scan_file(path, corpus))
    missing = [str(pv) for pv in corpus.values if byte_scannable(pv) and id(pv) not in found]
    assert not missing, f"{len(missing)} planted values the scanner cannot see:\n" + "\n".join(missing[:40])


def test_deflated_object_is_searched_inside_its_deflate_stream(corpus):
    obj = corpus.objects["mr_deflated"]
    data = obj.path.read_bytes()
    body = [pv for pv in corpus.values if pv.file == "mr_deflated" and pv.kind == TEXT]
    assert body and not any(pv.value.encode() in data for pv in body)  # hidden from a plain search
    findings = scan_bytes(data, corpus)
    assert {id(pv) for pv in body} <= _planted(findings)
    assert any(f.layer.startswith("inflate@") for f in findings)


def test_token_in_raw_bytes_any_case(corpus):
    pv = _first(corpus, TEXT, file="ct_explicit", path="(0020,4000)")
    for text in (pv.value, pv.value.lower(), pv.value.title()):
        findings = scan_bytes(b"\x00\x01garbage " + text.encode() + b"\xff\xfe more", corpus)
        assert [(f.planted, f.offset) for f in findings] == [(pv, 10)]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_text_dates_uids(corpus, codec):
    token = _first(corpus, TEXT, path="(0010,0010)")
    date = _first(corpus, DATE, path="(0008,0020)")
    uid = _first(corpus, UID, path="(0008,0018)")
    for odd in ("", "x"):  # both byte alignments
        data = odd.encode() + f"<n>{token.value}</n><d>{date.value}</d><u>{uid.value}</u>".encode(codec)
        assert {token, date, uid} <= {f.planted for f in scan_bytes(data, corpus)}


def test_zlib_gzip_and_raw_deflate_in_part10(corpus):
    pv = _first(corpus, TEXT, file="ct_explicit", path="(0008,103E)")
    payload = b"prefix " + pv.value.encode() + b" suffix"
    for data in (b"HTTP/1.1 200\r\n\r\n" + zlib.compress(payload), b"..." + gzip.compress(payload)):
        findings = scan_bytes(data, corpus)
        assert [f.planted for f in findings] == [pv] and findings[0].layer.startswith("inflate@")


@pytest.mark.parametrize("lead", [b"", b"a", b"ab"])
def test_base64_at_every_alignment_and_with_line_breaks(corpus, lead):
    pv = _first(corpus, TEXT, file="ct_explicit", path="(0032,4000)")
    encoded = base64.encodebytes(lead + b"Study comment " + pv.value.encode() + b" end" * 20)  # 76-col lines
    data = b'<Document xmlns="urn:ihe:iti:xds-b:2007">' + encoded + b"</Document>"
    assert pv.value.encode() not in data
    findings = scan_bytes(data, corpus)
    assert {f.planted for f in findings} == {pv}
    assert all(f.layer.startswith("base64@") for f in findings)


def test_base64_of_a_deflated_part10_file_in_an_envelope(corpus):
    data = corpus.objects["mr_deflated"].path.read_bytes()
    envelope = b'{"Document": "' + base64.b64encode(data) + b'"}'
    body = {id(pv) for pv in corpus.values if pv.file == "mr_deflated" and byte_scannable(pv)}
    findings = scan_bytes(envelope, corpus)
    assert body <= _planted(findings)
    assert any(">inflate@" in f.layer for f in findings)


def test_uid_matches_on_component_boundaries_only(corpus):
    pv = _first(corpus, UID, file="ct_explicit", path="(0008,0018)")
    longer = pv.value + "7"
    assert corpus.lookup(UID, longer) is None
    assert not scan_bytes(b"\x00" + longer.encode() + b"\x00", corpus)  # a different UID sharing the digits
    assert not scan_bytes(b"9" + pv.value.encode() + b"\x00", corpus)  # preceded by a digit: another number
    assert [f.planted for f in scan_bytes(pv.value.encode() + b"\x00", corpus)] == [pv]
    assert [f.planted for f in scan_bytes(b"1.2\\" + pv.value.encode(), corpus)] == [pv]  # second of VM 2
    # in a data set the value ends where its declared length says, whatever byte the next tag starts with
    for header in (b"UI" + len(pv.value).to_bytes(2, "little"), len(pv.value).to_bytes(4, "little")):
        assert [f.planted for f in scan_bytes(b"\x08\x00\x18\x00" + header + pv.value.encode() + b"2\x00",
                                              corpus)] == [pv]
    # an original UID embedded in a derived one still identifies
    assert [f.planted for f in scan_bytes((pv.value + ".1.1").encode(), corpus)] == [pv]
    assert [f.planted for f in scan_bytes(("2.25." + pv.value).encode(), corpus)] == [pv]


def test_dates_times_numbers_in_their_forms(corpus):
    date = _first(corpus, DATE, vr="DA")
    y, m, d = date.value[:4], date.value[4:6], date.value[6:]
    for form in (date.value, f"{y}-{m}-{d}", f"{y}.{m}.{d}", date.value + "101010.5"):
        assert [f.planted for f in scan_bytes(f'"{form}"'.encode(), corpus)] == [date], form
    assert not scan_bytes(f"2.25.{date.value}1234".encode(), corpus)  # a UID component, not a date
    time = _first(corpus, TIME)
    hh, mm, ss = time.value[:2], time.value[2:4], time.value[4:]
    for form in (time.written, time.value, f"{hh}:{mm}:{ss}"):
        assert [f.planted for f in scan_bytes(f"T{form}Z".encode(), corpus)] == [time], form
    number = _first(corpus, NUMBER)
    assert [f.planted for f in scan_bytes(b"\x00" + number.value.encode() + b"\x00", corpus)] == [number]

    assert not scan_bytes(b"9" + number.value.encode(), corpus)
    assert not scan_bytes(b"\x00" + number.value.encode() + b"7", corpus)
    assert [f.planted for f in scan_bytes(b"DS" + len(number.value).to_bytes(2, "little") + number.value.encode()
                                          + b"2\x00", corpus)] == [number]


def test_non_ascii_names_in_their_character_sets(corpus):
    for family, codecs in (("Łukasiewicz", ("utf-8", "utf-16-le")), ("Ærøskøbing", ("latin-1", "utf-8"))):
        pv = _first(corpus, LITERAL, value=family)
        for codec in codecs:
            for text in (family, family.upper()):
                assert pv in {f.planted for f in scan_bytes(b"<" + text.encode(codec) + b">", corpus)}, codec


def test_scan_dir_walks_subfolders_and_names_the_file(corpus, tmp_path):
    pv = _first(corpus, TEXT, file="ct_explicit", path="(0020,4000)")
    (tmp_path / "logs").mkdir()
    (tmp_path / "clean.txt").write_text("nothing here")
    (tmp_path / "logs" / "app.log").write_text(f"2025-01-01 INFO wrote {pv.value.lower()}\n")
    findings = scan_dir(tmp_path, corpus)
    assert [(f.planted, f.source) for f in findings] == [(pv, str(tmp_path / "logs" / "app.log"))]


def test_allowed_predicate_filters_findings(corpus):
    data = corpus.objects["ct_explicit"].path.read_bytes()
    assert scan_bytes(data, corpus)
    assert scan_bytes(data, corpus, allowed=lambda pv: True) == []


def test_finding_names_value_origin_and_place(corpus):
    pv = _first(corpus, TEXT, file="ct_explicit", path="(0020,4000)")
    (finding,) = scan_bytes(b"0123" + pv.value.encode(), corpus, source="response.xml")
    text = str(finding)
    assert pv.value in text and "ct_explicit:(0020,4000)" in text and "Image Comments" in text
    assert "response.xml @4" in text


# -- allowed_for / required_for against the table read independently ------------------------------------------

def _raw_table():
    from .corpus import table_path

    return {r["tag"]: r for r in json.loads(table_path().read_text(encoding="utf-8"))}


@pytest.mark.parametrize("option", sorted(OPTION_COLUMNS))
def test_allowed_for_top_level_follows_the_tables_option_column(corpus, option):
    raw, column = _raw_table(), OPTION_COLUMNS[option]
    allowed = allowed_for([option])
    checked = 0
    for pv in corpus.values:
        if pv.ancestors or pv.row is None or pv.row.tag.startswith(("(GGGG", "(50XX", "(60XX")):
            continue
        action = raw[pv.row.tag].get(column) if column else None
        expected = action == "K"
        if option.endswith("ModifiedDatesOption") and pv.kind == TIME and action == "C":
            expected = True  # the documented reading: a day shift leaves a time of day as it was
        assert allowed(pv) == expected, (option, str(pv))
        checked += 1
    assert checked > 600


def test_allowed_for_private_and_nesting(corpus):
    safe = next(pv for pv in corpus.values if pv.safe_private)
    unsafe_private = [pv for pv in corpus.values if pv.row and pv.row.tag.startswith("(GGGG") and not pv.safe_private]
    assert not allowed_for(())(safe) and allowed_for(["RetainSafePrivateOption"])(safe)
    assert not any(allowed_for(["RetainSafePrivateOption"])(pv) for pv in unsafe_private)
    # Request Attributes Sequence (X) > Referenced Study Sequence (K with Retain UIDs) > Referenced SOP Instance UID
    inner = next(pv for pv in corpus.values if pv.path == "(0040,0275)[1].(0008,1110)[0].(0008,1155)")
    assert not allowed_for(["RetainUIDsOption"])(inner)
    kept = next(pv for pv in corpus.values if pv.path == "(0008,1110)[0].(0008,1155)")
    assert allowed_for(["RetainUIDsOption"])(kept) and required_for(["RetainUIDsOption"])(kept)
    # D'd Content Sequence: its listed attributes follow their own rows, what the table does not list goes
    date = next(pv for pv in corpus.values if pv.path == "(0040,A730)[1].(0040,A121)")
    text = next(pv for pv in corpus.values if pv.path == "(0040,A730)[4].(0040,A160)")
    assert allowed_for([FULL])(date) and not allowed_for(())(date) and not required_for([FULL])(date)
    assert not allowed_for([FULL])(text) and not allowed_for(["CleanStructuredContentOption"])(text)
    # Sequences the table does not list are kept, so what they hold is judged by its own row
    nested = next(pv for pv in corpus.values if pv.path == "(0008,1115)[0].(0008,114A)[0].(0020,4000)")
    assert nested.ancestors == (None, None) and not allowed_for(())(nested)


FULL = "RetainLongitudinalTemporalInformationFullDatesOption"


def test_allowed_for_rejects_unknown_options():
    with pytest.raises(ValueError):
        allowed_for(["RetainEverythingOption"])


@pytest.mark.parametrize("option", sorted(OPTION_COLUMNS))
def test_required_values_are_allowed_and_not_basic(corpus, option):
    required, allowed, basic = required_for([option]), allowed_for([option]), allowed_for(())
    for pv in corpus.values:
        if required(pv):
            assert allowed(pv) and not basic(pv), str(pv)


def test_table_copy_is_the_2025b_edition():
    rows = load_table()
    assert len(rows) == 647 and all(r.basic != "K" for r in rows)


def test_a_log_line_written_at_a_planted_time_of_day_is_not_a_leak_but_its_message_still_counts(corpus):
    time = _first(corpus, TIME)
    clock = f"{time.value[:2]}:{time.value[2:4]}:{time.value[4:6]}"
    line = f"2026-12-03 {clock},123 INFO wadows.access: {{}}\n".encode()
    assert [f.planted for f in scan_bytes(line, corpus)] == [time]  # the plain scan cannot tell
    assert scan_log(line, corpus) == []
    leaked = line.replace(b"{}", f"acquired at {clock}".encode())
    assert [f.planted for f in scan_log(leaked, corpus)] == [time]
