"""RetrieveRenderedImagingDocumentSet on the wire (raw SOAP), and a store of real objects to render:
pydicom's bundled test files plus a presentation state written for one of them."""

from __future__ import annotations

import copy
import shutil
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pydicom
from lxml import etree
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian

from support.rad69 import NS, SOAP12, Response, parse_response

ACTION = "urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSet"
RESPONSE_ACTION = "urn:dicom:wado:ws:2011:RetrieveRenderedImagingDocumentSetResponse"
GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
GSPS_UID = "2.25.77701"
GSPS_SERIES = "2.25.77702"
# Real objects of each kind the operation meets: CT and MR grayscale, RGB, multi-frame, a non-image
# object, ultrasound (which may carry burned-in text), JPEG 2000.
FILES = ("CT_small.dcm", "MR_small.dcm", "SC_rgb.dcm", "emri_small.dcm", "rtplan.dcm", "US1_J2KR.dcm")


@dataclass(frozen=True)
class Obj:
    study: str
    series: str
    sop: str
    path: Path


def read(path: Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def build_store(root: Path) -> dict[str, Obj]:
    """The bundled files under ``root``, and a GSPS for CT_small (window 40/400, in its own series)."""
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in FILES:
        dst = root / name
        shutil.copy(get_testdata_file(name), dst)
        ds = read(dst)
        out[name] = Obj(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, dst)
    ct = read(root / "CT_small.dcm")
    burned = burned_in(ct)
    burned.save_as(root / "burned.dcm", enforce_file_format=True)
    out["burned"] = Obj(burned.StudyInstanceUID, burned.SeriesInstanceUID, burned.SOPInstanceUID, root / "burned.dcm")
    ps = presentation_state(ct)
    ps.save_as(root / "gsps.dcm", enforce_file_format=True)
    out["gsps"] = Obj(ps.StudyInstanceUID, ps.SeriesInstanceUID, ps.SOPInstanceUID, root / "gsps.dcm")
    return out


BURNED_MANUFACTURER = "WADOWS TEST ECHO"
# A rule for the object below (the legacy {match, regions} form of deid/pixels.py): its top 16 rows.
PIXEL_RULES = {"rules": [{"name": "wadows test banner", "match": {"Manufacturer": BURNED_MANUFACTURER},
                          "regions": [[0, 0, 128, 16]]}]}


def burned_in(ct: Dataset) -> Dataset:
    """CT_small with a bright banner in its top rows, declared Burned In Annotation YES: blanked by
    PIXEL_RULES when anonymized, refused (0001) under rules that do not know it."""
    import numpy as np

    ds = copy.deepcopy(ct)
    ds.SOPInstanceUID = "2.25.77703"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Manufacturer = BURNED_MANUFACTURER
    ds.BurnedInAnnotation = "YES"
    arr = ct.pixel_array.copy()
    arr[2:14, 8:120] = arr.max()
    ds.PixelData = arr.tobytes()
    return ds


def presentation_state(image: Dataset, uid: str = GSPS_UID) -> Dataset:
    """A GSPS for ``image``: its Modality LUT, window 40/400, identity Presentation LUT (PS3.3 A.33.1)."""
    ps = Dataset()
    ps.SOPClassUID = GSPS
    ps.SOPInstanceUID = uid
    ps.StudyInstanceUID = image.StudyInstanceUID
    ps.SeriesInstanceUID = GSPS_SERIES
    ps.Modality = "PR"
    ps.PatientName = image.PatientName
    ps.PatientID = image.PatientID
    ps.ContentLabel = "WINDOW"
    ref = Dataset()
    ref.ReferencedSOPClassUID = image.SOPClassUID
    ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    series = Dataset()
    series.SeriesInstanceUID = image.SeriesInstanceUID
    series.ReferencedImageSequence = DicomSequence([ref])
    ps.ReferencedSeriesSequence = DicomSequence([series])
    ps.RescaleSlope, ps.RescaleIntercept, ps.RescaleType = image.RescaleSlope, image.RescaleIntercept, "HU"
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = 40, 400
    ps.SoftcopyVOILUTSequence = DicomSequence([voi])
    ps.PresentationLUTShape = "IDENTITY"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = GSPS
    meta.MediaStorageSOPInstanceUID = uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ps.file_meta = meta
    return ps


@dataclass(frozen=True)
class RDoc:
    study: str
    series: str
    sop: str
    repository: str
    params: dict[str, str] = field(default_factory=dict)  # element name -> text (Region: "x1,y1,x2,y2")
    content_types: Sequence[str] = ("image/png",)
    region_children: tuple[str, str, str, str] | None = None  # XMin, YMin, XMax, YMax
    # Raw elements placed after the named child ("DocumentUniqueId", a parameter, "ContentTypeList"):
    # what a vendor or a later edition adds.
    extra: dict[str, str] = field(default_factory=dict)


_ORDER = ("Annotation", "Rows", "Columns", "Region", "WindowWidth", "WindowCenter", "ImageQuality",
          "PresentationUID", "PresentationSeriesUID", "Anonymize", "FrameNumber")


def rendered_body(docs: Sequence[RDoc]) -> str:
    studies: dict[str, dict[str, list[RDoc]]] = {}
    for d in docs:
        studies.setdefault(d.study, {}).setdefault(d.series, []).append(d)
    out = [f'<wado:RetrieveRenderedImagingDocumentSetRequest xmlns:wado="{NS["wado"]}" xmlns:ihe="{NS["ihe"]}">']
    for study, series in studies.items():
        out.append(f'<wado:StudyRequest studyInstanceUID="{study}">')
        for s, ds in series.items():
            out.append(f'<wado:SeriesRequest seriesInstanceUID="{s}">')
            for d in ds:
                out.append(f"<wado:RenderedDocumentRequest><ihe:RepositoryUniqueId>{d.repository}</ihe:RepositoryUniqueId>"
                           f"<ihe:DocumentUniqueId>{d.sop}</ihe:DocumentUniqueId>{d.extra.get('DocumentUniqueId', '')}")
                for name in _ORDER:
                    if name == "Region" and d.region_children is not None:
                        x1, y1, x2, y2 = d.region_children
                        out.append(f"<wado:Region><wado:XMin>{x1}</wado:XMin><wado:YMin>{y1}</wado:YMin>"
                                   f"<wado:XMax>{x2}</wado:XMax><wado:YMax>{y2}</wado:YMax></wado:Region>")
                    elif name in d.params:
                        out.append(f"<wado:{name}>{d.params[name]}</wado:{name}>")
                    out.append(d.extra.get(name, ""))
                out.append("<wado:ContentTypeList>" + "".join(f"<wado:ContentType>{c}</wado:ContentType>"
                                                              for c in d.content_types) + "</wado:ContentTypeList>")
                out.append(d.extra.get("ContentTypeList", ""))
                out.append("</wado:RenderedDocumentRequest>")
            out.append("</wado:SeriesRequest>")
        out.append("</wado:StudyRequest>")
    out.append("</wado:RetrieveRenderedImagingDocumentSetRequest>")
    return "".join(out)


def rendered_xml(docs: Sequence[RDoc], *, action: str | None = ACTION, message_id: str | None = None) -> bytes:
    header = f'<wsa:Action env:mustUnderstand="true">{action}</wsa:Action>' if action else ""
    header += f"<wsa:MessageID>{message_id or f'urn:uuid:{uuid.uuid4()}'}</wsa:MessageID>"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="{SOAP12}" xmlns:wsa="{NS["wsa"]}">'
            f"<env:Header>{header}</env:Header><env:Body>{rendered_body(docs)}</env:Body></env:Envelope>").encode()


@dataclass
class Rendered:
    source_uid: str
    mime_type: str
    fields: dict[str, str]
    data: bytes
    content_type: str  # of the MIME part


def rendered_documents(resp: Response) -> list[Rendered]:
    out = []
    for dr in resp.envelope.iterfind(".//wado:RenderedDocumentResponse", NS):
        cid = dr.find("ihe:Document/xop:Include", NS).get("href")[4:]
        fields = {etree.QName(c).localname: (c.text or "") for c in dr
                  if etree.QName(c).namespace == NS["wado"] and etree.QName(c).localname != "SourceDocumentUniqueId"}
        out.append(Rendered(dr.findtext("wado:SourceDocumentUniqueId", namespaces=NS),
                            dr.findtext("ihe:mimeType", namespaces=NS), fields, resp.parts[cid], resp.part_types[cid]))
    return out


__all__ = ["ACTION", "FILES", "Obj", "RDoc", "Rendered", "build_store", "parse_response", "read",
           "rendered_documents", "rendered_xml"]
