"""A few attributes de-identified alone (deid/attributes.py) against the whole walk: every top-level
attribute the walk decides alone, of the planted-PHI corpus, the bundled samples and every Part-10
file pydicom ships, under option sets that exercise every action code, comes out as in the whole
de-identified header (the same value, or absent in both); the rendered annotation read from those
values is the one read from the whole header; the header given is left as it was."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
import pydicom.data
from pydicom.dataset import Dataset

from phi.corpus import corpus_for_tests
from wadows.deid import DeidentificationRefused, Deidentifier
from wadows.deid.attributes import deidentified_attributes, walked_alone
from wadows.render.annotate import ANNOTATION_ORDER, annotation_lines, attribute_tags
from wadows.store.header import header_and_offset

from .objects import KEY, make_ct

OPTION_SETS = ((), ("CleanDescriptorsOption", "RetainLongitudinalTemporalInformationModifiedDatesOption"),
               ("RetainUIDsOption", "RetainDeviceIdentityOption", "RetainLongitudinalTemporalInformationFullDatesOption"),
               ("CleanStructuredContentOption", "CleanGraphicsOption", "RetainPatientCharacteristicsOption",
                "RetainInstitutionIdentityOption"),
               ("RetainSafePrivateOption", "RetainPatientCharacteristicsOption"))

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def objects(tmp_path_factory, sample_store) -> list[Path]:
    root = tmp_path_factory.mktemp("attributes-objects")
    assert corpus_for_tests(root / "phi", seed=0).objects
    paths = sorted((root / "phi").rglob("*.dcm")) + sorted(Path(sample_store).rglob("*.dcm"))
    # Every Part-10 file pydicom ships (its own folder: get_testdata_files() may try the network first).
    for path in sorted(p for p in (Path(pydicom.data.__file__).parent / "test_files").rglob("*") if p.is_file()):
        with open(path, "rb") as f:
            if f.read(132)[128:] == b"DICM":
                paths.append(path)
    return paths


def _header(path: Path) -> Dataset:
    with open(path, "rb") as f:
        return header_and_offset(f)[0]


def _value(ds: Dataset, tag: int):
    elem = ds[tag]  # decoded, as a reader of either data set sees it
    return elem.VR, elem.value


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: "+".join(o) or "basic")
def test_each_attribute_as_the_whole_walk_leaves_it(objects, options):
    deid = Deidentifier(KEY, options)
    outcomes: collections.Counter[str] = collections.Counter()
    sets = ANNOTATION_ORDER
    for path in objects:
        header = _header(path)
        try:
            decided = deid.decide(header)
        except (DeidentificationRefused, Exception):
            outcomes["refused"] += 1
            continue
        if decided.reads_whole_object:
            outcomes["whole object"] += 1
            continue
        tags = [int(t) for t in header._dict if walked_alone(int(t))] + list(attribute_tags(sets))
        part = deidentified_attributes(header, decided.plan, tags)
        whole = deid.deidentify(_header(path))
        for tag in tags:
            assert (tag in part) == (tag in whole), (path.name, f"{tag:08X}")
            if tag in whole:
                assert _value(part, tag) == _value(whole, tag), (path.name, f"{tag:08X}")
        assert annotation_lines(part, sets) == annotation_lines(whole, sets), path.name
        assert header == _header(path), path.name  # left as it was read
        outcomes["compared"] += 1
        outcomes["changed"] += any(tag in header and (tag not in part or _value(part, tag) != _value(header, tag))
                                   for tag in attribute_tags(sets))
    print(f"\n{options or 'basic'}: {dict(outcomes)}")
    # Not vacuous: most objects compared, and in most of them the annotation's values did change.
    assert outcomes["compared"] > 100 and outcomes["changed"] > 0.8 * outcomes["compared"]


def test_what_the_walk_does_not_decide_alone_is_refused():
    ct = make_ct()
    plan = Deidentifier(KEY).decide(ct).plan
    for tag in (0x00091010, 0x60003000, 0x50000010, 0x00080100):
        with pytest.raises(ValueError):
            deidentified_attributes(ct, plan, [tag])


def test_the_planted_name_and_id_never_come_back():
    ct = make_ct()
    part = deidentified_attributes(ct, Deidentifier(KEY).decide(ct).plan, attribute_tags(ANNOTATION_ORDER))
    lines = " ".join(sum(annotation_lines(part, ANNOTATION_ORDER).values(), []))
    assert str(ct.PatientID) not in lines and str(ct.PatientName).split("^")[0] not in lines
    assert "PatientName" not in part or not str(part.PatientName)
