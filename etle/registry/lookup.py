"""Registry lookup: the interface the matcher uses, with the local database as the default.

`etle.registry.backend.registry_for` picks the implementation from settings: this local
database (filled by `etle registry import`), or the national registry service over HTTP
(`etle.registry.remote`), which answers the same two questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.registry.models import Owner, Vehicle


@dataclass(frozen=True, slots=True)
class RegistryRecord:
    vehicle_id: int
    owner_id: int
    plate: str
    vehicle_class: str
    brand: str
    model: str
    colour: str
    registration_valid_until: date | None
    owner_nik: str | None


class RegistryLookup(Protocol):
    def find(self, plate: str) -> RegistryRecord | None: ...

    def find_many(self, plates: Iterable[str]) -> dict[str, RegistryRecord]: ...


class DatabaseRegistry:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, plate: str) -> RegistryRecord | None:
        return self.find_many([plate]).get(plate)

    def find_many(self, plates: Iterable[str]) -> dict[str, RegistryRecord]:
        wanted = sorted(set(plates))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(Vehicle, Owner.nik)
            .join(Owner, Owner.id == Vehicle.owner_id)
            .where(Vehicle.plate.in_(wanted))
        )
        return {
            vehicle.plate: RegistryRecord(
                vehicle_id=vehicle.id,
                owner_id=vehicle.owner_id,
                plate=vehicle.plate,
                vehicle_class=vehicle.vehicle_class,
                brand=vehicle.brand,
                model=vehicle.model,
                colour=vehicle.colour,
                registration_valid_until=vehicle.registration_valid_until,
                owner_nik=nik,
            )
            for vehicle, nik in rows
        }
