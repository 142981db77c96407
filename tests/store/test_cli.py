"""`wadows index DIR`: summary, skipped files with reasons, exit codes."""

from __future__ import annotations

import argparse

from wadows.store import cli


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wadows")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["index", *argv])
    return args.func(args)


def test_index_prints_a_summary_and_the_skipped_files(odd_store, tmp_path, capsys):
    assert run(str(odd_store), "--index", str(tmp_path / "i.sqlite")) == 0
    out = capsys.readouterr().out
    assert f"index: {tmp_path / 'i.sqlite'}" in out
    assert "10 instances: 10 added, 0 updated, 0 removed, 0 unchanged; skipped 4: 3 not DICOM, 1 DICOMDIR" in out
    assert "  skipped README.txt: not a DICOM Part-10 file" in out
    assert "  skipped DICOM/DICOMDIR: DICOMDIR" in out

    assert run(str(odd_store), "--index", str(tmp_path / "i.sqlite")) == 0
    assert "0 added, 0 updated, 0 removed, 10 unchanged" in capsys.readouterr().out


def test_default_index_goes_to_the_cache(odd_store, tmp_path, capsys):
    assert run(str(odd_store)) == 0
    assert f"index: {tmp_path / 'cache'}" in capsys.readouterr().out


def test_missing_folder_is_an_error(tmp_path, capsys):
    assert run(str(tmp_path / "nope")) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_index_inside_the_store_is_an_error(odd_store, capsys):
    assert run(str(odd_store), "--index", str(odd_store / "i.sqlite")) == 2
    assert "must not be inside the store" in capsys.readouterr().err
    assert not (odd_store / "i.sqlite").exists()
