"""How long the three hot paths that parse element headers from bytes take, in-process: the header
reader (dicom/reader.py, every header the server reads), the byte-level de-identifier
(deid/rewrite.py, every anonymized header) and the Native DICOM Model written from Part-10 bytes
(dicom/nativexml.py to_native_xml_from_part10, every anonymized metadata answer; "model": the
Native DICOM Model of a stored header, whose sequences it reads from their bytes, every other one).

Inputs: a generated 200-instance CT study (wadows.samples.generate_ct_study) and every Part-10 file
pydicom ships (pydicom.data.get_testdata_files()). Each path runs once over all the headers it
takes, untimed, then --repeat times; printed is the sum of each header's best time (CPU time of this
process), in microseconds per header.

``--against DIR`` times a second copy of the package too (DIR: another checkout's service/wadows,
imported under another name), in the same process, header by header in turn, so the machine's other
load falls on both alike; then this checkout's sum of best times over the other's, and the median
of the runs' ratios.

    python bench/element_headers.py [--repeat N] [--against ../main/service/wadows]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import statistics
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

from pydicom.data import get_testdata_files

import wadows
from wadows.samples import generate_ct_study

KEY = b"element-headers-bench-key-0123456"


def _inputs(root: Path) -> dict[str, list[bytes]]:
    ct = [p.read_bytes() for p in generate_ct_study(root / "ct", 200, 512, 512)]
    shipped = []
    for name in sorted(set(get_testdata_files())):
        path = Path(name)
        if path.is_file():
            data = path.read_bytes()
            if data[128:132] == b"DICM":
                shipped.append(data)
    return {"ct200": ct, "pydicom": shipped}


def _runs(package: str, files: list[bytes]) -> dict:
    """The three paths of ``package`` over the files each takes: the reader over the file's bytes,
    the rewriter over its header (read as RAD-69 reads it) and plan, the Native DICOM Model over the
    rewritten header and its pixel data markers."""
    read_partial = importlib.import_module(f"{package}.dicom.reader").read_partial
    rewrite = importlib.import_module(f"{package}.deid.rewrite")
    nativexml = importlib.import_module(f"{package}.dicom.nativexml")
    to_native_xml_from_part10 = nativexml.to_native_xml_from_part10
    header = importlib.import_module(f"{package}.store.header")
    deid = importlib.import_module(f"{package}.deid").Deidentifier(KEY, ())
    pixel_tags = header.PIXEL_TAGS

    def at_pixels(tag, vr, length) -> bool:
        return int(tag) in pixel_tags

    reads, rewrites, models, stored = [], [], [], []
    for data in files:
        if read_partial(io.BytesIO(data), at_pixels) is not None:
            reads.append(data)
        try:
            # Read twice: the model converts some elements in place, which the rewriter would see.
            model = header.header_and_offset(io.BytesIO(data))[0]
            markers = frozenset(tag for tag in pixel_tags if tag in model)
            nativexml.to_native_xml_counted(model, bulk_markers=markers)
            stored.append((model, markers))
            ds = header.header_and_offset(io.BytesIO(data))[0]
            decided = deid.decide(ds)
        except Exception:  # noqa: BLE001 - refused or unreadable: not a case for these paths
            continue
        if decided.reads_whole_object or decided.plan.pixel_rule is not None:
            continue
        done = rewrite.attempt(ds, decided.plan)
        if not isinstance(done, rewrite.Rewritten):
            continue
        rewrites.append((ds, decided.plan))
        markers = {tag: ds[tag].VR for tag in pixel_tags if tag in ds}
        if to_native_xml_from_part10(done.header, markers) is not None:
            models.append((done.header, markers))
    return {
        "reader": [partial(lambda d: read_partial(io.BytesIO(d), at_pixels), d) for d in reads],
        "rewrite": [partial(rewrite.attempt, ds, plan) for ds, plan in rewrites],
        "nativexml": [partial(to_native_xml_from_part10, h, m) for h, m in models],
        "model": [partial(nativexml.to_native_xml_counted, ds, bulk_markers=m) for ds, m in stored],
    }


def _cpu(run) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--against", type=Path, help="another checkout's service/wadows to compare with")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    packages = ["wadows"]
    print(f"wadows from {Path(wadows.__file__).parent}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.against is not None:
            (Path(tmp) / "wadows_other").symlink_to(args.against.resolve(), target_is_directory=True)
            sys.path.insert(0, tmp)
            packages.append("wadows_other")
            print(f"against {args.against.resolve()}")
        inputs = _inputs(Path(tmp) / "inputs")
        for name, files in inputs.items():
            runs = {package: _runs(package, files) for package in packages}
            for path, calls in runs["wadows"].items():
                if not calls:
                    continue
                # Each header's best time, header by header, the packages in turn (either first by
                # turns): the machine's other load falls on both alike.
                best = {package: [float("inf")] * len(calls) for package in packages}
                ratios = []
                gc.disable()  # as timeit does: a collection falls on whichever run happens to trigger it
                try:
                    for n in range(args.repeat + 1):
                        totals = dict.fromkeys(packages, 0.0)
                        for i in range(len(calls)):
                            for package in packages[::-1] if (n + i) % 2 else packages:
                                took = _cpu(runs[package][path][i])
                                totals[package] += took
                                best[package][i] = min(best[package][i], took) if n else float("inf")
                        if n and len(packages) == 2:
                            ratios.append(totals["wadows"] / totals["wadows_other"])
                finally:
                    gc.enable()
                line = f"{name:8} {path:9} {len(calls):4} headers"
                for package in packages:
                    line += f"  {sum(best[package]) / len(calls) * 1e6:8.1f}"
                line += "  us/header"
                if len(packages) == 2:
                    line += (f"  best {sum(best['wadows']) / sum(best['wadows_other']):.3f}"
                             f"  median of runs {statistics.median(ratios):.3f}")
                print(line, flush=True)

if __name__ == "__main__":
    main()
