"""Load the wadows sample objects into a DICOMweb archive with STOW-RS (PS3.18 §10.5), so a new
stack has something to retrieve. Any archive that accepts STOW-RS will do; objects it already has
are stored again (Orthanc ignores identical copies).

    python load_samples.py http://orthanc:8042/dicom-web [--wait SECONDS] [--ct-study N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/studies?limit=1", timeout=5):
                return
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"load_samples: the archive did not answer within {seconds:.0f} s ({exc})") from None
            time.sleep(1)


def stow(url: str, files: list[Path], batch: int = 20) -> int:
    """POST the files, ``batch`` per request; returns how many the archive reported stored."""
    stored = 0
    for start in range(0, len(files), batch):
        boundary = uuid.uuid4().hex
        body = bytearray()
        for path in files[start:start + batch]:
            body += f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
            body += path.read_bytes() + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(f"{url}/studies", data=bytes(body), method="POST", headers={
            "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
            "Accept": "application/dicom+json",
        })
        with urllib.request.urlopen(request, timeout=120) as resp:
            resp.read()
            if resp.status not in (200, 202):
                raise SystemExit(f"load_samples: the archive answered HTTP {resp.status}")
        stored += len(files[start:start + batch])
    return stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="DICOMweb service root, e.g. http://orthanc:8042/dicom-web")
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the archive to answer")
    parser.add_argument("--ct-study", type=int, metavar="N", help="also a CT study of N slices (~0.5 MB each)")
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")

    from wadows.samples import generate_ct_study, generate_samples

    wait_for(url, args.wait)
    with tempfile.TemporaryDirectory(prefix="wadows-samples-") as tmp:
        files = generate_samples(Path(tmp) / "samples")
        if args.ct_study:
            files += generate_ct_study(Path(tmp) / "ct", args.ct_study)
        count = stow(url, files)
    print(f"load_samples: stored {count} objects in {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
