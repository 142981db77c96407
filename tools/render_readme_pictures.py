#!/usr/bin/env python3
"""Render the README's two pictures through the rendered operation itself (retrieve/rendered.py):
a bundled CT sample at 256 px with patient and technique annotation, plain and with Anonymize.

Usage: python tools/render_readme_pictures.py [-o docs] [--print-response]

The samples are synthetic (wadows.samples) and the de-identification key is fixed here, so the
pictures are the same on every run with the same libraries and font. --print-response prints the
response body the operation's writer makes for the anonymized one (the README's example).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from lxml import etree

from wadows.retrieve.anonymize import Anonymizers
from wadows.retrieve.model import DocumentRequest
from wadows.retrieve.rad69 import ImagingDocumentSource, SourceSettings
from wadows.retrieve.rendered import RenderedDocumentRequest, RenderedRequest, retrieve_rendered_imaging_document_set
from wadows.samples import generate_samples
from wadows.soap.responses import retrieve_rendered_response
from wadows.store.filestore import FileStore

REPOSITORY = "2.25.104010150727412930373520467207786914562"
KEY = bytes(range(32))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-o", "--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    parser.add_argument("--print-response", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "samples"
        paths = generate_samples(root)
        store = FileStore(root, Path(tmp) / "index.sqlite")
        store.refresh()
        source = ImagingDocumentSource(store, SourceSettings(frozenset({REPOSITORY})), Anonymizers(KEY))
        ct = next(i for p in paths if (i := _ct(store, p)) is not None)
        args.out.mkdir(parents=True, exist_ok=True)
        for name, anonymize in (("rendered-ct.png", None), ("rendered-ct-anonymized.png", "yes")):
            doc = DocumentRequest(ct.study_uid, ct.series_uid, REPOSITORY, ct.sop_instance_uid, anonymize=anonymize)
            request = RenderedRequest((RenderedDocumentRequest(doc, ("image/png",), annotation="patient,technique",
                                                               rows="256", columns="256"),))
            result = retrieve_rendered_imaging_document_set(source, request)
            if result.errors:
                print(f"{name}: {result.errors}", file=sys.stderr)
                return 1
            (args.out / name).write_bytes(result.documents[0].data)
            print(f"wrote {args.out / name}", file=sys.stderr)
            if anonymize and args.print_response:
                body, _ = retrieve_rendered_response(result)
                print(etree.tostring(body, pretty_print=True).decode())
    return 0


def _ct(store: FileStore, path: Path):
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    if ds.Modality != "CT" or ds.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.1":
        return None
    return store.lookup(ds.SOPInstanceUID)


if __name__ == "__main__":
    raise SystemExit(main())
