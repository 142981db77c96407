"""Writes the example requests the README uses with curl, from the bundled sample set.

Run again after `wadows samples` changes: `python samples/requests/make_requests.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pydicom

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))
from support.rad69 import Doc, as_mtom, request_xml  # noqa: E402
from support.rendered import RDoc, rendered_xml  # noqa: E402

from wadows.config import load_config  # noqa: E402

EXPLICIT_LE = "1.2.840.10008.1.2.1"


def main() -> None:
    repo = load_config(None).source.repository_unique_id
    files = sorted((HERE.parent / "dicom").rglob("*.dcm"))
    metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    ct = [m for m in metas if m.Modality == "CT"][:2]
    docs = [Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo) for m in ct]
    xml = request_xml(docs, [EXPLICIT_LE], message_id="urn:uuid:0f6b7d3e-3c55-4a3b-9d3e-6a0d7c8e1f00")
    (HERE / "rad69-plain.xml").write_bytes(xml)
    ctype, body = as_mtom(xml)
    (HERE / "rad69-mtom.txt").write_bytes(body)
    (HERE / "rad69-mtom.content-type").write_text(ctype + "\n")
    first = ct[0]
    rendered = rendered_xml([RDoc(first.StudyInstanceUID, first.SeriesInstanceUID, first.SOPInstanceUID, repo,
                                  {"Annotation": "patient,technique", "Rows": "256", "Columns": "256",
                                   "Anonymize": "yes"}, ("image/png", "image/jpeg"))],
                            message_id="urn:uuid:6a1f3c2e-8b7d-4e0f-9a25-3c4d5e6f7a80")
    (HERE / "rendered-plain.xml").write_bytes(rendered)


if __name__ == "__main__":
    main()
