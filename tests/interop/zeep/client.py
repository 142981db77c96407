"""zeep client: the service proxy built from the served WSDL, nothing configured by hand.

zeep sends plain SOAP 1.2 (it has no MTOM writer), adds WS-Addressing headers on its own because the WSDL
names wsam/wsaw:Action, and folds the MTOM response's xop:Include parts back into bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import zeep

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pyclient import parse_args, report  # noqa: E402


def main(argv: list[str]) -> None:
    req = parse_args(argv)
    client = zeep.Client(req.wsdl, settings=zeep.Settings(strict=True, xml_huge_tree=True))
    result = client.service.RetrieveImagingDocumentSet(
        StudyRequest=req.study_requests(),
        TransferSyntaxUIDList={"TransferSyntaxUID": [req.transfer_syntax]})
    registry = result.RegistryResponse
    errors = registry.RegistryErrorList.RegistryError if registry.RegistryErrorList else []
    report(req.outdir, registry.status, [(e.errorCode, e.severity, e.location) for e in errors],
           [(d.DocumentUniqueId, d.mimeType, d.Document) for d in result.DocumentResponse])


if __name__ == "__main__":
    main(sys.argv[1:])
