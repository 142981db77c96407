"""Every Part-10 file of the corpus renders to a document the PS3.19 schema accepts, checked in
process by lxml (RELAX NG from trang) and out of process by jing on the .rnc itself."""

from __future__ import annotations

import subprocess

import pytest

from support.needs import need_tool
from wadows.dicom.nativexml import to_native_xml, to_native_xml_bytes

from .corpus import corpus
from .schema import schemas, uses_newer_vr


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    return schemas(tmp_path_factory.mktemp("ps319"))


def test_every_corpus_file_is_valid_native_dicom(compiled, capsys):
    c = corpus()
    invalid, strict_checked = [], 0
    for path, ds in c.read:
        root = to_native_xml(ds)
        schema = compiled.current
        if not uses_newer_vr(root):
            schema, strict_checked = compiled.strict, strict_checked + 1
        if not schema.validate(root):
            invalid.append((path.name, str(schema.error_log.last_error)))
    with capsys.disabled():
        print(f"\nPS3.19 schema (lxml): {len(c.read)} files valid-checked ({strict_checked} against the "
              f"edition as published, {len(c.read) - strict_checked} with the newer VRs); "
              f"{len(c.unreadable)} unreadable by pydicom: {[p.name for p, _ in c.unreadable]}; "
              f"{c.not_part10} entries of pydicom's list are not Part-10 files")
    assert not invalid, invalid
    assert len(c.read) >= 200, "the corpus shrank: is pydicom-data installed?"


def test_an_invalid_document_is_refused_by_the_schema(compiled):
    """The check can fail: a lower-case tag and a Value without a number are rejected."""
    from lxml import etree
    _, ds = corpus().read[0]
    root = to_native_xml(ds)
    attr = root[0]
    attr.set("tag", attr.get("tag").lower() + "x")
    assert not compiled.current.validate(root)
    root = to_native_xml(ds)
    value = next(root.iter("{*}Value"))
    del value.attrib["number"]
    assert not compiled.current.validate(root)
    assert etree.QName(root).namespace == "http://dicom.nema.org/PS3.19/models/NativeDICOM"


@pytest.mark.slow
@pytest.mark.tools
def test_jing_accepts_every_corpus_file(compiled, tmp_path, capsys):
    jing = need_tool("jing", "jing")
    c = corpus()
    files = {"strict": [], "current": []}
    for i, (path, ds) in enumerate(c.read):
        out = tmp_path / f"{i:03d}-{path.stem}.xml"
        data = to_native_xml_bytes(ds)
        out.write_bytes(data)
        files["current" if uses_newer_vr(to_native_xml(ds)) else "strict"].append(out)
    for name, rnc in (("strict", compiled.strict_rnc), ("current", compiled.current_rnc)):
        if not files[name]:
            continue
        done = subprocess.run([jing, "-c", str(rnc), *map(str, files[name])], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[:4000] + done.stderr[:2000]
    # jing reports an invalid document: the check can fail.
    bad = tmp_path / "bad.xml"
    bad.write_bytes(to_native_xml_bytes(c.read[0][1]).replace(b'tag="', b'tag="x', 1))
    refused = subprocess.run([jing, "-c", str(compiled.current_rnc), str(bad)], capture_output=True, text=True)
    assert refused.returncode != 0 and "bad.xml" in refused.stdout
    with capsys.disabled():
        print(f"\nPS3.19 schema (jing): {len(files['strict'])} strict + {len(files['current'])} current valid")
