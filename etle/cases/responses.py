"""The owner's answer to a notice: a driver named, the vehicle sold, or a dispute.

The public portal (after its own checks of who is asking) calls these. A reported sale is the
one that changes who the case is about: if the vehicle was sold before the violation, the sale
is recorded in the registry and the case's next notice goes to the buyer, in one transaction.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.models import Case, CaseStatus
from etle.cases.transitions import can_transition, transition
from etle.clock import local
from etle.config import Settings
from etle.errors import Conflict, ValidationFailed
from etle.jurisdictions.service import deadlines_for
from etle.notices.models import Notice
from etle.notices.service import issue_notice
from etle.registry.models import Owner, Vehicle
from etle.registry.ownership import details_of, report_sale
from etle.registry.rows import OwnerDetails, same_person


class OwnerResponse(StrEnum):
    DRIVER_NAMED = "driver_named"
    VEHICLE_SOLD = "vehicle_sold"
    DISPUTED = "disputed"


def record_owner_response(
    session: Session,
    *,
    case: Case,
    response: OwnerResponse,
    actor: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Driver named or disputed: the case waits in owner_responded for the next step."""
    if response is OwnerResponse.VEHICLE_SOLD:
        raise ValidationFailed("a sale is reported with respond_vehicle_sold")
    transition(
        session,
        case,
        CaseStatus.OWNER_RESPONDED,
        actor=actor,
        details={**(details or {}), "response": response.value},
    )


def respond_vehicle_sold(
    session: Session,
    *,
    case: Case,
    buyer: OwnerDetails,
    sold_on: date,
    actor: str,
    settings: Settings,
) -> Notice:
    """The owner says the vehicle was sold before the violation: record the sale (unless the
    registry already shows the buyer), move the case to the buyer and issue its next notice."""
    if not can_transition(CaseStatus(case.status), CaseStatus.OWNER_RESPONDED):
        raise Conflict(f"case {case.id} is {case.status}; a sale can be reported on a notice")
    if case.vehicle_id is None or case.owner_id is None:
        raise Conflict(f"case {case.id} has no registered vehicle")
    zone = session.get_one(Camera, case.camera_id).timezone
    violation_day = local(case.first_captured_at, zone).date()
    if sold_on > violation_day:
        raise ValidationFailed(
            f"the vehicle was sold on {sold_on:%d-%m-%Y}, after the violation on "
            f"{violation_day:%d-%m-%Y}: the owner at the time remains responsible"
        )
    vehicle = session.get_one(Vehicle, case.vehicle_id)
    current = session.get_one(Owner, vehicle.owner_id)
    if same_person(details_of(current), buyer) and current.id != case.owner_id:
        new_owner = current  # the registry already shows the sale (an import, say)
    else:
        new_owner = report_sale(
            session,
            vehicle_id=vehicle.id,
            buyer=buyer,
            sold_on=sold_on,
            actor=actor,
            zone=zone,
        )
    previous_owner = case.owner_id
    transition(
        session,
        case,
        CaseStatus.OWNER_RESPONDED,
        actor=actor,
        details={
            "response": OwnerResponse.VEHICLE_SOLD.value,
            "sold_on": sold_on,
            "owner_id_before": previous_owner,
            "owner_id_after": new_owner.id,
        },
    )
    case.owner_id = new_owner.id
    session.flush()
    notice = issue_notice(
        session,
        case,
        respond_days=deadlines_for(session, case.camera_id, settings).respond_days,
        zone=settings.timezone,
        actor=actor,
    )
    transition(
        session,
        case,
        CaseStatus.NOTICE_SENT,
        actor=actor,
        details={"notice_number": notice.notice_number, "to_owner_id": new_owner.id},
    )
    return notice
