"""dciodvfy (dicom3tools) finds no error in de-identified objects that it did not find in the originals."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from support.needs import unavailable

from wadows.deid import Deidentifier

from .objects import KEY, make_ct, write

pytestmark = pytest.mark.tools

OPTION_SETS = [(), ("RetainLongitudinalTemporalInformationModifiedDatesOption", "CleanDescriptorsOption",
                    "RetainSafePrivateOption", "CleanStructuredContentOption", "CleanGraphicsOption")]


def _dciodvfy() -> str:
    path = shutil.which("dciodvfy")
    if path is None:
        unavailable("dciodvfy not installed (apt-get install dicom3tools)")
    return path


def _errors(tool: str, path: Path) -> set[str]:
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
    return {line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")}


@pytest.mark.parametrize("options", OPTION_SETS, ids=["basic", "options"])
def test_no_new_errors(tmp_path, options):
    from wadows.samples import generate_samples

    tool = _dciodvfy()
    sources = generate_samples(tmp_path / "in") + [write(make_ct(), tmp_path / "in" / "ct.dcm")]
    deid = Deidentifier(KEY, options)
    for n, src in enumerate(sources):
        dst = tmp_path / "out" / f"{n}.dcm"
        dst.parent.mkdir(exist_ok=True)
        deid.deidentify_file(src, dst)
        new = _errors(tool, dst) - _errors(tool, src)
        assert not new, f"{src.name}: {sorted(new)}"


# Real objects whose Type 1/2 text attributes the table does not list (Segment Label, Content
# Description, Modality LUT Type, LUT Label, Stack ID, Unformatted Text Value): cleaned, not removed.
@pytest.mark.parametrize("name", ["liver_1frame.dcm", "mlut_18.dcm", "waveform_ecg.dcm", "eCT_Supplemental.dcm"])
def test_no_new_errors_on_objects_with_untabled_required_text(tmp_path, name):
    from pydicom.data import get_testdata_file

    tool = _dciodvfy()
    src = get_testdata_file(name)
    if src is None:
        unavailable(f"{name} is not among pydicom's test files here (pydicom-data, test extra)")
    import pydicom

    ds = pydicom.dcmread(src)
    if "BurnedInAnnotation" not in ds:
        # Secondary-capture-like objects without the flag count as burned in and would be refused;
        # the flag NO (as a site vouching for the device would set it) lets the text rules be checked.
        ds.BurnedInAnnotation = "NO"
    src = tmp_path / f"in-{name}"
    ds.save_as(src)
    dst = tmp_path / name
    Deidentifier(KEY).deidentify_file(src, dst)
    new = _errors(tool, dst) - _errors(tool, Path(src))
    assert not new, sorted(new)
