"""What every interop client is asked to do, how it reports, and how the tests judge it.

Each client under tests/interop/<toolkit>/ is a small program with the same command line::

    <client> WSDL_URL ENDPOINT OUTDIR ANONYMIZE(yes|no) REPOSITORY TRANSFER_SYNTAX STUDY/SERIES/SOP...

It sends ONE RetrieveImagingDocumentSet request for all the documents (ANONYMIZE=yes puts
wado:Anonymize on each DocumentRequest), writes every returned document to OUTDIR/<DocumentUniqueId>
exactly as its toolkit handed it over, and prints what the toolkit surfaced, one fact a line::

    status <RegistryResponse/@status>
    error <errorCode> <severity> <location>
    document <DocumentUniqueId> <mimeType>

so the tests below can judge a Java, C, JavaScript or Python client with the same code.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

import pydicom

from conftest import REPO, Instance
from support.needs import unavailable

# ITI TF-3 §4.2.4.1: PartialSuccess is IHE's own status, not one of ebRS's.
PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
SEVERITY_ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
UNKNOWN_SOP = "2.25.999999999999999999999999999999999999"  # a valid UID the store does not hold
BUILD_ROOT = REPO / "build" / "interop"


class Asks(Protocol):
    """What a client is asked (Plan here, RenderedPlan and DocInfoPlan in plans.py): its command line."""

    def argv(self, wsdl: str, endpoint: str, outdir: Path, anonymize: bool) -> list[str]: ...


@dataclass(frozen=True)
class Plan:
    """One multi-document request: documents from several series, plus one the store does not hold."""

    repository: str
    documents: tuple[Instance, ...]
    missing: tuple[str, str, str]  # study, series, SOP Instance UID
    transfer_syntax: str = EXPLICIT_LE

    def argv(self, wsdl: str, endpoint: str, outdir: Path, anonymize: bool) -> list[str]:
        docs = [f"{d.study}/{d.series}/{d.sop}" for d in self.documents] + ["/".join(self.missing)]
        return [wsdl, endpoint, str(outdir), "yes" if anonymize else "no", self.repository, self.transfer_syntax, *docs]


def plan_for(instances: Sequence[Instance], repository: str) -> Plan:
    """Every object stored in Explicit VR Little Endian (two series of two studies in the sample set), so
    the server returns the files untouched and byte-for-byte comparison is meaningful; the unknown UID is
    placed in the last series, so the request is a PartialSuccess."""
    chosen = tuple(i for i in instances if i.transfer_syntax == EXPLICIT_LE)
    assert len({i.series for i in chosen}) >= 2, "the sample set should store two series in Explicit VR LE"
    last = chosen[-1]
    return Plan(repository, chosen, (last.study, last.series, UNKNOWN_SOP))


@dataclass
class Outcome:
    status: str = ""
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # errorCode, severity, location
    documents: list[tuple[str, str]] = field(default_factory=list)  # DocumentUniqueId, mimeType
    rendered: list[tuple[str, str, str, str]] = field(default_factory=list)  # SourceDocumentUniqueId, mime, rows, cols
    answers: list[tuple[str, int, str, str]] = field(default_factory=list)  # DocumentUniqueId, XPath no., kind, value
    outdir: Path = Path()
    stderr: str = ""

    def data(self, uid: str) -> bytes:
        return (self.outdir / uid).read_bytes()


def parse_report(stdout: str) -> Outcome:
    out = Outcome()
    for line in stdout.splitlines():
        kind, _, rest = line.strip().partition(" ")
        if kind == "status":
            out.status = rest.strip()
        elif kind == "error":
            code, severity, location = (rest.split() + ["", "", ""])[:3]
            out.errors.append((code, severity, location))
        elif kind == "document":
            uid, mime = (rest.split() + ["", ""])[:2]
            out.documents.append((uid, mime))
        elif kind == "rendered":
            uid, mime, rows, cols = (rest.split() + ["", "", "", ""])[:4]
            out.rendered.append((uid, mime, rows, cols))
        elif kind == "xpath":
            uid, number, what, value = (rest.split(" ", 3) + ["", "", "", ""])[:4]
            out.answers.append((uid, int(number), what, value))
    return out


def run_client(command: Sequence[str], plan: Asks, wsdl: str, endpoint: str, outdir: Path, *, anonymize: bool,
               env: dict[str, str] | None = None, timeout: int = 120) -> Outcome:
    outdir.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([*command, *plan.argv(wsdl, endpoint, outdir, anonymize)], capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, **(env or {})})
    assert run.returncode == 0, f"client failed ({run.returncode}):\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}"
    outcome = parse_report(run.stdout)
    outcome.outdir, outcome.stderr = outdir, run.stderr
    return outcome


def check_retrieved(outcome: Outcome, plan: Plan) -> None:
    """Every stored document back, in request order, byte for byte; the unknown one reported as the
    README promises (XDSDocumentUniqueIdError at the UID as sent); PartialSuccess."""
    assert outcome.status == PARTIAL_SUCCESS, outcome
    assert outcome.errors == [("XDSDocumentUniqueIdError", SEVERITY_ERROR, plan.missing[2])]
    assert [uid for uid, _ in outcome.documents] == [d.sop for d in plan.documents]
    assert {mime for _, mime in outcome.documents} == {"application/dicom"}
    for doc in plan.documents:
        got = outcome.data(doc.sop)
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(doc.path.read_bytes()).hexdigest(), doc.path


def check_anonymized(outcome: Outcome, plan: Plan) -> None:
    """De-identified objects (PS3.15 Annex E): PatientIdentityRemoved YES, a new SOP Instance UID that is
    the DocumentUniqueId the response names (PS3.18 §8.1.7), in request order; the unknown UID still
    reported at the UID as sent."""
    assert outcome.status == PARTIAL_SUCCESS, outcome
    assert outcome.errors == [("XDSDocumentUniqueIdError", SEVERITY_ERROR, plan.missing[2])]
    assert len(outcome.documents) == len(plan.documents)
    for (uid, mime), doc in zip(outcome.documents, plan.documents):
        ds = pydicom.dcmread(io.BytesIO(outcome.data(uid)))
        assert mime == "application/dicom"
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.SOPInstanceUID == uid != doc.sop
        assert ds.StudyInstanceUID != doc.study and ds.SeriesInstanceUID != doc.series


# -- toolkits and builds -------------------------------------------------------------------------------


def require(tools: dict[str, str | None], how: str) -> dict[str, str]:
    """The tools' paths; a missing one skips the test with how to install it (fails when CI=true)."""
    missing = [name for name, path in tools.items() if not path or not Path(path).exists()]
    if missing:
        reason = f"{', '.join(missing)} not found; install with: {how}"
        unavailable(reason)
    return tools  # type: ignore[return-value]


def which(*names: str) -> dict[str, str | None]:
    return {n: shutil.which(n) for n in names}


def digest(*parts: bytes | Path) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.read_bytes() if isinstance(part, Path) else part
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()[:24]


def cached_build(toolkit: str, key: str, build: Callable[[Path], None]) -> Path:
    """``build/interop/<toolkit>/<key>/``, built by ``build(tmpdir)`` only when absent.

    The key covers every input (the WSDL and schemas as served, client sources, build script), so a
    warm run reuses the compiled client and a change to any input rebuilds it. The build happens in a
    scratch folder renamed into place at the end, so an interrupted build never looks finished.
    """
    final = BUILD_ROOT / toolkit / key
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
    try:
        build(scratch)
        for stale in final.parent.iterdir():  # keep one build per toolkit
            if stale.is_dir() and not stale.name.startswith("."):
                shutil.rmtree(stale, ignore_errors=True)
        scratch.rename(final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def run_build(argv: Sequence[str], cwd: Path | None = None, timeout: int = 300) -> None:
    run = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, cwd=cwd)
    assert run.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
