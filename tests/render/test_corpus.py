"""Every image among pydicom's test files and pydicom-data through render with defaults: each one
renders or raises a RenderError, never another exception; a multi-frame object refused with 0008
is rendered again with FrameNumber 1 (and its last frame)."""

from __future__ import annotations

import collections
import io
import warnings
from pathlib import Path

import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_files

from wadows.render import RenderError, RenderRequest, render

from support.needs import unavailable

pytestmark = pytest.mark.slow

# Files whose pixel data is broken on purpose in pydicom's test set (truncated, bad codestreams):
# a 0014 is right for them and for nothing else.
EXPECTED_FAILURES = {"MR_truncated.dcm", "JPEG-lossy.dcm", "JPEG2000-embedded-sequence-delimiter.dcm"}


def _datasets():
    for name in sorted(set(get_testdata_files())):
        path = Path(name)
        if not path.is_file():
            continue
        with path.open("rb") as f:
            if f.read(132)[128:] != b"DICM":
                continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                yield path, pydicom.dcmread(path)
            except Exception:  # noqa: BLE001 - pydicom cannot read it: nothing to render, not our case
                continue


def test_every_test_file_renders_or_gives_a_code(capsys):
    counts: collections.Counter[str] = collections.Counter()
    failures: dict[str, str] = {}
    others = []
    needs_frame: set[str] = set()
    files = list(_datasets())
    if len(files) < 200:
        unavailable("pydicom-data is not installed (fewer than 200 test files)")
    for path, ds in files:
        for frame in (None, 1, -1):
            if frame is not None and path.name not in needs_frame:
                break
            number = frame if frame != -1 else int(ds.NumberOfFrames)
            try:
                out = render(ds, RenderRequest(("image/jpeg",), frame_number=number))
            except RenderError as e:
                counts[e.code] += 1
                if e.code.endswith("0008"):
                    needs_frame.add(path.name)
                if e.code.endswith("0014"):
                    failures[path.name] = e.message
                continue
            except Exception as e:  # noqa: BLE001 - exactly what this test exists to catch
                others.append(f"{path.name}: {type(e).__name__}")
                continue
            img = Image.open(io.BytesIO(out.data))
            assert img.format == "JPEG" and img.size == (out.parameters.columns, out.parameters.rows)
            counts["rendered multi-frame" if frame else "rendered"] += 1
    summary = dict(counts)
    with capsys.disabled():
        print(f"\nrender corpus: {len(files)} Part-10 files: {dict(sorted(summary.items()))}")
    assert others == []
    assert set(failures) <= EXPECTED_FAILURES, failures
    assert summary["rendered"] >= 120 and summary["rendered multi-frame"] >= 40
