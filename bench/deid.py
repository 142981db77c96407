"""De-identification speed: `wadows anonymize` against the anonymizers people already run (issue 3,
item 11), printed as one table.

Same input for every tool: the 200-instance CT study of `generate_ct_study` (one series folder,
~0.5 MB per file), fresh temporary folder, same machine, warm page cache. Each CLI is timed as wall
clock over the whole folder, process start included (that is what a user waits for); Orthanc is
timed over its `POST /instances/{id}/anonymize` calls only, after an untimed upload. Every tool gets
one untimed warm-up pass on a few files, and its outputs are checked (count, names and UIDs changed)
so a tool that silently did nothing is never timed. The notes column says which profile and options
each tool applied and what it left in the first output of values of the input, because files per
second mean little without what was done to each file.

dicognito and dicom-anonymizer are installed from PyPI into a separate virtualenv
(build/bench-venv, created on first use) so they never become dependencies of wadows.

    python bench/deid.py [--quick] [--repeat N] [--tools wadows,gdcmanon,...]

A tool that cannot run here (not installed, no network for pip, no root for Orthanc's network
namespace) gets a row saying why; the exit status is 0 unless wadows itself fails.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

REPO = Path(__file__).resolve().parents[1]
TOOLS = ("wadows", "dicognito", "dicom-anonymizer", "gdcmanon", "orthanc")
# Loose ranges: a newer release of a peer is what users run, and the table reports the version.
PEER_REQUIREMENTS = ("dicognito>=0.17,<1", "dicom-anonymizer>=2,<3")
WARM_UP_FILES = 3
# Orthanc 1.9.4+ knows the 2021b edition of Table E.1-1; without DicomVersion it applies 2008's.
ORTHANC_BODY = {"DicomVersion": "2021b"}

# Attributes whose input values must not be found in an output; a short value (sex, a study
# number) could match pixel bytes by chance, so values under 6 bytes are not searched.
_IDENTIFYING = ("PatientID", "IssuerOfPatientID", "AccessionNumber", "PatientBirthDate", "StudyDate",
                "InstitutionName", "InstitutionAddress", "PatientAddress", "PatientTelephoneNumbers",
                "StationName", "DeviceSerialNumber", "StudyInstanceUID", "SeriesInstanceUID",
                "FrameOfReferenceUID", "LocalNamespaceEntityID", "TextValue")
_MIN_SEARCHED = 6


@dataclass
class Result:
    tool: str
    version: str
    notes: str
    seconds: float | None = None
    files: int = 0
    failure: str | None = None

    @property
    def rate(self) -> float | None:
        return self.files / self.seconds if self.seconds else None


@dataclass
class Input:
    folder: Path
    files: list[Path]
    warm: Path
    first: Dataset

    @property
    def size_mb(self) -> float:
        return sum(p.stat().st_size for p in self.files) / 2**20


# --- checks ------------------------------------------------------------------------------------

def _identifying_values(ds: Dataset) -> dict[bytes, str]:
    """Encoded value -> label, for every person name and listed identifier at any depth, and every
    private text value (labelled "private", where dicognito-like tools leak)."""
    found: dict[bytes, str] = {}

    def visit(d: Dataset) -> None:
        for elem in d:
            if elem.VR == "SQ":
                for item in elem.value:
                    visit(item)
                continue
            if elem.value in (None, "", b""):
                continue
            if elem.tag.is_private and elem.VR in ("LO", "SH", "PN", "LT", "ST", "UT", "DA"):
                label = "private"
            elif elem.VR == "PN" or elem.keyword in _IDENTIFYING:
                label = elem.keyword
            else:
                continue
            raw = str(elem.value).encode("latin-1", "replace")
            if len(raw) >= _MIN_SEARCHED:
                found.setdefault(raw, label)

    visit(ds)
    return found


def check_outputs(out: Path, expected: int, original: Dataset) -> tuple[str | None, str]:
    """(failure or None, what the first output shows): refuses a run whose outputs are missing or
    still carry the patient's name, ID or SOP Instance UID."""
    outputs = sorted(p for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
    if len(outputs) != expected:
        return f"{len(outputs)} outputs for {expected} inputs", ""
    first = outputs[0]
    ds = pydicom.dcmread(first, stop_before_pixels=True)
    for keyword in ("PatientName", "PatientID", "SOPInstanceUID"):
        if keyword in ds and str(ds[keyword].value) and str(ds[keyword].value) == str(original[keyword].value):
            return f"{keyword} unchanged", ""
    data = first.read_bytes()
    left = sorted({label for value, label in _identifying_values(original).items() if value in data})
    marked = ds.get("PatientIdentityRemoved", "-")
    study_date = ds.get("StudyDate")
    dates = ("removed" if study_date is None else "emptied" if not study_date
             else "kept" if study_date == original.StudyDate else "changed")
    observed = f"StudyDate {dates}; marked {marked}; values left: {', '.join(left) or 'none found'}"
    return None, observed


# --- timing ------------------------------------------------------------------------------------

def best_wall_clock(repeat: int, run: Callable[[], None], out: Path) -> float:
    best = float("inf")
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def run_cli(argv: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=3600)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"{Path(argv[0]).name} exited with {done.returncode}: {tail[0][:200]}")


def time_cli(result: Result, data: Input, work: Path, argv: Callable[[Path, Path], list[str]],
             repeat: int, env: dict[str, str] | None = None) -> Result:
    """Warm up on a few files, time the whole folder best of ``repeat``, then check the outputs of
    the last timed run."""
    out = work / "out" / re.sub(r"\W+", "-", result.tool).strip("-")
    try:
        warm_out = work / "warm-out"
        shutil.rmtree(warm_out, ignore_errors=True)
        warm_out.mkdir(parents=True)
        run_cli(argv(data.warm, warm_out), env)
        result.seconds = best_wall_clock(repeat, lambda: run_cli(argv(data.folder, out), env), out)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        result.failure = str(exc)
        return result
    result.files = len(data.files)
    return checked(result, out, data)


def checked(result: Result, out: Path, data: Input) -> Result:
    """The result with what its outputs show, or without its time when they fail the check."""
    failure, observed = check_outputs(out, len(data.files), data.first)
    if failure:
        result.failure, result.seconds = f"output check failed: {failure}", None
    else:
        result.notes += f"; {observed}"
    return result


# --- tools -------------------------------------------------------------------------------------

def _git_revision() -> str:
    done = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "?"


def bench_wadows(data: Input, work: Path, repeat: int) -> Iterator[Result]:
    wadows = Path(sys.executable).parent / "wadows"
    key = work / "deid.key"
    key.write_text(os.urandom(32).hex())
    key.chmod(0o600)
    version = f"{importlib.metadata.version('wadows')} ({_git_revision()})"
    cores = os.cpu_count() or 1
    for jobs in sorted({1, cores}):
        result = Result(f"wadows --jobs {jobs}", version,
                        f"CLI `wadows anonymize DIR -o OUT --key-file K --jobs {jobs}`, process start included; "
                        "basic profile (E.1-1 2025b), no option; keyed-HMAC UIDs; header-only, pixel data copied")
        yield time_cli(result, data, work, lambda src, out, j=jobs: [str(wadows), "anonymize", str(src), "-o", str(out),
                                                                   "--key-file", str(key), "--jobs", str(j)], repeat)


def bench_venv(path: Path) -> tuple[Path | None, str]:
    """The peers' own virtualenv: (its python, "") or (None, why not)."""
    python = path / "bin" / "python"
    try:
        if not python.exists():
            print(f"creating {path} for the other anonymizers ...", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True, capture_output=True)
        probe = [str(python), "-c", "import dicognito, dicomanonymizer"]
        if subprocess.run(probe, capture_output=True).returncode != 0:
            print(f"installing {', '.join(PEER_REQUIREMENTS)} into {path} ...", file=sys.stderr)
            done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                   *PEER_REQUIREMENTS], capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                return None, "pip install failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:160]
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return None, f"cannot make the bench virtualenv ({type(exc).__name__})"
    return python, ""


def _installed_versions(python: Path) -> dict[str, str]:
    script = ("import importlib.metadata as m, json; "
              "print(json.dumps({n: m.version(n) for n in ('dicognito', 'dicom-anonymizer', 'pydicom')}))")
    return json.loads(subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True).stdout)


def bench_dicognito(data: Input, work: Path, repeat: int, python: Path | None, why: str) -> Result:
    if python is None:
        return Result("dicognito", "-", "", failure=why)
    v = _installed_versions(python)
    # 0.19.0's console script calls main() without its argument: run the module instead.
    result = Result("dicognito", f"{v['dicognito']} (pydicom {v['pydicom']})",
                    "CLI `python -m dicognito --quiet -o OUT DIR`, process start included; its default element "
                    "list (not the E.1-1 table), random seed per run; reads whole files, one process")
    return time_cli(result, data, work,
                    lambda src, out: [str(python), "-m", "dicognito", "--quiet", "-o", str(out), str(src)], repeat)


def bench_dicom_anonymizer(data: Input, work: Path, repeat: int, python: Path | None, why: str) -> Result:
    if python is None:
        return Result("dicom-anonymizer", "-", "", failure=why)
    v = _installed_versions(python)
    script = python.parent / "dicom-anonymizer"
    result = Result("dicom-anonymizer", f"{v['dicom-anonymizer']} (pydicom {v['pydicom']})",
                    "CLI `dicom-anonymizer DIR OUT`, process start included; its default rules (its 2023 "
                    "E.1-1 table), private tags deleted, random UIDs; reads whole files, one process, "
                    "one folder level only")
    return time_cli(result, data, work, lambda src, out: [str(script), str(src), str(out)], repeat)


def bench_gdcmanon(data: Input, work: Path, repeat: int) -> Result:
    gdcmanon, openssl = shutil.which("gdcmanon"), shutil.which("openssl")
    if gdcmanon is None:
        return Result("gdcmanon", "-", "", failure="not installed (Debian package libgdcm-tools)")
    if openssl is None:
        return Result("gdcmanon", "-", "", failure="openssl is needed for the certificate its profile mode requires")
    found = re.search(r"gdcm\s+(\S+)", subprocess.run([gdcmanon, "--version"], capture_output=True, text=True).stdout)
    version = found.group(1) if found else "?"
    # Its Basic Profile mode (-e) encrypts the replaced values into the Encrypted Attributes
    # Sequence (PS3.15 E.1.1 de-identify with re-identify) and needs a certificate: a throwaway one.
    cert, key = work / "gdcm-cert.pem", work / "gdcm-key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=wadows-bench"], check=True, capture_output=True)
    result = Result("gdcmanon", f"gdcm {version}",
                    "CLI `gdcmanon -e -r -c CERT -i DIR -o OUT`, process start included; its Basic Profile "
                    "mode (GDCM's own E.1-1 list), originals AES-256 encrypted into (0400,0500), "
                    "random UIDs; C++, one process")
    return time_cli(result, data, work, lambda src, out: [gdcmanon, "-e", "-r", "--continue", "-c", str(cert),
                                                         "-i", str(src), "-o", str(out)], repeat)


def bench_orthanc(data: Input, work: Path, repeat: int) -> Result:
    sys.path.insert(0, str(REPO / "tests"))
    from support.orthanc import orthanc_unavailable_reason, running_orthanc

    reason = orthanc_unavailable_reason()
    if reason:
        return Result("Orthanc", "-", "", failure=reason)
    try:
        with running_orthanc(work / "orthanc") as orthanc:
            ids = orthanc.upload(data.files)
            version = orthanc.request("GET", "/system").json().get("Version", "?")
            out = work / "out" / "orthanc"

            def anonymize(some: list[str], folder: Path) -> None:
                for n, instance in enumerate(some):
                    body = orthanc.request("POST", f"/instances/{instance}/anonymize", json=ORTHANC_BODY).content
                    (folder / f"{n}.dcm").write_bytes(body)

            warm = work / "warm-out-orthanc"
            warm.mkdir(parents=True, exist_ok=True)
            anonymize(ids[:WARM_UP_FILES], warm)
            seconds = best_wall_clock(repeat, lambda: anonymize(ids, out), out)
    except Exception as exc:  # noqa: BLE001 - Orthanc failing must not stop the other rows
        return Result("Orthanc", "-", "", failure=f"{type(exc).__name__}: {str(exc)[:160]}")
    result = Result("Orthanc", version,
                    f"REST `POST /instances/{{id}}/anonymize` {json.dumps(ORTHANC_BODY)}, one client, sequential, "
                    "upload not timed, responses written to files; server in its own network namespace "
                    "reached through a 127.0.0.1 forwarder; random UIDs, private tags removed",
                    seconds=seconds, files=len(data.files))
    return checked(result, out, data)


# --- table -------------------------------------------------------------------------------------

def table(results: list[Result]) -> list[str]:
    """Markdown table; both wadows rows are the numerators of the ratios, so a reader sees the
    single-process comparison (the peers run one process) and the all-cores one."""
    rates = {r.tool: r.rate for r in results if r.tool.startswith("wadows") and r.rate}
    ratio_heads = [f"{name} / tool" for name in rates]
    head = ("tool", "version", "files/s", *ratio_heads, "notes")
    rows = []
    for r in results:
        rate = f"{r.rate:,.1f}" if r.rate else "-"
        ratios = [f"{w / r.rate:.2f}" if r.rate else "-" for w in rates.values()]
        rows.append((r.tool, r.version, rate, *ratios, r.notes if not r.failure else f"NOT MEASURED: {r.failure}"))
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    fmt = lambda row: "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |"  # noqa: E731
    return [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, rows)]


def make_input(work: Path, n: int) -> Input:
    from wadows.samples import generate_ct_study

    files = generate_ct_study(work / "ct", n_instances=n)
    folder = files[0].parent
    assert all(p.parent == folder for p in files), "the bench feeds one series folder to every tool"
    warm = work / "warm" / folder.name
    warm.mkdir(parents=True)
    for p in files[:WARM_UP_FILES]:
        shutil.copy2(p, warm / p.name)
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    return Input(folder, files, warm, first)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20 instances and one timed pass (smoke run)")
    ap.add_argument("--repeat", type=int, help="timed passes per tool, best kept (default 3, 1 with --quick)")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma list among {', '.join(TOOLS)}")
    ap.add_argument("--bench-venv", type=Path, default=REPO / "build" / "bench-venv",
                    help="virtualenv for dicognito and dicom-anonymizer (created on first use)")
    args = ap.parse_args(argv)
    tools = [t.strip().lower() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        ap.error(f"unknown tools: {', '.join(sorted(unknown))}")
    n = 20 if args.quick else 200
    repeat = args.repeat or (1 if args.quick else 3)

    work = Path(tempfile.mkdtemp(prefix="wadows-deid-bench-"))
    results: list[Result] = []
    try:
        print(f"generating {n} CT instances in {work} ...", file=sys.stderr)
        data = make_input(work, n)
        if "wadows" in tools:
            results += bench_wadows(data, work, repeat)
        if {"dicognito", "dicom-anonymizer"} & set(tools):
            python, why = bench_venv(args.bench_venv)
            if "dicognito" in tools:
                results.append(bench_dicognito(data, work, repeat, python, why))
            if "dicom-anonymizer" in tools:
                results.append(bench_dicom_anonymizer(data, work, repeat, python, why))
        if "gdcmanon" in tools:
            results.append(bench_gdcmanon(data, work, repeat))
        if "orthanc" in tools:
            results.append(bench_orthanc(data, work, repeat))
        size = data.size_mb
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("\n".join(table(results)))
    print(f"\n{n} CT instances ({size:,.0f} MB, Explicit VR Little Endian, one series folder); "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; wall clock, best of {repeat}, warm cache; "
          "'values left' = attributes whose input values (names, identifiers, dates, private text) "
          "are found anywhere in the first output")
    by_tool = {r.tool: r.rate for r in results}
    best_wadows = max((r for t, r in by_tool.items() if t.startswith("wadows") and r), default=None)
    if best_wadows and by_tool.get("dicognito"):
        print(f"wadows (best) / dicognito = {best_wadows / by_tool['dicognito']:.2f} (issue 3 asks for at least 2)")
    return 1 if any(r.tool.startswith("wadows") and r.failure for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
