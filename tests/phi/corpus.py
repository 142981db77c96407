"""Planted-PHI corpus: Part-10 files carrying a unique, recorded value in every attribute of PS3.15 Table E.1-1.

Each attribute whose Basic Profile action is not K (in 2025b: all 647 rows) gets a value that identifies exactly
where it was planted: a token ``QZ`` + 6 characters inside text, a UID under ``UID_ROOT``, a date of its own in
1937..1951, a time of its own with a leading-zero hour, or a distinctive number. It is planted at the top level
and again one and two Sequence levels deep, because peers were reported to skip nested actions (deid #243) and
the walker is where engines differ. Around that: private blocks (dicognito kept names and dates in them), an
overlay and a curve (peers kept overlays), a Comprehensive SR, a multi-frame object, four transfer syntaxes and
two character sets, so that a leak through any of those paths is caught by the scanner (``scanner.py``).

The expectations come from the reference copy of the standard's table (``table_path()``), never from the
engine's own generated table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.values import convert_SQ
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
)

TABLE_ENV = "WADOWS_PS315_TABLE"
DEFAULT_TABLE = Path("/work/shared/reference/ps3.15/table_E1-1_2025b.json")

# dcm4che's option names (what users configure) -> the column of Table E.1-1 they select. Clean Pixel Data and
# Clean Recognizable Visual Features act on pixels and have no column.
OPTION_COLUMNS: dict[str, str | None] = {
    "RetainSafePrivateOption": "rtnSafePrivOpt",
    "RetainUIDsOption": "rtnUIDsOpt",
    "RetainDeviceIdentityOption": "rtnDevIdOpt",
    "RetainInstitutionIdentityOption": "rtnInstIdOpt",
    "RetainPatientCharacteristicsOption": "rtnPatCharsOpt",
    "RetainLongitudinalTemporalInformationFullDatesOption": "rtnLongFullDatesOpt",
    "RetainLongitudinalTemporalInformationModifiedDatesOption": "rtnLongModifDatesOpt",
    "CleanDescriptorsOption": "cleanDescOpt",
    "CleanStructuredContentOption": "cleanStructContOpt",
    "CleanGraphicsOption": "cleanGraphOpt",
    "CleanPixelDataOption": None,
    "CleanRecognizableVisualFeaturesOption": None,
}
# PS3.16 CID 7050 De-identification Method.
BASIC_PROFILE_CODE = "113100"
OPTION_CODES: dict[str, str] = {
    "CleanPixelDataOption": "113101",
    "CleanRecognizableVisualFeaturesOption": "113102",
    "CleanGraphicsOption": "113103",
    "CleanStructuredContentOption": "113104",
    "CleanDescriptorsOption": "113105",
    "RetainLongitudinalTemporalInformationFullDatesOption": "113106",
    "RetainLongitudinalTemporalInformationModifiedDatesOption": "113107",
    "RetainPatientCharacteristicsOption": "113108",
    "RetainDeviceIdentityOption": "113109",
    "RetainUIDsOption": "113110",
    "RetainSafePrivateOption": "113111",
    "RetainInstitutionIdentityOption": "113112",
}
_COLUMNS = tuple(c for c in OPTION_COLUMNS.values() if c)

TOKEN_PREFIX = "QZ"
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# An arc no registrar hands out, so no real UID (and no engine-made 2.25 UID) can start with it.
UID_ROOT = "1.2.999.31415"
FIRST_DAY, LAST_DAY = dt.date(1937, 1, 1), dt.date(1951, 12, 31)

# Kinds of planted value; the scanner searches each its own way.
TEXT, LITERAL, UID, DATE, TIME, NUMBER, BINARY = "text", "literal", "uid", "date", "time", "number", "binary"

PRIVATE_ROW = "(GGGG,EEEE) WHERE GGGG IS ODD"
CURVE_ROW, OVERLAY_DATA_ROW, OVERLAY_COMMENTS_ROW = "(50XX,XXXX)", "(60XX,3000)", "(60XX,4000)"
# PS3.15 Table E.3.10-1 lists (0019,xx23) "Table Speed [mm/rotation]" DS under creator GEMS_ACQU_01 as safe.
SAFE_PRIVATE_CREATOR, SAFE_PRIVATE_GROUP, SAFE_PRIVATE_ELEMENT = "GEMS_ACQU_01", 0x0019, 0x23

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2.1"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"

# Attributes of Table E.1-1 (2025b) that pydicom 3.0's dictionary does not know yet; VRs from PS3.6 2025b.
_VR_MISSING_IN_PYDICOM = {
    0x00081301: "SQ", 0x00081302: "SQ", 0x00081303: "SQ", 0x00081304: "SQ",
    0x00100011: "SQ", 0x00100012: "LT", 0x00100013: "UT", 0x00100014: "SQ", 0x00100015: "SQ", 0x00100016: "UT",
    0x00100041: "SQ", 0x00100042: "UT", 0x00100043: "SQ", 0x00100044: "SQ", 0x00100045: "UT", 0x00100046: "SQ",
    0x00100047: "UR", 0x00102162: "UC",
    0x0040A034: "DT", 0x0040A035: "DT", 0x0040B034: "DT", 0x0040B036: "DT",
    # Montage Name / Channel Label: short text; a token that fits SH fits whatever string VR they have.
    0x0040B03B: "LO", 0x0040B03F: "LO",
}
_CONCRETE = re.compile(r"^\(([0-9A-F]{4}),([0-9A-F]{4})\)$")
# Only legal at the top level of a Part-10 data set (or not in one at all), so not repeated inside items.
_TOP_LEVEL_ONLY_GROUPS = {0x0000, 0x0002, 0xFFFA, 0xFFFC}

# Attributes planted in the smaller objects and at the two table-sequence levels of the Request Attributes example.
CORE_TAGS = (
    "(0008,0012)", "(0008,0013)", "(0008,0021)", "(0008,0022)", "(0008,0023)", "(0008,002A)", "(0008,0031)",
    "(0008,0032)", "(0008,0033)", "(0008,0080)", "(0008,0081)", "(0008,1010)", "(0008,103E)", "(0008,1040)",
    "(0008,1050)", "(0008,1070)", "(0008,1155)", "(0010,0040)", "(0010,1010)", "(0010,1020)", "(0010,1030)",
    "(0010,2160)", "(0018,1000)", "(0018,1030)", "(0020,0052)", "(0020,4000)", "(0032,4000)", "(0040,0244)",
    "(0040,0245)", "(0040,0253)", "(0040,0254)", "(0040,1001)", "(0040,A073)", "(0040,A075)", "(0040,A027)",
    "(0040,A030)", "(0040,A730)",
)


def tag_str(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@dataclass(frozen=True)
class Row:
    """One row of Table E.1-1: the Basic Profile action and the action of each Option that has a column."""

    tag: str
    name: str
    basic: str
    columns: tuple[tuple[str, str], ...]

    def column(self, column: str) -> str | None:
        return dict(self.columns).get(column)

    def action(self, options: Iterable[str] = ()) -> str:
        """The action with these Options: a selected Option's column replaces the Basic Profile action. Where two
        selected Options disagree, K wins over C (what MAY survive is the union of what each Option retains)."""
        chosen = {self.column(c) for o in options if (c := OPTION_COLUMNS.get(o))} - {None}
        if "K" in chosen:
            return "K"
        if "C" in chosen:
            return "C"
        return self.basic


def table_path() -> Path:
    return Path(os.environ.get(TABLE_ENV) or DEFAULT_TABLE)


def load_table(path: Path | None = None) -> tuple[Row, ...]:
    rows = json.loads((path or table_path()).read_text(encoding="utf-8"))
    return tuple(
        Row(
            tag=r["tag"].strip(),
            name=" ".join(r["name"].split()),
            basic=r["basicProfile"].strip(),
            columns=tuple((c, r[c].strip()) for c in _COLUMNS if c in r),
        )
        for r in rows
    )


class Profile:
    """The table, indexed by concrete tag, with the range rows (curves, overlays, private) resolved."""

    def __init__(self, rows: tuple[Row, ...]):
        self.rows = rows
        self._by_tag = {r.tag: r for r in rows}
        self.private = self._by_tag[PRIVATE_ROW]

    def row(self, tag: str) -> Row:
        return self._by_tag[tag]

    def row_for(self, tag: int) -> Row | None:
        group, element = tag >> 16, tag & 0xFFFF
        if group % 2:
            return self.private
        if 0x5000 <= group <= 0x501E:
            return self._by_tag[CURVE_ROW]
        if 0x6000 <= group <= 0x601E:
            # The table names only Overlay Data and Comments. An overlay plane without its Data is not a plane
            # (PS3.3 C.9.2), so the auditor holds the plane's other text (Description, Label) to Overlay Data's
            # action: removed with it, cleaned with it under Clean Graphics.
            return self._by_tag[OVERLAY_COMMENTS_ROW if element == 0x4000 else OVERLAY_DATA_ROW]
        return self._by_tag.get(tag_str(tag))

    def concrete(self) -> list[tuple[int, Row]]:
        out = []
        for row in self.rows:
            if m := _CONCRETE.match(row.tag):
                out.append((int(m[1] + m[2], 16), row))
        return out


def vr_for(tag: int) -> str:
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        vr = _VR_MISSING_IN_PYDICOM[tag]
    return vr.split(" or ")[0]  # "OB or OW" -> OB, "US or SS" -> US


@dataclass(eq=False)
class PlantedValue:
    """A value planted in the corpus. ``value`` is what the scanner matches (a token, UID, YYYYMMDD date, HHMMSS
    time, number, or a non-ASCII literal); ``written`` the whole attribute value it sits in. ``row`` is the
    table row of the attribute holding it (None: an attribute the table does not list) and ``ancestors`` the rows
    of the Sequences around it, outermost first. ``sites`` lists every (file, path) carrying it: patient and
    study identifiers and referenced UIDs recur across objects."""

    value: str
    kind: str
    written: str
    vr: str
    file: str
    path: str
    row: Row | None
    ancestors: tuple[Row | None, ...]
    patient: str
    safe_private: bool = False
    sites: list[tuple[str, str]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.value)

    def __str__(self) -> str:
        where = f"{self.row.tag} {self.row.name}" if self.row else "not in Table E.1-1"
        more = f" (and {len(self.sites) - 1} more places: {self.sites[1][0]}:{self.sites[1][1]}...)" \
            if len(self.sites) > 1 else ""
        return f"{self.kind} {self.value!r} planted at {self.file}:{self.path} [{where}]{more}"


@dataclass(frozen=True)
class Reference:
    """An attribute that points at another corpus object: after de-identification it must hold the same new UID
    as the target's own attribute. ``always_kept`` is False where the table lets the engine drop the holder."""

    file: str
    path: str
    target: str
    attribute: str  # "sop" | "series" | "study"
    always_kept: bool = True


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    path: Path
    patient: str
    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    transfer_syntax_uid: str
    charset: str

    def uid(self, attribute: str) -> str:
        return {"sop": self.sop_instance_uid, "series": self.series_instance_uid,
                "study": self.study_instance_uid}[attribute]


@dataclass(eq=False)
class Corpus:
    root: Path
    seed: int
    profile: Profile
    objects: dict[str, ObjectInfo]
    values: list[PlantedValue]
    references: list[Reference]
    _index: dict[tuple[str, str], PlantedValue] = field(default_factory=dict, repr=False)

    def files(self) -> list[Path]:
        return [o.path for o in self.objects.values()]

    def lookup(self, kind: str, value: str) -> PlantedValue | None:
        if not self._index:
            self._index.update((pv.key, pv) for pv in self.values)
        return self._index.get((kind, value))

    def values_at(self, file: str) -> list[PlantedValue]:
        return [pv for pv in self.values if any(f == file for f, _ in pv.sites)]


def resolve(ds: Dataset, path: str):
    """The element at ``path`` ("(0040,0275)[0].(0008,1110)[0].(0008,1155)") in ``ds`` or its file meta, or None."""
    node = ds
    parts = path.split(".")
    for i, part in enumerate(parts):
        m = re.fullmatch(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)(?:\[(\d+)\])?", part)
        tag = int(m[1] + m[2], 16)
        holder = node.file_meta if tag >> 16 == 0x0002 and node is ds else node
        if holder is None or tag not in holder:
            return None
        element = holder[tag]
        if m[3] is None:
            return element if i == len(parts) - 1 else None
        if element.VR == "UN" and isinstance(element.value, bytes):
            # Implicit VR: a Sequence the reader's dictionary does not know (new or private) arrives as UN.
            items = convert_SQ(element.value, True, True)
        elif element.VR == "SQ":
            items = element.value
        else:
            return None
        if int(m[3]) >= len(items):
            return None
        node = items[int(m[3])]
    return None


@dataclass(frozen=True)
class _Site:
    file: str
    prefix: str
    ancestors: tuple[Row | None, ...]
    patient: str
    nested: bool = False

    def child(self, path: str, row: Row | None) -> _Site:
        return _Site(self.file, path + ".", self.ancestors + (row,), self.patient, True)


class _Planter:
    """Draws unique values (deterministic for a seed) and records where each one went."""

    def __init__(self, seed: int, profile: Profile):
        self.rng = random.Random(seed)
        self.seed = seed
        self.profile = profile
        self.values: list[PlantedValue] = []
        self._taken: set[str] = set()
        self._days = [FIRST_DAY + dt.timedelta(d) for d in range((LAST_DAY - FIRST_DAY).days + 1)]
        self.rng.shuffle(self._days)
        self._uids = 0
        self._binary = 0x4D00
        self.shared: dict[str, tuple[str, list[PlantedValue]]] = {}

    # -- value pools -------------------------------------------------------------------------------------------
    def _unique(self, make) -> str:
        while (v := make()) in self._taken:
            pass
        self._taken.add(v)
        return v

    def token(self) -> str:
        return self._unique(lambda: TOKEN_PREFIX + "".join(self.rng.choices(TOKEN_ALPHABET, k=6)))

    def uid(self) -> str:
        # Fixed width: no planted UID is a prefix of another, so a match is never ambiguous between two of them.
        self._uids += 1
        return f"{UID_ROOT}.{self.seed}.{100000 + self._uids}"

    def date(self) -> str:
        return self._days.pop().strftime("%Y%m%d")

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choices("0123456789", k=n))

    def time(self) -> str:
        # A leading-zero hour cannot be a UID component, so a scan for it does not trip over new UIDs.
        hhmmss = self._unique(lambda: f"0{self.rng.randint(1, 9)}{self.rng.randint(0, 59):02d}"
                                      f"{self.rng.randint(0, 59):02d}")
        return f"{hhmmss}.{self._digits(6)}"

    def decimal(self) -> str:
        return self._unique(lambda: f"4{self._digits(3)}.{self._digits(5)}")

    def integer(self) -> str:
        return self._unique(lambda: f"4{self._digits(6)}")

    def age(self) -> str:
        return self._unique(lambda: f"{self.rng.randint(101, 999)}{self.rng.choice('DWMY')}")

    # -- recording ---------------------------------------------------------------------------------------------
    def record(self, site: _Site, path: str, kind: str, value: str, written: str, vr: str, row: Row | None,
               *, safe_private: bool = False) -> PlantedValue:
        pv = PlantedValue(value, kind, written, vr, site.file, path, row, site.ancestors, site.patient,
                          safe_private, [(site.file, path)])
        self.values.append(pv)
        return pv

    def value_for(self, vr: str) -> tuple[str, str, str, object]:
        """(kind, matched value, written text, element value) for an attribute of this VR."""
        if vr in ("PN", "CS", "AE", "SH", "LO", "UC", "LT", "ST", "UT", "UR", "OB", "OW", "UN"):
            t = self.token()
            written = {
                "PN": f"{t}^Planted", "LO": f"Planted {t}", "UC": f"Planted {t}",
                "LT": f"Free text naming {t} in a sentence.", "ST": f"Free text naming {t} in a sentence.",
                "UT": f"Free text naming {t} in a sentence.", "UR": f"http://{t.lower()}.example.invalid/planted",
            }.get(vr, t)
            if vr in ("OB", "OW", "UN"):
                raw = f"Planted {t} ".encode()
                return TEXT, t, raw.decode(), raw + b"\0" * (len(raw) % 2)
            return TEXT, t, written, written
        if vr == "DA":
            d = self.date()
            return DATE, d, d, d
        if vr == "DT":
            d = self.date()
            written = f"{d}{self.rng.randint(10, 23):02d}{self.rng.randint(0, 59):02d}00.{self._digits(6)}"
            return DATE, d, written, written
        if vr == "TM":
            t = self.time()
            return TIME, t[:6], t, t
        if vr == "UI":
            u = self.uid()
            return UID, u, u, u
        if vr in ("DS", "IS", "AS"):
            n = {"DS": self.decimal, "IS": self.integer, "AS": self.age}[vr]()
            return NUMBER, n, n, n
        if vr in ("US", "SS"):
            self._binary += 1
            return BINARY, str(self._binary), str(self._binary), self._binary
        raise ValueError(f"no planted value for VR {vr}")

    # -- planting ----------------------------------------------------------------------------------------------
    def plant(self, ds: Dataset, tag: int, row: Row | None, site: _Site, vr: str | None = None) -> None:
        vr = vr or vr_for(tag)
        path = site.prefix + tag_str(tag)
        if vr == "SQ":
            item = Dataset()
            ds.add_new(tag, "SQ", [item])
            self.fill_item(item, row, site.child(path + "[0]", row))
            return
        kind, value, written, element_value = self.value_for(vr)
        ds.add_new(tag, vr, element_value)
        self.record(site, path, kind, value, written, vr, row)

    def plant_rows(self, ds: Dataset, site: _Site, tags: Iterable[str] | None = None) -> None:
        """Every concrete row of the table (or those of ``tags``) not yet present in ``ds``."""
        wanted = set(tags) if tags is not None else None
        for tag, row in self.profile.concrete():
            if wanted is not None and row.tag not in wanted:
                continue
            if tag >> 16 in _TOP_LEVEL_ONLY_GROUPS and (site.nested or tag >> 16 in (0x0000, 0x0002)):
                continue  # group 0000 gets its own object; 0002 lives in the file meta
            if tag not in ds:
                self.plant(ds, tag, row, site)

    def fill_item(self, item: Dataset, row: Row | None, site: _Site) -> None:
        """The item of a planted Sequence: a tokenised child the Sequence's own action must cover. Sequences whose
        action allows U* keep their items with UIDs replaced, so only a UID goes in those."""
        if row is not None and "Code Sequence" in row.name and "U*" not in row.basic:
            self.plant_code(item, site)
            return
        item.ReferencedSOPClassUID = CT_IMAGE
        self.plant(item, 0x00081155, self.profile.row("(0008,1155)"), site)
        if row is None or "U*" not in row.basic:
            self.plant(item, 0x0040A160, None, site, "UT")  # Text Value: not in the table

    def plant_code(self, item: Dataset, site: _Site) -> None:
        value = self.token()
        item.add_new(0x00080100, "SH", value)
        self.record(site, site.prefix + "(0008,0100)", TEXT, value, value, "SH", None)
        item.CodingSchemeDesignator = "99PLANTED"
        meaning = self.token()
        item.add_new(0x00080104, "LO", f"Planted meaning {meaning}")
        self.record(site, site.prefix + "(0008,0104)", TEXT, meaning, f"Planted meaning {meaning}", "LO", None)

    def plant_private(self, ds: Dataset, site: _Site, *, safe: bool) -> None:
        """A private block with a tokenised creator, names, dates, a UID, bytes and a nested Sequence; with
        ``safe`` also a block with one attribute of PS3.15 Table E.3.10-1 and one that is not on it."""
        row = self.profile.private
        creator = self.token()
        block = ds.private_block(0x0009, f"PLANTED {creator}", create=True)
        self.record(site, site.prefix + tag_str(0x00090000 | block.block_start >> 8), TEXT, creator,
                    f"PLANTED {creator}", "LO", row)
        for offset, vr in ((0x10, "LO"), (0x11, "PN"), (0x12, "DA"), (0x13, "DT"), (0x14, "TM"), (0x15, "UI"),
                           (0x16, "OB"), (0x17, "SQ")):
            self.plant(ds, block.get_tag(offset), row, site, vr)
        item = ds[block.get_tag(0x17)].value[0]
        self.plant(item, 0x00100010, self.profile.row("(0010,0010)"), site.child(
            site.prefix + tag_str(block.get_tag(0x17)) + "[0]", row))
        if safe:
            gems = ds.private_block(SAFE_PRIVATE_GROUP, SAFE_PRIVATE_CREATOR, create=True)
            speed = self.decimal()
            gems.add_new(SAFE_PRIVATE_ELEMENT, "DS", speed)
            self.record(site, site.prefix + tag_str(gems.get_tag(SAFE_PRIVATE_ELEMENT)), NUMBER, speed, speed,
                        "DS", row, safe_private=True)
            self.plant(ds, gems.get_tag(0xFE), row, site, "LO")  # same creator, not on the safe list

    def plant_overlay(self, ds: Dataset, site: _Site, group: int = 0x6000) -> None:
        g = group << 16
        ds.add_new(g | 0x0010, "US", 16)
        ds.add_new(g | 0x0011, "US", 16)
        ds.add_new(g | 0x0040, "CS", "G")
        ds.add_new(g | 0x0050, "SS", [1, 1])
        ds.add_new(g | 0x0100, "US", 1)
        ds.add_new(g | 0x0102, "US", 0)
        for element in (0x0022, 0x1500, 0x4000):  # Description, Label, Comments
            tag = g | element
            self.plant(ds, tag, self.profile.row_for(tag), site)
        token = self.token()
        bits = f"OVL {token}".encode().ljust(32, b"\0")  # 16 x 16 bits; the token sits in the bitmap itself
        ds.add_new(g | 0x3000, "OB", bits)
        self.record(site, site.prefix + tag_str(g | 0x3000), TEXT, token, bits.decode().rstrip("\0"), "OB",
                    self.profile.row_for(g | 0x3000))

    def plant_curve(self, ds: Dataset, site: _Site, group: int = 0x5000) -> None:
        g = group << 16
        ds.add_new(g | 0x0005, "US", 1)
        ds.add_new(g | 0x0010, "US", 4)
        ds.add_new(g | 0x0020, "CS", "TAC")
        ds.add_new(g | 0x0103, "US", 0)
        for element, vr in ((0x0022, "LO"), (0x2500, "LO"), (0x3000, "OB")):  # Description, Label, Data
            tag = g | element
            self.plant(ds, tag, self.profile.row_for(tag), site, vr)

    def set_shared(self, ds: Dataset, tag: int, key: str, site: _Site, make) -> str:
        """Set an attribute every object of a patient or study shares; its planted values gain a site."""
        path = site.prefix + tag_str(tag)
        if key in self.shared:
            written, pvs = self.shared[key]
            for pv in pvs:
                pv.sites.append((site.file, path))
        else:
            written, pvs = make(path)
            self.shared[key] = (written, pvs)
        ds.add_new(tag, vr_for(tag), written)
        return written

    def add_site(self, key: str, file: str, path: str) -> str:
        written, pvs = self.shared[key]
        for pv in pvs:
            pv.sites.append((file, path))
        return written


@dataclass(frozen=True)
class _Patient:
    key: str
    charset: str
    family: str  # non-ASCII, planted as a literal next to the token, to exercise the character set
    given: str


_PATIENTS = {
    "A": _Patient("A", "ISO_IR 192", "Łukasiewicz", "Zoë"),
    "B": _Patient("B", "ISO_IR 100", "Ærøskøbing", "Bjørn"),
}


# name -> (patient, SOP Class): what the references need to know before the target object is built.
_OBJECTS = {
    "ct_implicit": ("A", CT_IMAGE), "ct_explicit": ("A", CT_IMAGE), "mf_rle": ("A", ENHANCED_CT_IMAGE),
    "sr": ("A", COMPREHENSIVE_SR), "mr_deflated": ("B", MR_IMAGE), "command_elements": ("B", MR_IMAGE),
}


class _Builder:
    def __init__(self, out_dir: Path, seed: int, profile: Profile):
        self.out_dir = out_dir
        self.p = _Planter(seed, profile)
        self.profile = profile
        self.objects: dict[str, ObjectInfo] = {}
        self.references: list[Reference] = []
        self.series: dict[str, str] = {}
        self.sops: dict[str, str] = {}

    def row(self, tag: str) -> Row:
        return self.profile.row(tag)

    def new_object(self, name: str, patient: _Patient, sop_class: str, modality: str) -> tuple[Dataset, _Site]:
        """A data set with the identifiers that make an object: patient, study, series, instance."""
        p, site = self.p, _Site(name, "", (), patient.key)
        ds = Dataset()
        ds.SpecificCharacterSet = patient.charset
        ds.SOPClassUID = sop_class
        ds.Modality = modality

        def uid_maker(kind):
            def make(path):
                u = p.uid()
                return u, [p.record(site, path, UID, u, u, "UI", self.profile.row_for(kind))]
            return make

        p.set_shared(ds, 0x00080018, f"sop:{name}", site, uid_maker(0x00080018))
        p.shared[f"sop:{name}"][1][0].sites.append((name, "(0002,0003)"))
        p.set_shared(ds, 0x0020000E, f"series:{name}", site, uid_maker(0x0020000E))
        p.set_shared(ds, 0x0020000D, f"study:{patient.key}", site, uid_maker(0x0020000D))

        def name_maker(path):
            t = p.token()
            written = f"{patient.family} {t}^{patient.given}"
            row = self.row("(0010,0010)")
            return written, [p.record(site, path, TEXT, t, written, "PN", row),
                             p.record(site, path, LITERAL, patient.family, written, "PN", row)]

        p.set_shared(ds, 0x00100010, f"name:{patient.key}", site, name_maker)
        for tag, key in ((0x00100020, "id"), (0x00100030, "birth"), (0x00080020, "studydate"),
                         (0x00080030, "studytime"), (0x00080050, "accession"), (0x00200010, "studyid"),
                         (0x00080090, "referring"), (0x00081030, "studydesc")):
            def make(path, tag=tag):
                kind, value, written, element_value = p.value_for(vr_for(tag))
                return element_value, [p.record(site, path, kind, value, written, vr_for(tag),
                                                self.profile.row_for(tag))]
            p.set_shared(ds, tag, f"{key}:{patient.key}", site, make)
        self.sops[name] = ds.SOPInstanceUID
        self.series[name] = ds.SeriesInstanceUID
        return ds, site

    def reference(self, item: Dataset, site: _Site, target: str, *, attribute: str = "sop",
                  always_kept: bool = True) -> None:
        tag = {"sop": 0x00081155, "series": 0x0020000E, "study": 0x0020000D}[attribute]
        path = site.prefix + tag_str(tag)
        if attribute == "sop":
            item.ReferencedSOPClassUID = _OBJECTS[target][1]
        key = {"sop": f"sop:{target}", "series": f"series:{target}", "study": f"study:{_OBJECTS[target][0]}"}[attribute]
        item.add_new(tag, "UI", self.p.add_site(key, site.file, path))
        self.references.append(Reference(site.file, path, target, attribute, always_kept))

    def write(self, ds: Dataset, name: str, transfer_syntax: str, patient: _Patient) -> None:
        path = self.out_dir / f"{name}.dcm"
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = transfer_syntax
        ds.file_meta = meta
        if transfer_syntax == RLELossless:
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.compress(RLELossless, encoding_plugin="pydicom", generate_instance_uid=False)
        head = DicomBytesIO()
        head.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(head, ds.file_meta, enforce_standard=True)
        # Written by hand rather than dcmwrite: it refuses the command group (0000,eeee) the table lists.
        body = DicomBytesIO()
        body.is_little_endian, body.is_implicit_VR = True, transfer_syntax == ImplicitVRLittleEndian
        write_dataset(body, ds)
        payload = body.getvalue()
        if transfer_syntax == DeflatedExplicitVRLittleEndian:
            deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = deflate.compress(payload) + deflate.flush()
        path.write_bytes(head.getvalue() + payload)
        self.objects[name] = ObjectInfo(name, path, patient.key, ds.SOPClassUID, ds.SOPInstanceUID,
                                        ds.SeriesInstanceUID, ds.StudyInstanceUID, transfer_syntax, patient.charset)


def _pixels(ds: Dataset, frames: int = 1, size: int = 16) -> None:
    """Pixel bytes kept outside printable ASCII (low byte >= 0x80, high byte < 8) so they cannot spell a planted
    date or time by accident."""
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.BurnedInAnnotation = "NO"
    grid = np.add.outer(np.arange(size) * 7, np.arange(size) * 3)
    frame = (0x80 + grid % 0x70) | ((grid % 8) << 8)
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = np.stack([frame + f for f in range(frames)]).astype("<u2").tobytes()


def corpus_for_tests(out_dir: Path, *, seed: int = 0) -> Corpus:
    """The corpus, or a skip (a failure when CI=true) naming why it cannot be built: the reference table
    lives beside the repository, not in it."""
    from support.needs import unavailable

    if not table_path().is_file():
        msg = f"PS3.15 Table E.1-1 reference copy not found at {table_path()} (set {TABLE_ENV})"
        unavailable(msg)
    return build_corpus(out_dir, seed=seed)


def build_corpus(out_dir: Path, *, seed: int = 0, table: Path | None = None) -> Corpus:
    """Write the corpus into ``out_dir`` (created if needed) and return what was planted where."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = Profile(load_table(table))
    b = _Builder(out_dir, seed, profile)
    p = b.p
    a, pb = _PATIENTS["A"], _PATIENTS["B"]

    # Implicit VR: private and not-yet-in-pydicom attributes come back as UN; the engine must still act on them.
    ct_implicit, site = b.new_object("ct_implicit", a, CT_IMAGE, "CT")
    p.plant_rows(ct_implicit, site)
    p.plant_private(ct_implicit, site, safe=True)
    p.plant_overlay(ct_implicit, site)
    _pixels(ct_implicit)

    # The kitchen sink: every row at the top, one and two levels deep, in table Sequences, with curve/overlay.
    ct, site = b.new_object("ct_explicit", a, CT_IMAGE, "CT")
    p.plant_rows(ct, site)
    p.plant_private(ct, site, safe=True)
    p.plant_overlay(ct, site)
    p.plant_curve(ct, site)
    level1 = Dataset()
    ct.ReferencedSeriesSequence = [level1]  # (0008,1115) and (0008,114A): not in the table, so they are kept
    s1 = site.child("(0008,1115)[0]", None)
    p.plant_rows(level1, s1)
    p.plant_private(level1, s1, safe=False)
    level2 = Dataset()
    level1.ReferencedInstanceSequence = [level2]
    s2 = s1.child("(0008,1115)[0].(0008,114A)[0]", None)
    p.plant_rows(level2, s2)
    p.plant_private(level2, s2, safe=False)
    ref_series = Dataset()
    ct.ReferencedSeriesSequence.append(ref_series)
    b.reference(ref_series, site.child("(0008,1115)[1]", None), "ct_implicit", attribute="series")
    ref_instance = Dataset()
    ref_series.ReferencedInstanceSequence = [ref_instance]
    b.reference(ref_instance, site.child("(0008,1115)[1].(0008,114A)[0]", None), "ct_implicit")
    request = Dataset()  # the table's own Sequences nested: Request Attributes > Referenced Study > tokens
    ct.RequestAttributesSequence.append(request)
    r1 = site.child("(0040,0275)[1]", b.row("(0040,0275)"))
    p.plant_rows(request, r1, CORE_TAGS)
    study_ref = Dataset()
    request.ReferencedStudySequence = [study_ref]
    p.plant_rows(study_ref, r1.child("(0040,0275)[1].(0008,1110)[0]", b.row("(0008,1110)")), CORE_TAGS)
    _pixels(ct)

    mf = _multiframe(b, a)
    sr = _structured_report(b, a)

    mr, site = b.new_object("mr_deflated", pb, MR_IMAGE, "MR")
    p.plant_rows(mr, site)
    p.plant_private(mr, site, safe=True)
    _pixels(mr)

    cmd, site = b.new_object("command_elements", pb, MR_IMAGE, "MR")
    for tag in (0x00001000, 0x00001001):  # Affected / Requested SOP Instance UID: listed, X / U
        p.plant(cmd, tag, profile.row_for(tag), site)
    _pixels(cmd)

    b.write(ct_implicit, "ct_implicit", ImplicitVRLittleEndian, a)
    b.write(ct, "ct_explicit", ExplicitVRLittleEndian, a)
    b.write(mf, "mf_rle", RLELossless, a)
    b.write(sr, "sr", ExplicitVRLittleEndian, a)
    b.write(mr, "mr_deflated", DeflatedExplicitVRLittleEndian, pb)
    b.write(cmd, "command_elements", ExplicitVRLittleEndian, pb)
    return Corpus(out_dir, seed, profile, b.objects, p.values, b.references)


def _multiframe(b: _Builder, patient: _Patient) -> Dataset:
    """Enhanced CT, three frames, RLE Lossless: frame dates and comments live two levels deep in the functional
    groups, where they naturally are."""
    p = b.p
    ds, site = b.new_object("mf_rle", patient, ENHANCED_CT_IMAGE, "CT")
    p.plant_rows(ds, site, CORE_TAGS)
    p.plant_private(ds, site, safe=False)
    per_frame = []
    for i in range(3):
        content = Dataset()
        s = site.child(f"(5200,9230)[{i}]", None).child(f"(5200,9230)[{i}].(0020,9111)[0]", None)
        for tag in ("(0018,9074)", "(0018,9151)", "(0020,9158)"):  # Frame Acquisition/Reference DateTime, Comments
            p.plant(content, int(tag[1:5] + tag[6:10], 16), b.row(tag), s)
        frame = Dataset()
        frame.FrameContentSequence = [content]
        per_frame.append(frame)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    source = Dataset()
    ds.SourceImageSequence = [source]  # X/Z/U*: the engine may drop it, so checked only where kept
    b.reference(source, site.child("(0008,2112)[0]", b.row("(0008,2112)")), "ct_explicit", always_kept=False)
    _pixels(ds, frames=3)
    return ds


def _code(value: str, meaning: str, scheme: str = "DCM") -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _structured_report(b: _Builder, patient: _Patient) -> Dataset:
    """Comprehensive SR: names, dates, times, text, codes and UID references in the Content Sequence (one and two
    levels), a Verifying Observer, and evidence references that must follow the referenced objects' new UIDs."""
    p = b.p
    ds, site = b.new_object("sr", patient, COMPREHENSIVE_SR, "SR")
    skip = {"(0040,A073)", "(0040,A075)", "(0040,A027)", "(0040,A030)", "(0040,A730)"}
    p.plant_rows(ds, site, [t for t in CORE_TAGS if t not in skip])
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "VERIFIED"
    ds.ConceptNameCodeSequence = [_code("126000", "Imaging Measurement Report")]

    observer = Dataset()
    ds.VerifyingObserverSequence = [observer]
    so = site.child("(0040,A073)[0]", b.row("(0040,A073)"))
    for tag in ("(0040,A075)", "(0040,A027)", "(0040,A030)", "(0040,A088)"):
        p.plant(observer, int(tag[1:5] + tag[6:10], 16), b.row(tag), so)

    content_row = b.row("(0040,A730)")

    def item(index: int, value_type: str, prefix: str, ancestors_site: _Site) -> tuple[Dataset, _Site]:
        it = Dataset()
        it.RelationshipType, it.ValueType = "CONTAINS", value_type
        it.ConceptNameCodeSequence = [_code("121106", "Comment")]
        return it, ancestors_site.child(f"{prefix}[{index}]", content_row)

    items = []
    for i, (value_type, tag) in enumerate((("PNAME", "(0040,A123)"), ("DATE", "(0040,A121)"),
                                           ("TIME", "(0040,A122)"), ("DATETIME", "(0040,A120)"))):
        it, s = item(i, value_type, "(0040,A730)", site)
        p.plant(it, int(tag[1:5] + tag[6:10], 16), b.row(tag), s)
        items.append(it)
    it, s = item(4, "TEXT", "(0040,A730)", site)
    p.plant(it, 0x0040A160, None, s, "UT")
    p.plant(it, 0x0040A032, b.row("(0040,A032)"), s)  # Observation DateTime
    p.plant(it, 0x0040A171, b.row("(0040,A171)"), s)  # Observation UID
    items.append(it)
    it, s = item(5, "UIDREF", "(0040,A730)", site)
    it.add_new(0x0040A124, "UI", p.add_site("sop:ct_implicit", "sr", s.prefix + "(0040,A124)"))
    b.references.append(Reference("sr", s.prefix + "(0040,A124)", "ct_implicit", "sop", always_kept=False))
    items.append(it)
    it, s = item(6, "IMAGE", "(0040,A730)", site)
    ref = Dataset()
    it.ReferencedSOPSequence = [ref]
    b.reference(ref, s.child(s.prefix + "(0008,1199)[0]", None), "ct_explicit", always_kept=False)
    items.append(it)
    it, s = item(7, "CODE", "(0040,A730)", site)
    concept = Dataset()
    it.ConceptCodeSequence = [concept]
    p.plant_code(concept, s.child(s.prefix + "(0040,A168)[0]", None))
    items.append(it)
    container, s = item(8, "CONTAINER", "(0040,A730)", site)
    container.ContinuityOfContent = "SEPARATE"
    children = []
    for j, (value_type, tag, vr) in enumerate((("TEXT", 0x0040A160, "UT"), ("PNAME", 0x0040A123, None),
                                               ("DATE", 0x0040A121, None))):
        child, cs = item(j, value_type, s.prefix + "(0040,A730)", s)
        p.plant(child, tag, b.profile.row_for(tag), cs, vr)
        children.append(child)
    container.ContentSequence = children
    items.append(container)
    ds.ContentSequence = items

    evidence = Dataset()
    ds.CurrentRequestedProcedureEvidenceSequence = [evidence]  # (0040,A375): not in the table
    se = site.child("(0040,A375)[0]", None)
    b.reference(evidence, se, "ct_explicit", attribute="study")
    series_items = []
    for k, target in enumerate(("ct_explicit", "ct_implicit", "mf_rle")):
        series_item, instance = Dataset(), Dataset()
        ss = se.child(se.prefix + f"(0008,1115)[{k}]", None)
        b.reference(series_item, ss, target, attribute="series")
        series_item.ReferencedSOPSequence = [instance]
        b.reference(instance, ss.child(ss.prefix + "(0008,1199)[0]", None), target)
        series_items.append(series_item)
    evidence.ReferencedSeriesSequence = series_items
    return ds
