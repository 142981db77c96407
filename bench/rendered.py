"""Rendered images: the 200-instance CT study as 512-px JPEG quality 90 and as 128-px thumbnails,
through wadows's RetrieveRenderedImagingDocumentSet (PS3.18 §6.4.2) and Orthanc's
`GET /instances/{id}/rendered` on the same files, in the same run (issue 15).

Every side is timed with the same client, one curl process fetching every URL over one keep-alive
connection (curl's `--next` keeps the connection between requests), so no Python client limits
either server. An untimed pass first checks each side's images: they decode, at the size asked for,
and as many as instances. wadows serves the files from its file store; Orthanc holds them uploaded,
in its own network namespace behind a 127.0.0.1 forwarder (tests/support/orthanc.py), which its
timings include.

    python bench/rendered.py [--quick] [--repeat N]
"""

from __future__ import annotations

import http.client
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pydicom
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
from run import start_wadows  # noqa: E402
from versus_orthanc import run_versus_orthanc  # noqa: E402
from support.orthanc import running_orthanc  # noqa: E402
from support.rendered import RDoc, parse_response, rendered_documents, rendered_xml  # noqa: E402

from wadows.config import load_config  # noqa: E402
from wadows.samples import generate_ct_study  # noqa: E402

SOAP = "application/soap+xml"


def curl_config(requests: list[tuple[str, Path | None]], out: Path) -> Path:
    """One curl config fetching each (url, body file or None for GET) in turn on one connection."""
    lines = []
    for n, (url, body) in enumerate(requests):
        if n:
            lines.append("next")
        lines += [f'url = "{url}"', 'output = "/dev/null"', "silent", "fail", 'write-out = "%{http_code}\\n"']
        if body is not None:
            # No "Expect: 100-continue" (curl 7 sends it for bodies over 1 KB and then waits on its own
            # loop, ~2.5 ms a request here, where the server's 100 comes back in 0.2 ms): the SOAP
            # clients of the interop suite (JAX-WS, gSOAP, zeep, node-soap) send none either.
            lines += [f'data-binary = "@{body}"', f'header = "Content-Type: {SOAP}"', 'header = "Expect:"']
    out.write_text("\n".join(lines) + "\n")
    return out


def run_curl(config: Path) -> float:
    t = time.perf_counter()
    done = subprocess.run(["curl", "--config", str(config)], capture_output=True, text=True)
    seconds = time.perf_counter() - t
    codes = done.stdout.split()
    if done.returncode != 0 or any(c != "200" for c in codes):
        raise RuntimeError(f"curl: exit {done.returncode}, statuses {sorted(set(codes))}")
    return seconds


def best(repeat: int, config: Path) -> float:
    run_curl(config)  # warm-up (caches, the forwarder's threads)
    return min(run_curl(config) for _ in range(repeat))


def check_wadows(port: int, body: bytes, n: int, size: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/wado-ws", body=body, headers={"Content-Type": SOAP})
    r = conn.getresponse()
    resp = parse_response(r.getheader("Content-Type"), r.read())
    conn.close()
    docs = rendered_documents(resp)
    assert resp.status == "Success" and len(docs) == n, resp.errors[:3]
    for d in docs:
        img = Image.open(io.BytesIO(d.data))
        assert img.format == "JPEG" and max(img.size) == size, (img.format, img.size)


def check_orthanc(base: str, paths: list[str], size: int) -> None:
    origin = urlsplit(base)
    conn = http.client.HTTPConnection(origin.hostname, origin.port, timeout=600)
    for path in paths:
        conn.request("GET", path, headers={"Accept": "image/jpeg"})
        r = conn.getresponse()
        data = r.read()
        assert r.status == 200, r.status
        img = Image.open(io.BytesIO(data))
        assert img.format == "JPEG" and max(img.size) == size, (img.format, img.size)
    conn.close()


def main() -> int:
    return run_versus_orthanc(__doc__, _bench)


def _bench(work: Path, n: int, repeat: int) -> int:
    print(f"generating {n} CT instances in {work} ...", file=sys.stderr)
    store = work / "store"
    ct = generate_ct_study(store, n_instances=n)
    metas = [pydicom.dcmread(p, stop_before_pixels=True) for p in ct]
    (work / "deid.key").write_text("ab" * 32 + "\n")
    (work / "deid.key").chmod(0o600)
    repo = load_config(None).source.repository_unique_id
    load = os.getloadavg()
    results: list[tuple[str, int, float]] = []
    with running_orthanc(work / "orthanc") as orthanc:
        ids = orthanc.upload(ct)
        version = orthanc.request("GET", "/system").json().get("Version", "?")
        wproc, wport = start_wadows(store, work)
        # The same server reading every header every time: what a first request costs (the other
        # rows are repeats, whose headers the checking pass left remembered, [render] header_cache_mib).
        forgetful = work / "forgetful"
        forgetful.mkdir()
        shutil.copy(work / "deid.key", forgetful / "deid.key")
        fproc, fport = start_wadows(store, forgetful, extra_config="[render]\nheader_cache_mib = 0\n")
        try:
            url = f"http://127.0.0.1:{wport}/wado-ws"
            for size, quality in ((512, 90), (128, 90)):
                def rdoc(m, **extra) -> RDoc:
                    params = {"Rows": str(size), "Columns": str(size), "ImageQuality": str(quality), **extra}
                    return RDoc(m.StudyInstanceUID, m.SeriesInstanceUID, m.SOPInstanceUID, repo, params, ("image/jpeg",))

                variants = {"": {}, ", Anonymize": {"Anonymize": "yes"},
                            ", Annotation": {"Annotation": "patient,technique"},
                            ", Anonymize, Annotation": {"Anonymize": "yes", "Annotation": "patient,technique"}}
                for label, extra in variants.items():
                    docs = [rdoc(m, **extra) for m in metas]
                    study = work / f"study-{size}{label.strip(', ').replace(', ', '-')}.xml"
                    study.write_bytes(rendered_xml(docs))
                    check_wadows(wport, study.read_bytes(), n, size)
                    one = curl_config([(url, study)], work / f"one-{size}{label.strip(', ').replace(', ', '-')}.curl")
                    results.append((f"wadows, {size} px{label}, 1 request of {n} documents", size, best(repeat, one)))
                    if label:
                        continue
                    check_wadows(fport, study.read_bytes(), n, size)
                    first = curl_config([(f"http://127.0.0.1:{fport}/wado-ws", study)], work / f"first-{size}.curl")
                    results.append((f"wadows, {size} px, 1 request, every header read (header_cache_mib = 0)", size,
                                    best(repeat, first)))
                    singles = []
                    for k, d in enumerate(docs):
                        body = work / f"single-{size}-{k}.xml"
                        body.write_bytes(rendered_xml([d]))
                        singles.append((url, body))
                    per = curl_config(singles, work / f"per-{size}.curl")
                    results.append((f"wadows, {size} px, 1 request per instance", size, best(repeat, per)))
                # Orthanc scales without smoothing unless asked (smooth=1: bilinear); wadows always uses Lanczos.
                for smooth in ("", "&smooth=1"):
                    paths = [f"/instances/{i}/rendered?width={size}&height={size}&quality={quality}{smooth}" for i in ids]
                    check_orthanc(orthanc.base, paths, size)
                    oc = curl_config([(orthanc.base + p, None) for p in paths], work / f"orthanc-{size}{smooth[1:7]}.curl")
                    results.append((f"Orthanc {version}, {size} px, GET /instances/{{id}}/rendered?quality={quality}{smooth}",
                                    size, best(repeat, oc)))
        finally:
            for proc in (wproc, fproc):
                proc.terminate()
                proc.wait(30)

    print(f"\nRendered JPEG q90: {n} CT instances (512 x 512, 16-bit), best of {repeat}, one curl client, "
          f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores\n")
    print(f"| {'path':<80} | {'images/s':>8} | {'vs Orthanc':>10} |")
    print(f"|{'-' * 82}|{'-' * 10}|{'-' * 12}|")
    orthanc_s = {size: s for name, size, s in results if name.startswith("Orthanc") and "smooth" not in name}
    for name, size, seconds in results:
        print(f"| {name:<80} | {n / seconds:>8.0f} | {orthanc_s[size] / seconds:>9.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
