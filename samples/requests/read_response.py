"""Splits a saved MTOM response (curl -D plain.headers -o plain.mime) and prints what it holds."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from support.rad69 import parse_response  # noqa: E402


def main(headers: str, body: str) -> None:
    ctype = next(line.split(":", 1)[1].strip() for line in Path(headers).read_text().splitlines()
                 if line.lower().startswith("content-type:"))
    resp = parse_response(ctype, Path(body).read_bytes())
    print("status:", resp.status, "errors:", resp.errors)
    for uid, data in resp.documents():
        ds = pydicom.dcmread(io.BytesIO(data))
        print(f"{uid}: {len(data)} bytes, {ds.SOPClassUID.name}, {ds.Modality}, {ds.Rows}x{ds.Columns}, "
              f"transfer syntax {ds.file_meta.TransferSyntaxUID.name}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
