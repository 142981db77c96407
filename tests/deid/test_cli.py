"""`wadows anonymize`: parallel, atomic, per-file errors, never touching inputs."""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from wadows.deid import cli

from .objects import KEY, make_ct, write


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="wadows")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["anonymize", *argv])
    return args.func(args)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def inputs(tmp_path) -> Path:
    root = tmp_path / "in"
    for n in range(6):
        write(make_ct(sop=f"1.2.826.0.1.3680043.8.498.{2000 + n}"), root / f"series{n % 2}" / f"{n}.dcm")
    refused = make_ct(sop="1.2.826.0.1.3680043.8.498.2999")
    refused.BurnedInAnnotation = "YES"
    write(refused, root / "burned.dcm")
    (root / "notes.txt").write_text("Doe Jane called on Tuesday")
    return root


@pytest.fixture
def key_file(tmp_path) -> Path:
    path = tmp_path / "deid.key"
    path.write_text(KEY.hex())
    return path


def test_parallel_run_mirrors_paths_and_reports_failures(inputs, key_file, tmp_path, capsys):
    before = _hashes(inputs)
    out = tmp_path / "out"
    rc = _main([str(inputs), "-o", str(out), "--key-file", str(key_file), "--jobs", "2"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "burned.dcm: refused" in err and "notes.txt: not a DICOM Part-10 file" in err
    assert "Doe" not in err
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == [f"series{n % 2}/{n}.dcm" for n in sorted(range(6), key=lambda n: (n % 2, n))]
    for path in out.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        assert ds.PatientIdentityRemoved == "YES" and ds.PatientName == ""
    assert _hashes(inputs) == before  # inputs untouched


def test_same_key_same_output_across_processes(inputs, key_file, tmp_path):
    _main([str(inputs / "series0"), "-o", str(tmp_path / "a"), "--key-file", str(key_file), "--jobs", "2"])
    _main([str(inputs / "series0"), "-o", str(tmp_path / "b"), "--key-file", str(key_file), "--jobs", "1"])
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")


def test_options_are_applied(inputs, key_file, tmp_path):
    rc = _main([str(inputs / "series1"), "-o", str(tmp_path / "o"), "--key-file", str(key_file),
                "--option", "retain-uids", "--option", "113105", "--jobs", "1"])
    assert rc == 0
    ds = pydicom.dcmread(next((tmp_path / "o").glob("*.dcm")))
    assert ds.SOPInstanceUID.startswith("1.2.826.0.1.3680043.8.498.")
    assert [i.CodeValue for i in ds.DeidentificationMethodCodeSequence] == ["113100", "113105", "113110"]


def test_unknown_option_is_a_usage_error(inputs, key_file, tmp_path, capsys):
    assert _main([str(inputs), "-o", str(tmp_path / "o"), "--key-file", str(key_file), "--option", "bogus"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_refuses_output_inside_an_input_folder(inputs, key_file):
    before = _hashes(inputs)
    assert _main([str(inputs), "-o", str(inputs / "anon"), "--key-file", str(key_file)]) == 2
    assert _main([str(inputs), "-o", str(inputs), "--key-file", str(key_file)]) == 2
    assert _hashes(inputs) == before


def test_refuses_to_overwrite_an_input_file(inputs, key_file, capsys):
    target = inputs / "series0" / "0.dcm"
    before = target.read_bytes()
    assert _main([str(target), "-o", str(target.parent), "--key-file", str(key_file)]) == 1
    assert "refusing to overwrite an input" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_writes_are_atomic_no_temporaries_left(inputs, key_file, tmp_path):
    out = tmp_path / "o"
    _main([str(inputs), "-o", str(out), "--key-file", str(key_file), "--jobs", "2"])
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]


def _bad_inputs(root: Path) -> dict[str, bytes]:
    """Bad input, each kind once: what it must be refused for."""
    from pydicom.data import get_testdata_file
    from pydicom.dataset import FileMetaDataset

    root.mkdir(parents=True)
    plan = Path(get_testdata_file("rtplan.dcm")).read_bytes()
    (root / "cut_plan.dcm").write_bytes(plan[:len(plan) // 2])
    no_ts = make_ct(sop="1.2.826.0.1.3680043.8.498.3001")
    write(no_ts, root / "no_ts.dcm")
    ds = pydicom.dcmread(root / "no_ts.dcm")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta = meta
    ds.save_as(root / "no_ts.dcm", implicit_vr=False, little_endian=True)
    no_sop = make_ct(sop="1.2.826.0.1.3680043.8.498.3002")
    del no_sop.SOPInstanceUID
    write(no_sop, root / "no_sop.dcm")
    dicomdir = Path(get_testdata_file("DICOMDIR")).read_bytes()
    (root / "DICOMDIR").write_bytes(dicomdir)
    return {"cut_plan.dcm": b"truncated", "no_ts.dcm": b"no Transfer Syntax UID", "no_sop.dcm": b"no SOP",
            "DICOMDIR": b"DICOMDIR"}


def test_bad_input_is_refused_in_words(key_file, tmp_path, capfd):
    expected = _bad_inputs(tmp_path / "bad")
    out = tmp_path / "out"
    assert _main([str(tmp_path / "bad"), "-o", str(out), "--key-file", str(key_file), "-j", "1"]) == 1
    err = capfd.readouterr().err.encode()
    for name, reason in expected.items():
        line = next(x for x in err.splitlines() if x.split(b": ")[1].endswith(name.encode()))
        assert reason in line, line
        assert b"Error" not in line                           # no exception class names
    assert not any(out.rglob("*.dcm")) and not (out / "DICOMDIR").exists()


@pytest.mark.parametrize("path", ["bytes", "walker"])
def test_invalid_uid_is_remapped_and_not_copied_to_the_meta(key_file, tmp_path, capfd, path):
    """Both header writers: the byte-level one never has pydicom decode the UID (no warning to count);
    the walker, which a known attribute sent as UN sends the object to (rewrite.py declines those),
    does, and pydicom's warning quotes the value: it must be counted by kind, never shown."""
    ds = make_ct(sop="1.2.826.0.1.3680043.8.498.3003")
    hexuid = "a3f09c77e0d14b2f9e6a"
    ds.SOPInstanceUID = hexuid
    ds.file_meta.MediaStorageSOPInstanceUID = hexuid
    write(ds, tmp_path / "in" / "hex.dcm")
    if path == "walker":  # Modality re-encoded as UN (PS3.5 §6.2.2), by hand: pydicom's writer would not
        src = tmp_path / "in" / "hex.dcm"
        data = src.read_bytes()
        at = data.index(b"\x08\x00\x60\x00CS")
        n = int.from_bytes(data[at + 6:at + 8], "little")
        src.write_bytes(data[:at] + b"\x08\x00\x60\x00UN\0\0" + n.to_bytes(4, "little") + data[at + 8:])
    out = tmp_path / "out"
    # a subprocess: pytest's own warning and log capture would hide what the CLI lets through
    run = subprocess.run([sys.executable, "-m", "wadows", "anonymize", str(tmp_path / "in"), "-o", str(out),
                          "--key-file", str(key_file), "-j", "1"], capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr
    data = (out / "hex.dcm").read_bytes()
    assert hexuid.encode() not in data
    assert hexuid.encode() not in run.stderr
    assert (b"UserWarning" in run.stderr) == (path == "walker")  # counted by kind



def test_parallel_jobs_leave_nothing_but_the_summary_on_stderr(key_file, tmp_path):
    # Python 3.12+ warns on stderr when a multi-threaded process forks (tqdm's monitor thread, if the
    # pool were made after it): a subprocess with every warning shown is the only honest witness.
    for i in range(6):
        write(make_ct(sop=f"1.2.826.0.1.3680043.8.498.31{i}"), tmp_path / "in" / f"{i}.dcm")
    run = subprocess.run([sys.executable, "-W", "always", "-m", "wadows", "anonymize", str(tmp_path / "in"),
                          "-o", str(tmp_path / "out"), "--key-file", str(key_file), "-j", "2"],
                         capture_output=True, timeout=120, env={**os.environ, "TQDM_DISABLE": "0"})
    assert run.returncode == 0, run.stderr
    assert len(list((tmp_path / "out").glob("*.dcm"))) == 6
    assert b"Warning" not in run.stderr and b"fork" not in run.stderr, run.stderr
