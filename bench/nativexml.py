"""How long the PS3.19 Native DICOM Model of one header takes (issue 13: every answer of
RetrieveImagingDocumentSetInformation starts with one), and one XPath on it.

Inputs: pydicom's CT_small.dcm (a plain CT header, ~260 attributes); the largest multi-frame file
pydicom-data ships, read whole (its Pixel Data is only referenced); and a generated Enhanced CT-like
header with 1000 frames of Per-frame Functional Groups (the header that grows with the frame count,
three nested sequences per frame). Each is rendered once untimed and checked (attribute count, Pixel
Data as BulkData, the namespace), then timed as the median of --repeat runs.

    python bench/nativexml.py [--repeat N] [--frames N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import pydicom
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataset import Dataset

from wadows.dicom.nativexml import NAMESPACE, to_native_xml, to_native_xml_bytes
from wadows.retrieve.xpath import evaluate

N = {"n": NAMESPACE}


def functional_groups_header(frames: int) -> Dataset:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"), stop_before_pixels=True)
    ds.NumberOfFrames = frames
    per_frame = []
    for k in range(frames):
        item = Dataset()
        position, content, measures = Dataset(), Dataset(), Dataset()
        position.ImagePositionPatient = [-125.0, -125.0, -50.0 + 0.625 * k]
        content.FrameAcquisitionNumber = k + 1
        content.DimensionIndexValues = [1, k + 1]
        content.FrameAcquisitionDateTime = "20240701091500.000000"
        measures.PixelSpacing = [0.488281, 0.488281]
        measures.SliceThickness = 0.625
        item.PlanePositionSequence = [position]
        item.FrameContentSequence = [content]
        item.PixelMeasuresSequence = [measures]
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    return ds


def largest_multiframe() -> tuple[str, Dataset] | None:
    best = None
    for path in get_testdata_files():
        if not os.path.isfile(path) or "data_store" not in path:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path)
            except Exception:  # noqa: BLE001 - not a candidate
                continue
        if int(ds.get("NumberOfFrames", 1) or 1) > 1 and (best is None or os.path.getsize(path) > best[0]):
            best = (os.path.getsize(path), path, ds)
    return None if best is None else (os.path.basename(best[1]), best[2])


def check(ds: Dataset, root) -> int:
    attributes = len(root.xpath("//n:DicomAttribute", namespaces=N))
    assert root.nsmap[None] == NAMESPACE and attributes > 0
    if "PixelData" in ds:
        assert root.xpath("n:DicomAttribute[@tag='7FE00010']/n:BulkData", namespaces=N)
    return attributes


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--frames", type=int, default=1000)
    args = parser.parse_args()
    inputs = [("CT_small.dcm", pydicom.dcmread(get_testdata_file("CT_small.dcm")))]
    multi = largest_multiframe()
    if multi:
        inputs.append(multi)
    inputs.append((f"functional groups x{args.frames}", functional_groups_header(args.frames)))
    print(f"{'input':34} {'attributes':>10} {'XML bytes':>10} {'to_native_xml ms':>17} {'+bytes ms':>10} {'XPath ms':>9}")
    xpath = "//DicomAttribute[@keyword='PatientName']//FamilyName/text()"
    for name, ds in inputs:
        root = to_native_xml(ds)
        attributes = check(ds, root)
        assert evaluate(root, xpath)
        size = len(to_native_xml_bytes(ds))
        build = timed(lambda: to_native_xml(ds), args.repeat)
        with_bytes = timed(lambda: to_native_xml_bytes(ds), args.repeat)
        query = timed(lambda: evaluate(root, xpath), args.repeat)
        print(f"{name:34} {attributes:>10} {size:>10} {build:>17.2f} {with_bytes:>10.2f} {query:>9.2f}")


if __name__ == "__main__":
    main()
