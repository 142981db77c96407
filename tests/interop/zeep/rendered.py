"""zeep client for RetrieveRenderedImagingDocumentSet (plans.py: command line and report), the service proxy
built from the served WSDL; zeep folds each xop:Include of the MTOM response back into bytes."""

from __future__ import annotations

import sys
from pathlib import Path

import zeep

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pyclient import group, report_status  # noqa: E402


def main(argv: list[str]) -> None:
    wsdl, _endpoint, outdir, anonymize, repository, rows, columns, content_type, *documents = argv
    params = {"Rows": rows, "Columns": columns, **({"Anonymize": "yes"} if anonymize == "yes" else {}),
              "ContentTypeList": {"ContentType": [content_type]}}
    client = zeep.Client(wsdl, settings=zeep.Settings(strict=True, xml_huge_tree=True))
    result = client.service.RetrieveRenderedImagingDocumentSet(StudyRequest=[
        {"studyInstanceUID": study, "SeriesRequest": [
            {"seriesInstanceUID": series, "RenderedDocumentRequest": [
                {"RepositoryUniqueId": repository, "DocumentUniqueId": sop, **params} for sop in sops]}
            for series, sops in by_series.items()]}
        for study, by_series in group(documents).items()])
    registry = result.RegistryResponse
    errors = registry.RegistryErrorList.RegistryError if registry.RegistryErrorList else []
    report_status(registry.status, [(e.errorCode, e.severity, e.location) for e in errors])
    for d in result.RenderedDocumentResponse or []:
        (Path(outdir) / d.SourceDocumentUniqueId).write_bytes(d.Document)
        print("rendered", d.SourceDocumentUniqueId, d.mimeType, d.Rows, d.Columns)


if __name__ == "__main__":
    main(sys.argv[1:])
