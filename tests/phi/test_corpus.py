"""The corpus plants what it claims: every Table E.1-1 row, at every level, readable, deterministic, fast."""

from __future__ import annotations

from collections import Counter

import pydicom
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
)

from .corpus import (
    BINARY,
    DATE,
    FIRST_DAY,
    LAST_DAY,
    LITERAL,
    TEXT,
    TIME,
    UID,
    UID_ROOT,
    build_corpus,
    resolve,
)


def _covers(pv, row) -> bool:
    return pv.row is row or row in pv.ancestors


def test_every_row_is_planted_at_the_top_level(corpus):
    top = [pv for pv in corpus.values if "." not in pv.path and "[" not in pv.path]
    top += [pv for pv in corpus.values if pv.ancestors and pv.path.count("[") == 1]  # a table Sequence's item
    at = {path for pv in corpus.values for _, path in pv.sites}  # (0002,0003) shares the SOP Instance UID's value
    missing = [r.tag for r in corpus.profile.rows
               if r.basic != "K" and r.tag not in at and not any(_covers(pv, r) for pv in top)]
    assert not missing


def test_every_row_that_may_nest_is_planted_one_and_two_levels_deep(corpus):
    top_only = ("(0000,", "(0002,", "(FFFA,", "(FFFC,", "(50XX", "(60XX")
    for prefix in ("(0008,1115)[0].", "(0008,1115)[0].(0008,114A)[0]."):
        here = [pv for pv in corpus.values if pv.file == "ct_explicit" and pv.path.startswith(prefix)]
        nested_rows = {a for pv in here for a in pv.ancestors} | {pv.row for pv in here}
        missing = [r.tag for r in corpus.profile.rows if not r.tag.startswith(top_only) and r not in nested_rows]
        assert not missing, prefix


def test_table_sequences_hold_planted_values_two_levels_deep(corpus):
    inner = [pv for pv in corpus.values if pv.path.startswith("(0040,0275)[1].(0008,1110)[0].")]
    assert len(inner) > 30
    assert all([a.tag for a in pv.ancestors[:2]] == ["(0040,0275)", "(0008,1110)"] for pv in inner)


def test_every_value_is_where_the_record_says(corpus):
    datasets = {name: pydicom.dcmread(o.path) for name, o in corpus.objects.items()}
    for pv in corpus.values:
        for file, path in pv.sites:
            element = resolve(datasets[file], path)
            assert element is not None, (str(pv), file, path)
            value = element.value
            if pv.kind == BINARY:
                assert value == int(pv.value), str(pv)
                continue
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            if isinstance(value, bytes) and pv.kind == LITERAL:
                text = value.decode(corpus.objects[file].charset == "ISO_IR 192" and "utf-8" or "latin-1")
            assert pv.value.upper() in text.upper(), (str(pv), file, path, text[:80])  # UR: lower case


def test_values_are_unique_and_distinctive(corpus):
    keys = Counter(pv.key for pv in corpus.values)
    assert max(keys.values()) == 1
    dates = [pv.value for pv in corpus.values if pv.kind == DATE]
    assert all(FIRST_DAY.strftime("%Y%m%d") <= d <= LAST_DAY.strftime("%Y%m%d") for d in dates)
    assert all(pv.value.startswith(UID_ROOT + ".") and len(pv.value) <= 64 for pv in corpus.values if pv.kind == UID)
    assert all(pv.value[0] == "0" for pv in corpus.values if pv.kind == TIME)
    assert sum(pv.kind == TEXT for pv in corpus.values) > 2000


def test_objects_cover_syntaxes_charsets_and_kinds(corpus):
    syntaxes = {o.transfer_syntax_uid for o in corpus.objects.values()}
    assert {ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, RLELossless} <= syntaxes
    assert {"ISO_IR 192", "ISO_IR 100"} <= {o.charset for o in corpus.objects.values()}
    mf = pydicom.dcmread(corpus.objects["mf_rle"].path)
    assert mf.NumberOfFrames == 3 and mf.pixel_array.shape == (3, 16, 16)
    sr = pydicom.dcmread(corpus.objects["sr"].path)
    assert {i.ValueType for i in sr.ContentSequence} >= {"PNAME", "DATE", "TIME", "DATETIME", "TEXT", "UIDREF",
                                                        "IMAGE", "CODE", "CONTAINER"}
    ct = pydicom.dcmread(corpus.objects["ct_explicit"].path)
    assert "Łukasiewicz" in str(ct.PatientName) and 0x60003000 in ct and 0x50003000 in ct
    for o in corpus.objects.values():
        ds = pydicom.dcmread(o.path)
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID == o.sop_instance_uid


def test_references_point_at_corpus_objects(corpus):
    for ref in corpus.references:
        ds = pydicom.dcmread(corpus.objects[ref.file].path)
        assert resolve(ds, ref.path).value == corpus.objects[ref.target].uid(ref.attribute)


def test_deterministic_for_a_seed(tmp_path):
    one = build_corpus(tmp_path / "one", seed=7)
    two = build_corpus(tmp_path / "two", seed=7)
    other = build_corpus(tmp_path / "other", seed=8)
    assert [p.read_bytes() for p in one.files()] == [p.read_bytes() for p in two.files()]
    assert {pv.value for pv in one.values}.isdisjoint({pv.value for pv in other.values if pv.kind == TEXT})
