"""The command line and the report shared by the Python interop clients (zeep/, suds/); harness.py
describes both. Kept apart from the clients so each client file is only what its toolkit needs."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable


@dataclass
class Request:
    wsdl: str
    endpoint: str
    outdir: Path
    anonymize: bool
    repository: str
    transfer_syntax: str
    studies: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # study -> series -> SOP UIDs


    def study_requests(self, attribute_prefix: str = "") -> list[dict]:
        """The StudyRequest list as nested dicts, the shape both zeep and suds accept for the request type
        (suds marks XML attributes with a leading underscore)."""
        anonymize = {"Anonymize": "yes"} if self.anonymize else {}
        return [{f"{attribute_prefix}studyInstanceUID": study, "SeriesRequest": [
            {f"{attribute_prefix}seriesInstanceUID": series, "DocumentRequest": [
                {"RepositoryUniqueId": self.repository, "DocumentUniqueId": sop, **anonymize} for sop in sops]}
            for series, sops in by_series.items()]}
            for study, by_series in self.studies.items()]


def group(documents: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """STUDY/SERIES/SOP arguments as study -> series -> SOP UIDs, request order kept."""
    studies: dict[str, dict[str, list[str]]] = {}
    for doc in documents:
        study, series, sop = doc.split("/")
        studies.setdefault(study, {}).setdefault(series, []).append(sop)
    return studies


def parse_args(argv: list[str]) -> Request:
    wsdl, endpoint, outdir, anonymize, repository, transfer_syntax, *documents = argv
    return Request(wsdl, endpoint, Path(outdir), anonymize == "yes", repository, transfer_syntax, group(documents))


def report_status(status: str, errors: Iterable[tuple[str, str, str]]) -> None:
    print("status", status)
    for code, severity, location in errors:
        print("error", code, severity, location)


def report(outdir: Path, status: str, errors: Iterable[tuple[str, str, str]],
           documents: Iterable[tuple[str, str, bytes]]) -> None:
    report_status(status, errors)
    for uid, mime, data in documents:
        (outdir / uid).write_bytes(data)
        print("document", uid, mime)
    sys.stdout.flush()
