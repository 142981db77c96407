"""Generate service/wadows/data/deid/pixel_rules.json from the `%filter` sections of the `deid.dicom`
recipe shipped in pydicom's `deid` package (MIT; https://github.com/pydicom/deid).

The recipe is parsed by deid's own parser (deid.config.utils.load_deid), so the data file carries
exactly what deid reads: per LABEL its filter lines (actions, fields, values and the and/or operators
inside a line) and its coordinates, already translated to [x0, y0, x1, y1] (ctpcoordinates are
x, y, width, height; deid converts them while parsing). The package version and the file's sha256
are recorded; wadows does not import deid at run time.

    .venv/bin/pip install deid && .venv/bin/python tools/gen_pixel_rules.py
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata, resources
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "service" / "wadows" / "data" / "deid" / "pixel_rules.json"


def build() -> dict:
    from deid.config.utils import load_deid

    recipe = resources.files("deid").joinpath("data", "deid.dicom")
    raw = recipe.read_bytes()
    parsed = load_deid(str(recipe))
    sections = []
    for section, labels in parsed["filter"].items():
        for label in labels:
            lines = [{"actions": list(f["action"]), "fields": list(f["field"]), "values": list(f["value"]),
                      "inner_operators": list(f["InnerOperators"])} for f in label.get("filters", [])]
            coords = [[int(keep), str(c).replace(" ", "")] for keep, c in label.get("coordinates", [])]
            sections.append({"section": section, "name": label.get("name", "").removeprefix("LABEL ").strip(), "lines": lines,
                             "coordinates": coords})
    return {
        "about": "Burned-in text rules (PS3.15 E.3.1), converted by tools/gen_pixel_rules.py from deid's recipe. "
                 "Each entry: filter lines, all of which must hold (deid's evaluate_group); inside a line the "
                 "operators apply left to right. coordinates: [keep, 'x0,y0,x1,y1' | 'all' | 'from:Field'], "
                 "keep 0 = blank. Sections: whitelist (recorded only), graylist (blank the coordinates; none: "
                 "flag), blacklist (refuse).",
        "source": "pydicom deid package, deid/data/deid.dicom",
        "deid_version": metadata.version("deid"),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "rules": sections,
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
