"""The two WADO-WS operations beyond RAD-69, asked by the interop clients with the command lines below, and
how the tests judge what each toolkit surfaced (harness.py: the report lines, run_client).

RetrieveRenderedImagingDocumentSet (PS3.18 §6.4.2)::

    <client> WSDL ENDPOINT OUTDIR ANONYMIZE REPOSITORY ROWS COLUMNS CONTENT_TYPE STUDY/SERIES/SOP...

writes each image as OUTDIR/<SourceDocumentUniqueId> and reports ``rendered <SourceDocumentUniqueId>
<mimeType> <Rows> <Columns>`` after the status and error lines.

RetrieveImagingDocumentSetInformation (PS3.18 §6.4.3)::

    <client> WSDL ENDPOINT OUTDIR ANONYMIZE REPOSITORY N XPATH1 .. XPATHN STUDY/SERIES/SOP...

reports ``document <DocumentUniqueId> -`` per answered document, then one ``xpath <DocumentUniqueId> <k>
text <value>`` or ``xpath <DocumentUniqueId> <k> element <local name> <tag>`` per item of the k-th answer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pydicom
from PIL import Image

from conftest import Instance
from interop.harness import PARTIAL_SUCCESS, SEVERITY_ERROR, UNKNOWN_SOP, Outcome, Plan
from wadows.render import RenderRequest, render


def _uids(documents: tuple[Instance, ...], missing: tuple[str, str, str]) -> list[str]:
    return [f"{d.study}/{d.series}/{d.sop}" for d in documents] + ["/".join(missing)]


def _unknown_reported(outcome: Outcome, missing: tuple[str, str, str]) -> None:
    """The unknown SOP Instance UID is that document's RegistryError (README: XDSDocumentUniqueIdError at
    the UID as sent), the others answered: PartialSuccess."""
    assert outcome.status == PARTIAL_SUCCESS, outcome
    assert outcome.errors == [("XDSDocumentUniqueIdError", SEVERITY_ERROR, missing[2])], outcome.errors


@dataclass(frozen=True)
class RenderedPlan:
    """The single-frame documents of the RAD-69 plan (a multi-frame one would need FrameNumber) scaled to
    ROWS x COLUMNS as JPEG, plus an unknown UID in their last series."""

    repository: str
    documents: tuple[Instance, ...]
    missing: tuple[str, str, str]
    rows: int = 64
    columns: int = 64
    content_type: str = "image/jpeg"

    def argv(self, wsdl: str, endpoint: str, outdir, anonymize: bool) -> list[str]:
        return [wsdl, endpoint, str(outdir), "yes" if anonymize else "no", self.repository, str(self.rows),
                str(self.columns), self.content_type, *_uids(self.documents, self.missing)]


def rendered_plan(plan: Plan) -> RenderedPlan:
    single = tuple(d for d in plan.documents if int(pydicom.dcmread(d.path, stop_before_pixels=True)
                                                    .get("NumberOfFrames", 1) or 1) == 1)
    assert single, "the RAD-69 plan should hold single-frame images"
    return RenderedPlan(plan.repository, single, (single[-1].study, single[-1].series, UNKNOWN_SOP))


def check_rendered(outcome: Outcome, plan: RenderedPlan, *, anonymize: bool, status_bound: bool = True) -> None:
    """Each returned MTOM part decodes (Pillow) as a JPEG of ROWS x COLUMNS, in request order, with the
    Rows/Columns applied echoed (PS3.18 §6.4.2.2); identified, it is the image of the document asked (its
    pixels those of the same rendering made here); anonymized, SourceDocumentUniqueId is a new UID.

    ``status_bound=False``: a client whose schema names the status block wado:RegistryResponse (dcm4che's)
    binds none from the rs:RegistryResponse wadows sends, so it reports no status and no error (README,
    Interoperability); the day it does, this fails and the README is to be changed."""
    if status_bound:
        _unknown_reported(outcome, plan.missing)
    else:
        assert (outcome.status, outcome.errors) == ("-", []), outcome
    assert len(outcome.rendered) == len(plan.documents), outcome.rendered
    for (uid, mime, rows, cols), doc in zip(outcome.rendered, plan.documents):
        assert (mime, rows, cols) == (plan.content_type, str(plan.rows), str(plan.columns))
        image = Image.open(io.BytesIO(outcome.data(uid)))
        assert image.format == "JPEG" and image.size == (plan.columns, plan.rows)
        if anonymize:
            assert uid != doc.sop and uid not in {d.sop for d in plan.documents}
            continue
        assert uid == doc.sop
        direct = render(pydicom.dcmread(doc.path), RenderRequest((plan.content_type,), rows=plan.rows,
                                                                 columns=plan.columns))
        expected = np.asarray(Image.open(io.BytesIO(direct.data)), dtype=np.int16)
        assert np.abs(np.asarray(image, dtype=np.int16) - expected).max() <= 2, uid


# XPaths whose answers pydicom gives for the same object (PS3.19 Native DICOM Model, README's XPath rules).
XPATHS = (
    "string(//DicomAttribute[@keyword='Modality']/Value)",
    "//DicomAttribute[@keyword='Rows']/Value/text()",
    "//DicomAttribute[@keyword='ImageType']/Value/text()",
    "//DicomAttribute[@keyword='PatientName']/PersonName/Alphabetic/FamilyName/text()",
    "string(//DicomAttribute[@keyword='SeriesInstanceUID']/Value)",
    "//DicomAttribute[@keyword='SOPInstanceUID']",
)


@dataclass(frozen=True)
class DocInfoPlan:
    repository: str
    documents: tuple[Instance, ...]
    missing: tuple[str, str, str]
    xpaths: tuple[str, ...] = XPATHS

    def argv(self, wsdl: str, endpoint: str, outdir, anonymize: bool) -> list[str]:
        return [wsdl, endpoint, str(outdir), "yes" if anonymize else "no", self.repository, str(len(self.xpaths)),
                *self.xpaths, *_uids(self.documents, self.missing)]


def docinfo_plan(plan: Plan) -> DocInfoPlan:
    return DocInfoPlan(plan.repository, plan.documents, plan.missing)


def check_docinfo(outcome: Outcome, plan: DocInfoPlan, *, anonymize: bool) -> None:
    """Every stored document answered in request order, each XPath's items as pydicom reads the served file;
    anonymized, the identifying answers are not the stored ones (new UIDs, no stored family name)."""
    _unknown_reported(outcome, plan.missing)
    uids = [uid for uid, _ in outcome.documents]
    assert len(uids) == len(plan.documents)
    for uid, doc in zip(uids, plan.documents):
        ds = pydicom.dcmread(doc.path, stop_before_pixels=True)
        got = {k: [(what, value) for u, n, what, value in outcome.answers if u == uid and n == k]
               for k in range(1, len(plan.xpaths) + 1)}
        assert got[1] == [("text", ds.Modality)]
        assert got[2] == [("text", str(ds.Rows))]
        assert got[3] == [("text", v) for v in ds.ImageType]
        assert got[6] == [("element", "DicomAttribute 00080018")]
        if anonymize:
            assert uid != doc.sop and got[5] != [("text", doc.series)]
            assert got[4] != [("text", ds.PatientName.family_name)]
        else:
            assert uid == doc.sop and got[5] == [("text", doc.series)]
            assert got[4] == [("text", ds.PatientName.family_name)]
