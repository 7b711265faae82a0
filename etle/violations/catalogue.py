"""The violation catalogue and its seed (UU 22/2009 on road traffic and transport, LLAJ).

The seed inserts only codes that are missing, so an administrator's later edits survive every
upgrade. Each insert is audited like any other change to the catalogue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.errors import NotFound
from etle.violations.models import ViolationType

LLAJ = "UU 22/2009"


@dataclass(frozen=True)
class Seed:
    code: str
    name_id: str
    name_en: str
    legal_basis: str
    max_fine_rp: int


SEED: tuple[Seed, ...] = (
    Seed(
        "red_light",
        "Melanggar lampu lalu lintas (lampu merah)",
        "Running a red light",
        f"{LLAJ} Pasal 287 ayat (2)",
        500_000,
    ),
    Seed(
        "signs_markings",
        "Melanggar rambu atau marka jalan",
        "Disobeying road signs or markings",
        f"{LLAJ} Pasal 287 ayat (1)",
        500_000,
    ),
    Seed(
        "stop_line",
        "Melewati marka garis henti",
        "Crossing the stop line",
        f"{LLAJ} Pasal 287 ayat (1)",
        500_000,
    ),
    Seed(
        "wrong_way",
        "Melawan arus lalu lintas",
        "Driving the wrong way",
        f"{LLAJ} Pasal 287 ayat (1)",
        500_000,
    ),
    Seed(
        "bus_lane",
        "Memasuki jalur khusus bus",
        "Driving in the bus lane",
        f"{LLAJ} Pasal 287 ayat (1)",
        500_000,
    ),
    Seed(
        "odd_even",
        "Melanggar aturan ganjil-genap",
        "Breaking the odd-even plate rule",
        f"{LLAJ} Pasal 287 ayat (1)",
        500_000,
    ),
    Seed("speeding", "Melebihi batas kecepatan", "Speeding", f"{LLAJ} Pasal 287 ayat (5)", 500_000),
    Seed(
        "phone_use",
        "Menggunakan telepon seluler saat mengemudi",
        "Using a mobile phone while driving",
        f"{LLAJ} Pasal 283",
        750_000,
    ),
    Seed(
        "no_seat_belt",
        "Tidak mengenakan sabuk keselamatan",
        "Not wearing a seat belt",
        f"{LLAJ} Pasal 289",
        250_000,
    ),
    Seed(
        "no_helmet",
        "Tidak mengenakan helm standar nasional",
        "Not wearing an approved helmet",
        f"{LLAJ} Pasal 291 ayat (1)",
        250_000,
    ),
    Seed(
        "invalid_plate",
        "Tidak memasang tanda nomor kendaraan yang sah",
        "No valid registration plate",
        f"{LLAJ} Pasal 280",
        500_000,
    ),
)


def seed_catalogue(session: Session, *, actor: str = "system:seed") -> int:
    existing = set(session.scalars(select(ViolationType.code)))
    added = 0
    for seed in SEED:
        if seed.code in existing:
            continue
        session.add(ViolationType(**asdict(seed), active=True))
        session.flush()
        record(
            session,
            actor=actor,
            action="catalogue.create",
            entity_type="violation_type",
            entity_id=seed.code,
            after=asdict(seed),
        )
        added += 1
    return added


def get_violation(session: Session, code: str) -> ViolationType:
    violation = session.get(ViolationType, code)
    if violation is None or not violation.active:
        raise NotFound(f"unknown violation type {code!r}")
    return violation
