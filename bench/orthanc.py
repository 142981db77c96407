"""Anonymized W1 from a real archive: the 200-instance CT study stored in Orthanc (DICOMweb plugin),
retrieved through wadows with Anonymize, against Orthanc's own `POST /instances/{id}/anonymize` on the
same instances, in the same run (issue 7).

Both sides are one sequential client over keep-alive connections, and both reach Orthanc the same
way (support/orthanc.py: Orthanc in its own network namespace behind a 127.0.0.1 forwarder). wadows
runs as its own process (`wadows serve --dicomweb URL`), so its timings include the QIDO-RS/WADO-RS
round trips to the archive.

    python bench/orthanc.py [--quick] [--repeat N]
"""

from __future__ import annotations

import http.client
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pydicom

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
from run import best_of, drain, free_port, post, timed, wait_for  # noqa: E402
from versus_orthanc import run_versus_orthanc  # noqa: E402
from support.orthanc import running_orthanc  # noqa: E402
from support.rad69 import Doc, parse_response, request_xml  # noqa: E402

from wadows.config import load_config  # noqa: E402
from wadows.samples import generate_ct_study  # noqa: E402

ORTHANC_BODY = {"DicomVersion": "2021b"}  # what bench/deid.py asks of Orthanc too


def start_wadows(dicomweb: str, work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cfg = work / "wadows.toml"
    cfg.write_text('[log]\naccess_log = false\nlevel = "WARNING"\n[auth]\nanonymous = "identified"\n'
                   f'[deid]\nkey_file = "{work / "deid.key"}"\n')
    (work / "deid.key").write_text("ab" * 32 + "\n")
    (work / "deid.key").chmod(0o600)
    (work / "empty").mkdir(exist_ok=True)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "wadows"), "serve", "--dicomweb", dicomweb,
                             "--store", str(work / "empty"), "--port", str(port), "--config", str(cfg)],
                            stdout=subprocess.DEVNULL, stderr=(work / "wadows.log").open("wb"))
    wait_for(port, 120, proc)
    return proc, port


def orthanc_anonymize(conn: http.client.HTTPConnection, ids: list[str], body: bytes) -> None:
    for instance in ids:
        conn.request("POST", f"/instances/{instance}/anonymize", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"Orthanc anonymize: HTTP {resp.status}")
        drain(resp)


def wado_rs(conn: http.client.HTTPConnection, paths: list[str]) -> None:
    for path in paths:
        conn.request("GET", path, headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"Orthanc WADO-RS: HTTP {resp.status}")
        drain(resp)


def main() -> int:
    return run_versus_orthanc(__doc__, _bench)


def _bench(work: Path, n: int, repeat: int) -> int:
    import json

    print(f"generating and uploading {n} CT instances in {work} ...", file=sys.stderr)
    ct = generate_ct_study(work / "ct", n_instances=n)
    metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in ct]
    with running_orthanc(work / "orthanc") as orthanc:
        ids = orthanc.upload(ct)
        version = orthanc.request("GET", "/system").json().get("Version", "?")
        wproc, wport = start_wadows(orthanc.dicomweb, work)
        try:
            repo = load_config(None).source.repository_unique_id
            ts = metas[0].file_meta.TransferSyntaxUID
            anon_docs = [Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo, "yes") for m in metas]
            plain_docs = [Doc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo) for m in metas]
            study_anon = request_xml(anon_docs, [ts])
            single_anon = [request_xml([d], [ts]) for d in anon_docs]
            study_plain = request_xml(plain_docs, [ts])

            conn = http.client.HTTPConnection("127.0.0.1", wport, timeout=600)
            # Correctness once, untimed: everything anonymized, nothing refused.
            conn.request("POST", "/wado-ws", body=study_anon, headers={"Content-Type": "application/soap+xml"})
            r = conn.getresponse()
            parsed = parse_response(r.getheader("Content-Type"), r.read())
            assert parsed.status == "Success" and len(parsed.documents()) == n, parsed.errors
            assert all(uid != m.SOPInstanceUID for (uid, _), m in zip(parsed.documents(), metas))

            t_plain = best_of(repeat, lambda: timed(lambda: post(conn, study_plain)))
            t_study = best_of(repeat, lambda: timed(lambda: post(conn, study_anon)))
            t_single = best_of(repeat, lambda: timed(lambda: [post(conn, b) for b in single_anon]))
            conn.close()

            origin = urlsplit(orthanc.base)
            oconn = http.client.HTTPConnection(origin.hostname, origin.port, timeout=600)
            body = json.dumps(ORTHANC_BODY).encode()
            orthanc_anonymize(oconn, ids[:5], body)  # warm-up, as for wadows's correctness pass
            t_orthanc = best_of(repeat, lambda: timed(lambda: orthanc_anonymize(oconn, ids, body)))
            root = urlsplit(orthanc.dicomweb).path
            paths = [f"{root}/studies/{m.StudyInstanceUID}/series/{m.SeriesInstanceUID}/instances/{m.SOPInstanceUID}"
                     for m in metas]
            t_wado = best_of(repeat, lambda: timed(lambda: wado_rs(oconn, paths)))
            oconn.close()
        finally:
            wproc.terminate()
            wproc.wait(30)

    size_mb = sum(p.stat().st_size for p in ct) / 2**20
    rows = [
        ("wadows, Anonymize, 1 RAD-69 request for the study", t_study),
        ("wadows, Anonymize, 1 RAD-69 request per instance", t_single),
        (f"Orthanc {version} POST /instances/{{id}}/anonymize {json.dumps(ORTHANC_BODY)}", t_orthanc),
        ("wadows, no Anonymize, 1 request", t_plain),
        ("Orthanc WADO-RS alone, 1 GET per instance (what wadows reads)", t_wado),
    ]
    print(f"\nAnonymized W1 from Orthanc: {n} CT instances, {size_mb:.0f} MB, best of {repeat}, one client\n")
    print(f"| {'path':<72} | {'inst/s':>7} | {'MB/s':>6} | {'vs Orthanc anonymize':>20} |")
    print(f"|{'-' * 74}|{'-' * 9}|{'-' * 8}|{'-' * 22}|")
    for name, seconds in rows:
        print(f"| {name:<72} | {n / seconds:>7.0f} | {size_mb / seconds:>6.0f} | {t_orthanc / seconds:>19.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
