"""The steps of a case after the notice, as services other packages call.

Each one moves the case through `transition` (so the table decides, and the audit trail
records) and does what belongs with that step in the same transaction: the payment deadline
when a payment is issued, lifting a registration block when the case is paid or voided.
The bank callback (the public portal) calls `mark_paid`; supervisors call `void_case`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from etle.cases.models import Case, CaseStatus
from etle.cases.transitions import transition
from etle.clock import local, utcnow
from etle.config import Settings
from etle.escalation.blocks import lift_blocks
from etle.jurisdictions.service import deadlines_for
from etle.officers.access import Permission, require
from etle.officers.models import Officer


def issue_payment(
    session: Session,
    *,
    case: Case,
    actor: str,
    settings: Settings,
    today: date | None = None,
    details: dict[str, Any] | None = None,
) -> date:
    """The owner (or named driver) is to pay: the pay-by date follows the jurisdiction."""
    day = today or local(utcnow(), settings.timezone).date()
    pay_by = deadlines_for(session, case.camera_id, settings).pay_by(day)
    transition(
        session,
        case,
        CaseStatus.PAYMENT_ISSUED,
        actor=actor,
        details={**(details or {}), "pay_by": pay_by},
    )
    case.due_on = pay_by
    session.flush()
    return pay_by


def mark_paid(
    session: Session,
    *,
    case: Case,
    actor: str,
    payment_ref: str,
    amount_rp: int | None = None,
) -> list[int]:
    """Payment received: the case is paid and its registration block, if any, is lifted.

    Returns the ids of the blocks lifted (the next `etle cases escalate` lists them for the
    registration office). Allowed from payment_issued, overdue and registration_blocked.
    """
    details: dict[str, Any] = {"payment_ref": payment_ref}
    if amount_rp is not None:
        details["amount_rp"] = amount_rp
    transition(session, case, CaseStatus.PAID, actor=actor, details=details)
    case.due_on = None
    session.flush()
    return lift_blocks(session, case, reason="paid", actor=actor)


def void_case(session: Session, *, case: Case, officer: Officer, reason: str) -> list[int]:
    """A supervisor voids a case at any stage, with a reason; a registration block is lifted."""
    require(officer, Permission.VOID_CASES)  # administrators manage, they never decide cases
    transition(session, case, CaseStatus.VOID, actor=officer.actor, reason=reason)
    case.due_on = None
    session.flush()
    return lift_blocks(session, case, reason="void", actor=officer.actor)
