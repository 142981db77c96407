"""`wadows samples DIR [--ct-study N | --large-multiframe MB]`."""

from __future__ import annotations

import argparse

import pydicom

from wadows.samples import register


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wadows")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["samples", *argv])
    return args.func(args)


def test_default_writes_the_bundled_set(tmp_path, capsys):
    assert run(str(tmp_path / "out")) == 0
    out = capsys.readouterr().out
    written = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(written) == 10
    assert all(str(p) in out for p in written)
    assert "wrote 10 files, 1.0 MiB" in out


def test_ct_study(tmp_path, capsys):
    assert run(str(tmp_path), "--ct-study", "2", "--seed", "5") == 0
    written = sorted(tmp_path.rglob("*.dcm"))
    assert len(written) == 2
    assert pydicom.dcmread(written[0], stop_before_pixels=True).PatientID == "FAKE-R0005"
    assert "wrote 2 files" in capsys.readouterr().out


def test_large_multiframe(tmp_path, capsys):
    assert run(str(tmp_path), "--large-multiframe", "2") == 0
    assert (tmp_path / "large-multiframe.dcm").stat().st_size > 2 * 2**20
    assert "wrote 1 file, 2.0 MiB" in capsys.readouterr().out


def test_conflicting_or_nonsense_options(tmp_path):
    assert run(str(tmp_path), "--ct-study", "2", "--large-multiframe", "2") == 2
    assert run(str(tmp_path), "--ct-study", "0") == 2
    assert not any(tmp_path.iterdir())
