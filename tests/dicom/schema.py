"""The PS3.19 schema (RELAX NG compact, later edition, from ../shared/reference) made usable by lxml
and jing at test time.

Two adjustments, both asserted so a changed reference file fails loudly instead of validating less:
- the reference copy lacks the ``default namespace`` line its own header comment says the standard
  has (PS3.19 §A.1.6); without it no namespaced document could match;
- ``current`` adds the VRs later editions list (OL, OV, SV, UC, UR, UV; PS3.5 2025b Table 6.2-1) to
  the edition's VR choice; ``strict`` is the edition as published and is used for every document
  that carries none of them.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from support.needs import need_tool, unavailable

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / ".." / "shared" / "reference" / "native-dicom-model" / "NativeDICOM-later-edition.rnc"
NAMESPACE_LINE = 'default namespace = "http://dicom.nema.org/PS3.19/models/NativeDICOM"'
EDITION_VR_END = '| "US" | "UT" }'
NEWER_VRS = ("OL", "OV", "SV", "UC", "UR", "UV")


@dataclass(frozen=True)
class Schemas:
    strict_rnc: Path
    current_rnc: Path
    strict: etree.RelaxNG
    current: etree.RelaxNG


def _texts() -> tuple[str, str]:
    if not REFERENCE.is_file():
        unavailable(f"the PS3.19 schema is not at {REFERENCE}")
    text = "\n".join(line for line in REFERENCE.read_text().splitlines() if not line.startswith("#"))
    assert "default namespace" not in text, "reference now declares its namespace: drop the patch"
    strict = NAMESPACE_LINE + "\n" + text
    assert strict.count(EDITION_VR_END) == 1, "the VR choice of the reference schema changed"
    newer = "".join(f' | "{vr}"' for vr in NEWER_VRS)
    current = strict.replace(EDITION_VR_END, EDITION_VR_END[:-2] + newer + " }")
    return strict, current


@cache
def schemas(tmp: Path) -> Schemas:
    """Both schemas as .rnc (for jing) and compiled from trang's .rng (for lxml), under ``tmp``."""
    trang = need_tool("trang", "trang")
    strict_text, current_text = _texts()
    compiled = []
    for name, text in (("strict", strict_text), ("current", current_text)):
        rnc, rng = tmp / f"{name}.rnc", tmp / f"{name}.rng"
        rnc.write_text(text)
        subprocess.run([trang, "-I", "rnc", "-O", "rng", str(rnc), str(rng)], check=True)
        compiled.append((rnc, etree.RelaxNG(etree.parse(str(rng)))))
    (strict_rnc, strict), (current_rnc, current) = compiled
    return Schemas(strict_rnc, current_rnc, strict, current)


def uses_newer_vr(root) -> bool:
    return any(el.get("vr") in NEWER_VRS for el in root.iter("{*}DicomAttribute"))
