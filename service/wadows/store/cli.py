"""`wadows index DIR`: build or refresh the index of a store before serving it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .index import build_index, default_index_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "index",
        help="index a folder of DICOM files (incremental; the folder is never written)",
        description="Index every DICOM Part-10 file under DIR, in any layout. Only new or changed files "
        "are read. Files that cannot be served are listed with the reason and skipped.",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="the store folder")
    parser.add_argument("--index", type=Path, metavar="FILE",
                        help="SQLite index file (default: in $WADOWS_CACHE_DIR, $XDG_CACHE_HOME/wadows "
                        "or ~/.cache/wadows; never inside DIR)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root: Path = args.dir
    if not root.is_dir():
        print(f"wadows index: {root} is not a folder", file=sys.stderr)
        return 2
    index_path = args.index or default_index_path(root)
    try:
        report = build_index(root, index_path, progress=sys.stderr.isatty())
    except ValueError as exc:
        print(f"wadows index: {exc}", file=sys.stderr)
        return 2
    print(f"index: {index_path}")
    print(f"{report.instances} instances: {report.added} added, {report.updated} updated, "
          f"{report.removed} removed, {report.unchanged} unchanged; {report.skipped()}")
    for path, reason in report.errors:
        print(f"  skipped {path}: {reason}")
    return 0
