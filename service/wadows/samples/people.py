"""Fake people and places for the generated headers: realistic in form, fake on sight.

Patient names are the placeholder names each tradition uses for "nobody" (Jane Doe; Yamada
Tarou, the example of PS3.5 Annex H; Richard Roe), institutions and addresses are invented,
and every phone number is in the 555-01xx range reserved for fiction. The fields are the ones
PS3.15 Table E.1-1 says to remove or replace, so de-identification has something real to do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FakePatient:
    patient_id: str
    issuer: str
    name: str
    birth_date: str
    sex: str
    age: str
    size_m: str
    weight_kg: str
    address: str
    telephone: str
    other_id: str
    other_issuer: str
    # ISO_IR 192 (UTF-8) when any value is not ASCII; PS3.5 §6.1.2.5.
    specific_character_set: str = "ISO_IR 100"


@dataclass(frozen=True)
class FakeSite:
    institution: str
    address: str
    department: str
    station: str
    referring_physician: str
    performing_physician: str
    reading_physician: str
    operator: str
    # Issuer of Accession Number (the RIS that assigns them).
    ris: str
    # Private element of the fictitious vendor: the technologist who "approved" the scan.
    approver: str


JANE_DOE = FakePatient(
    patient_id="FAKE-0001",
    issuer="SPRINGFIELD-GH",
    name="Doe^Jane^Q^Ms.",
    birth_date="19710314",
    sex="F",
    age="053Y",
    size_m="1.68",
    weight_kg="64",
    address="742 Example Avenue^^Springfield^^00000^Nowhere",
    telephone="+1-555-0142",
    other_id="MRN-000042",
    other_issuer="RIVERSIDE-CLINIC",
)

YAMADA_TAROU = FakePatient(
    patient_id="FAKE-0002",
    issuer="MUSTERSTADT-KLINIKUM",
    name="Yamada^Tarou=山田^太郎=やまだ^たろう",
    birth_date="19580921",
    sex="M",
    age="065Y",
    size_m="1.72",
    weight_kg="70",
    address="Musterstraße 1^^Musterstadt^^00000^Nirgendwo",
    telephone="+49-555-0199",
    other_id="KLN-7-000099",
    other_issuer="MUSTERSTADT-PRAXIS",
    specific_character_set="ISO_IR 192",
)

SPRINGFIELD = FakeSite(
    institution="Springfield General Hospital (FAKE)",
    address="100 Fictional Boulevard, Springfield, Nowhere",
    department="Radiology",
    station="CTSIM01",
    referring_physician="Hibbert^Julius^^Dr.",
    performing_physician="Riviera^Nick^^Dr.",
    reading_physician="Placeholder^Paula^^Dr.",
    operator="Tech^Terry",
    ris="SPRINGFIELD-RIS",
    approver="Approver^Alex",
)

MUSTERSTADT = FakeSite(
    institution="Klinikum Musterstadt (FAKE)",
    address="Beispielweg 5, Musterstadt, Nirgendwo",
    department="Radiologie",
    station="MRSIM01",
    referring_physician="Müller^Jürgen^^Dr.",
    performing_physician="Schäfer^Anna^^Dr.",
    reading_physician="Öztürk^Zoë^^Dr.",
    operator="Beispiel^Björn",
    ris="MUSTERSTADT-RIS",
    approver="Prüfer^Ines",
)


def numbered_patient(n: int) -> FakePatient:
    """Richard Roe number ``n``: one fake patient per generated benchmark study."""
    return FakePatient(
        patient_id=f"FAKE-R{n:04d}",
        issuer="SPRINGFIELD-GH",
        name=f"Roe^Richard^{n:04d}",
        birth_date="19800101",
        sex="M",
        age="044Y",
        size_m="1.80",
        weight_kg="82",
        address="5 Placeholder Lane^^Springfield^^00000^Nowhere",
        telephone="+1-555-0100",
        other_id=f"MRN-R{n:06d}",
        other_issuer="RIVERSIDE-CLINIC",
    )
