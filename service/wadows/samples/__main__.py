"""``python -m wadows.samples DIR...``: rewrite the committed copies of the bundled sample set."""

from __future__ import annotations

import sys
from pathlib import Path

from .bundled import generate_samples


def main(argv: list[str]) -> int:
    """Regenerate the committed copies: each argument is a folder whose .dcm files are replaced
    by the sample set (other files are left alone, so a wrong argument cannot wipe a folder)."""
    if not argv:
        print("usage: python -m wadows.samples DIR...", file=sys.stderr)
        return 2
    for target in map(Path, argv):
        for old in sorted(target.rglob("*.dcm")) if target.is_dir() else []:
            old.unlink()
        for folder in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
        for path in generate_samples(target):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
