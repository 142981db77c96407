"""How long the three hot paths that parse element headers from bytes take, in-process: the header
reader (dicom/reader.py, every header the server reads), the byte-level de-identifier
(deid/rewrite.py, every anonymized header) and the Native DICOM Model written from Part-10 bytes
(dicom/nativexml.py to_native_xml_from_part10, every anonymized metadata answer).

Inputs: a generated 200-instance CT study (wadows.samples.generate_ct_study) and every Part-10 file
pydicom ships (pydicom.data.get_testdata_files()). Each path runs once over all the headers it
takes, untimed, then --repeat times; the best run (CPU time of this process) is printed, in
microseconds per header.

``--against DIR`` times a second copy of the package too (DIR: another checkout's service/wadows,
imported under another name), in the same process and alternating run by run, so the machine's other
load falls on both alike; the last column is this checkout's best over the other's.

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
    to_native_xml_from_part10 = importlib.import_module(f"{package}.dicom.nativexml").to_native_xml_from_part10
    header = importlib.import_module(f"{package}.store.header")
    deid = importlib.import_module(f"{package}.deid").Deidentifier(KEY, ())
    pixel_tags = header.PIXEL_TAGS

    def at_pixels(tag, vr, length) -> bool:
        return int(tag) in pixel_tags

    reads, rewrites, models = [], [], []
    for data in files:
        if read_partial(io.BytesIO(data), at_pixels) is not None:
            reads.append(data)
        try:
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
        "reader": (lambda: [read_partial(io.BytesIO(d), at_pixels) for d in reads], len(reads)),
        "rewrite": (lambda: [rewrite.attempt(ds, plan) for ds, plan in rewrites], len(rewrites)),
        "nativexml": (lambda: [to_native_xml_from_part10(h, m) for h, m in models], len(models)),
    }


def _cpu(run) -> float:
    gc.disable()  # as timeit does: a collection falls on whichever run happens to trigger it
    try:
        start = time.process_time()
        run()
        return time.process_time() - start
    finally:
        gc.enable()


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
            for path, (_, count) in runs["wadows"].items():
                if not count:
                    continue
                times: dict[str, list[float]] = {package: [] for package in packages}
                for package in packages:
                    runs[package][path][0]()
                for n in range(args.repeat):
                    for package in packages[::-1] if n % 2 else packages:  # either goes first in turn
                        times[package].append(_cpu(runs[package][path][0]))
                line = f"{name:8} {path:9} {count:4} headers"
                for package in packages:
                    line += f"  {min(times[package]) / count * 1e6:8.1f}"
                if len(packages) == 2:
                    ratios = [a / b for a, b in zip(*times.values())]
                    line += (f"  us/header  best {min(times['wadows']) / min(times['wadows_other']):.3f}"
                             f"  median of pairs {statistics.median(ratios):.3f}")
                else:
                    line += "  us/header"
                print(line, flush=True)


if __name__ == "__main__":
    main()
