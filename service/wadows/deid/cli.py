"""`wadows anonymize INPUT... -o OUTDIR`: de-identify files and folders into a mirror tree.

Inputs are never written: the output folder may not be inside an input folder, no output may land
on an input, and every output is written to a temporary file in its folder and renamed into place,
so a reader never sees half an object and an interrupted run leaves no partial files under their
final names. A file that fails is reported with its reason (never a value from the file) and the
run goes on; the exit status is 1 if any file failed, 2 for unusable arguments.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import warnings
from collections import Counter
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pydicom.errors import InvalidDicomError

from . import checks
from .engine import Deidentifier
from .keys import load_key
from .pixels import DeidentificationRefused, load_rules
from .profile import OPTIONS

_worker: Deidentifier | None = None

NOT_DICOM = "not a DICOM Part-10 file"
MALFORMED = "cannot be de-identified: the object is malformed (an element cannot be decoded)"


def register(subparsers: argparse._SubParsersAction) -> None:
    names = ", ".join(o.name for o in OPTIONS)
    parser = subparsers.add_parser(
        "anonymize", help="de-identify DICOM files (PS3.15 Annex E basic profile and options)",
        description="De-identify DICOM files per PS3.15 Annex E (Table E.1-1, 2025b) into OUTDIR, mirroring the "
                    "inputs' relative paths. Inputs are never modified.",
        epilog=f"Options (dcm4che names, CID 7050 meanings, kebab-case or codes): {names}.")
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="DICOM file or folder (recursive)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR")
    parser.add_argument("--option", action="append", default=[], metavar="NAME",
                        help="a PS3.15 option, repeatable (e.g. RetainUIDsOption, retain-uids, 113110)")
    parser.add_argument("--key-file", type=Path,
                        help="key file (default: $WADOWS_DEID_KEY, else $WADOWS_CONFIG_DIR or ~/.config/wadows/deid.key, "
                             "created on first use)")
    parser.add_argument("--pixel-rules", type=Path, help="JSON file of burned-in text rules (default: the bundled examples)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)")
    parser.set_defaults(func=run)


def _files(inputs: list[Path]) -> Iterator[tuple[Path, Path]]:
    """(source, path relative to OUTDIR): a folder's files keep their path below the folder, a file
    given by name lands at the top of OUTDIR."""
    for item in inputs:
        if item.is_dir():
            for path in sorted(p for p in item.rglob("*") if p.is_file()):
                yield path, path.relative_to(item)
        else:
            yield item, Path(item.name)


def _init(key: bytes, options: list[str], rules_path: str | None) -> None:
    global _worker
    _quiet_libraries()
    _worker = Deidentifier(key, options, pixel_rules=load_rules(rules_path) if rules_path else None)


# pydicom's warnings and log lines quote the values they object to (a malformed UID, a name too long
# for its VR): on the CLI's stderr they would print original identifiers. `wadows serve` silences
# them (wiring.configure_logging); the CLI catches them per file and reports only their kind.
_kinds: Counter[str] = Counter()


class _CountingHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        _kinds[f"pydicom log {record.levelname.lower()}"] += 1


def _quiet_libraries() -> None:
    for name in ("pydicom", "urllib3"):
        lib = logging.getLogger(name)
        lib.handlers[:] = [_CountingHandler()]
        lib.propagate = False


class _counted_warnings(warnings.catch_warnings):
    def __init__(self):
        super().__init__(record=True)

    def __enter__(self):
        caught = super().__enter__()
        warnings.simplefilter("always")
        self._caught = caught
        return caught

    def __exit__(self, *exc):
        for w in self._caught:
            _kinds[f"{w.category.__name__}"] += 1
        return super().__exit__(*exc)


def _one(src: str, dst: str) -> tuple[str, str | None, dict[str, int]]:
    """De-identify one file atomically; returns (src, reason, warning kinds) with reason None on
    success. Reasons are fixed sentences: never an exception's class name or message."""
    _kinds.clear()
    with _counted_warnings():
        src, reason = _one_file(src, dst)
    return src, reason, dict(_kinds)


def _one_file(src: str, dst: str) -> tuple[str, str | None]:
    assert _worker is not None
    target = Path(dst)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
                for chunk in _worker.stream(fin):
                    fout.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except DeidentificationRefused as exc:
        return src, f"refused: {exc}"
    except InvalidDicomError:
        return src, NOT_DICOM
    except EOFError:
        return src, f"refused: {checks.TRUNCATED}"
    except OSError as exc:
        return src, f"cannot read or write: {exc.strerror or 'input/output error'}"
    except Exception:  # noqa: BLE001 - one bad file must not stop the run; its values stay out of the message
        return src, MALFORMED
    return src, None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def run(args: argparse.Namespace) -> int:
    try:
        key = load_key(args.key_file)
        _init(key, args.option, str(args.pixel_rules) if args.pixel_rules else None)
    except (ValueError, OSError) as exc:
        print(f"wadows anonymize: {exc}", file=sys.stderr)
        return 2
    out_dir = args.output.resolve()
    for item in args.inputs:
        if not item.exists():
            print(f"wadows anonymize: no such file or folder: {item}", file=sys.stderr)
            return 2
        if item.is_dir() and _inside(out_dir, item.resolve()):
            print(f"wadows anonymize: refusing to write inside the input folder {item}", file=sys.stderr)
            return 2
    pairs = list(_files(args.inputs))
    sources = {src.resolve() for src, _ in pairs}
    errors: list[tuple[str, str]] = []
    jobs: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for src, rel in pairs:
        dst = out_dir / rel
        if dst.resolve() in sources:
            errors.append((str(src), "refusing to overwrite an input"))
        elif dst in seen:
            errors.append((str(src), "another input maps to the same output path"))
        else:
            seen.add(dst)
            jobs.append((str(src), str(dst)))
    results = _run_jobs(jobs, max(1, args.jobs), key, args.option, args.pixel_rules)
    errors += [(src, reason) for src, reason, _ in results if reason]
    for src, reason in errors:
        print(f"wadows anonymize: {src}: {reason}", file=sys.stderr)
    kinds: Counter[str] = Counter()
    for _, _, counted in results:
        kinds.update(counted)
    if kinds:
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        print(f"wadows anonymize: library warnings (values withheld): {listed}", file=sys.stderr)
    done = len(jobs) - sum(1 for _, r, _ in results if r)
    print(f"wadows anonymize: {done} written to {out_dir}, {len(errors)} failed", file=sys.stderr)
    return 1 if errors else 0


def _run_jobs(jobs: list[tuple[str, str]], n: int, key: bytes, options: list[str],
              rules: Path | None) -> list[tuple[str, str | None, dict[str, int]]]:
    from tqdm import tqdm

    results: list[tuple[str, str | None, dict[str, int]]] = []
    if n == 1 or len(jobs) < 2:
        with tqdm(total=len(jobs), unit="file", file=sys.stderr, disable=None, desc="anonymize") as bar:
            for src, dst in jobs:
                results.append(_one(src, dst))
                bar.update()
        return results
    # Forked workers start in milliseconds where spawned ones import pydicom and numpy again. With
    # fork, ProcessPoolExecutor starts every worker at the first submit (Python 3.12+), and that
    # happens here before tqdm's monitor thread exists: forking a multi-threaded process is what
    # 3.12+ warns about on stderr (and what can deadlock a child).
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_init,
                             initargs=(key, options, str(rules) if rules else None)) as pool:
        chunk = max(1, min(16, len(jobs) // (n * 4)))
        done = pool.map(_one, [s for s, _ in jobs], [d for _, d in jobs], chunksize=chunk)
        with tqdm(total=len(jobs), unit="file", file=sys.stderr, disable=None, desc="anonymize") as bar:
            for result in done:
                results.append(result)
                bar.update()
    return results
