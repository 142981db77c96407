"""`wadows samples DIR`: write synthetic DICOM to try the service or load it."""

from __future__ import annotations

import argparse
from pathlib import Path

_LIST_AT_MOST = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "samples",
        help="write synthetic DICOM files (fake patients) into a folder",
        description="Write the sample set bundled with wadows (two fake patients; CT, MR, multi-frame; "
        "several transfer syntaxes) into DIR, or a full-size CT study or one large multi-frame object. "
        "The same options always produce byte-identical files.",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--ct-study", type=int, metavar="N",
                        help="write a CT study of N 512 x 512 slices (~0.5 MB each) instead")
    parser.add_argument("--seed", type=int, default=0, help="with --ct-study: which fake patient and UIDs")
    parser.add_argument("--large-multiframe", type=int, metavar="MB",
                        help="write one multi-frame object of about MB megabytes instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .bundled import generate_samples
    from .ct_study import generate_ct_study
    from .large import generate_large_multiframe

    out: Path = args.dir
    if args.ct_study is not None and args.large_multiframe is not None:
        print("wadows samples: choose --ct-study or --large-multiframe, not both")
        return 2
    if args.ct_study is not None:
        if args.ct_study < 1:
            print("wadows samples: --ct-study needs a positive number of slices")
            return 2
        written = generate_ct_study(out, args.ct_study, seed=args.seed)
    elif args.large_multiframe is not None:
        written = [generate_large_multiframe(out / "large-multiframe.dcm", args.large_multiframe * 2**20)]
    else:
        written = generate_samples(out)
    total = sum(p.stat().st_size for p in written)
    for path in written[:_LIST_AT_MOST]:
        print(path)
    if len(written) > _LIST_AT_MOST:
        print(f"... and {len(written) - _LIST_AT_MOST} more")
    print(f"wrote {len(written)} file{'' if len(written) == 1 else 's'}, {total / 2**20:.1f} MiB, under {out}")
    return 0
