"""Ownership history: who owned a vehicle when, and a sale reported by its owner.

The registry's `Vehicle.owner_id` is the current owner: the one new cases are matched to. Every
period of ownership is an `Ownership` row; a reported sale closes the seller's and opens the
buyer's, so notices of violations after the sale go to the buyer. The public portal calls
`report_sale` (and `etle.cases.responses.respond_vehicle_sold` for the case in hand).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.clock import DEFAULT_ZONE, local, utcnow
from etle.errors import Conflict, NotFound, ValidationFailed
from etle.registry.models import Owner, Ownership, Vehicle
from etle.registry.rows import OwnerDetails, same_person


def details_of(owner: Owner) -> OwnerDetails:
    return OwnerDetails(
        name=owner.name,
        nik=owner.nik,
        address=owner.address,
        postcode=owner.postcode,
        email=owner.email,
        phone=owner.phone,
        street=owner.street,
        district=owner.district,
        city=owner.city,
    )


def start_of_day(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


def report_sale(
    session: Session,
    *,
    vehicle_id: int,
    buyer: OwnerDetails,
    sold_on: date,
    actor: str,
    zone: str = DEFAULT_ZONE,
) -> Owner:
    """Record that the current owner sold the vehicle to `buyer` on `sold_on` (a local date).

    `buyer` comes from `etle.registry.rows.owner_details`, so it is validated like an import
    row (NIK of 16 digits, ...). Returns the buyer's owner row, now the vehicle's owner.
    """
    vehicle = session.get(Vehicle, vehicle_id, with_for_update=True)
    if vehicle is None:
        raise NotFound(f"no vehicle {vehicle_id}")
    if sold_on > local(utcnow(), zone).date():
        raise ValidationFailed("the date of sale is in the future")
    seller = session.get_one(Owner, vehicle.owner_id)
    if same_person(details_of(seller), buyer):
        raise Conflict("the buyer is already the registered owner of this vehicle")
    sold_at = start_of_day(sold_on, zone)
    current = session.scalar(
        select(Ownership).where(Ownership.vehicle_id == vehicle.id, Ownership.valid_to.is_(None))
    )
    if current is not None:
        if current.valid_from is not None and current.valid_from > sold_at:
            if current.source == "sale_reported":
                raise ValidationFailed("the date of sale is before the seller bought the vehicle")
            # A change seen in an import is dated by the import, which may be after the real
            # sale: the owner's report is the better record, so the start becomes unknown.
            current.valid_from = None
        current.valid_to = sold_at
    new_owner = Owner(**buyer._asdict())
    session.add(new_owner)
    session.flush()
    session.add(
        Ownership(
            vehicle_id=vehicle.id,
            owner_id=new_owner.id,
            valid_from=sold_at,
            source="sale_reported",
        )
    )
    vehicle.owner_id = new_owner.id
    session.flush()
    record(
        session,
        actor=actor,
        action="registry.sale_reported",
        entity_type="vehicle",
        entity_id=vehicle.id,
        before={"owner_id": seller.id},
        after={"owner_id": new_owner.id, "sold_on": sold_on},
    )
    return new_owner
