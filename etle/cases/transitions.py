"""The only place a case's status changes.

`ALLOWED` is the whole lifecycle as a table of (from, to) pairs; `transition` checks it, applies
the change and writes the audit event in the same transaction. A forbidden move raises
`Conflict` and leaves the case, and the audit trail, exactly as they were. A `before_flush`
guard refuses any other write of `Case.status` through the ORM, so the door cannot be bypassed
by setting the attribute.

The main road, and the side roads off it:

    captured → pending_review → confirmed → notice_sent → payment_issued → paid → closed
    captured → needs_plate (no plate found or read) → pending_second_review (plate keyed, four
               eyes) | rejected (no vehicle, plate not visible, covered) | escalated
    pending_review → rejected | escalated | pending_second_review (corrected plate, four eyes)
    pending_second_review | escalated → confirmed | rejected | pending_review
    escalated → needs_plate (a supervisor keys the plate of a case that has none)
    notice_sent → owner_responded (driver named, vehicle sold, disputed)
    owner_responded → payment_issued | notice_sent (sold: a fresh notice to the buyer)
                    | escalated ("not my vehicle": back to a supervisor)
    notice_sent | owner_responded | payment_issued → overdue → registration_blocked → paid
    overdue → paid

Any status but closed, void and rejected may go to void (a supervisor, with a reason; see
`etle.cases.lifecycle.void_case`). Closed, void and rejected are final.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.models import Case, CaseStatus
from etle.clock import utcnow
from etle.errors import Conflict

S = CaseStatus

ALLOWED: frozenset[tuple[CaseStatus, CaseStatus]] = frozenset(
    {
        (S.CAPTURED, S.PENDING_REVIEW),
        (S.CAPTURED, S.NEEDS_PLATE),
        (S.NEEDS_PLATE, S.PENDING_SECOND_REVIEW),
        (S.NEEDS_PLATE, S.REJECTED),
        (S.NEEDS_PLATE, S.ESCALATED),
        (S.ESCALATED, S.NEEDS_PLATE),
        (S.PENDING_REVIEW, S.CONFIRMED),
        (S.PENDING_REVIEW, S.REJECTED),
        (S.PENDING_REVIEW, S.PENDING_SECOND_REVIEW),
        (S.PENDING_REVIEW, S.ESCALATED),
        (S.PENDING_SECOND_REVIEW, S.CONFIRMED),
        (S.PENDING_SECOND_REVIEW, S.REJECTED),
        (S.PENDING_SECOND_REVIEW, S.PENDING_REVIEW),
        (S.ESCALATED, S.CONFIRMED),
        (S.ESCALATED, S.REJECTED),
        (S.ESCALATED, S.PENDING_REVIEW),
        (S.CONFIRMED, S.NOTICE_SENT),
        (S.NOTICE_SENT, S.OWNER_RESPONDED),
        (S.NOTICE_SENT, S.PAYMENT_ISSUED),
        (S.NOTICE_SENT, S.OVERDUE),
        (S.OWNER_RESPONDED, S.PAYMENT_ISSUED),
        (S.OWNER_RESPONDED, S.NOTICE_SENT),  # vehicle sold: a fresh notice to the buyer
        (S.OWNER_RESPONDED, S.ESCALATED),  # "not my vehicle": back to a supervisor
        (S.OWNER_RESPONDED, S.OVERDUE),
        (S.PAYMENT_ISSUED, S.PAID),
        (S.PAYMENT_ISSUED, S.OVERDUE),
        (S.OVERDUE, S.REGISTRATION_BLOCKED),
        (S.OVERDUE, S.PAID),
        (S.REGISTRATION_BLOCKED, S.PAID),
        (S.PAID, S.CLOSED),
    }
)

TERMINAL: frozenset[CaseStatus] = frozenset({S.CLOSED, S.VOID, S.REJECTED})
_ALLOWED_WRITES = "etle_case_status_writes"


def can_transition(current: CaseStatus, target: CaseStatus) -> bool:
    if target is S.VOID:
        return current not in TERMINAL
    return (current, target) in ALLOWED


def transition(
    session: Session,
    case: Case,
    target: CaseStatus,
    *,
    actor: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    current = CaseStatus(case.status)
    if not can_transition(current, target):
        raise Conflict(
            f"case {case.id} cannot go from {current.value} to {target.value}",
            detail={"case_id": case.id, "from": current.value, "to": target.value},
        )
    if target is S.VOID and not (reason or "").strip():
        raise Conflict("voiding a case needs a reason")
    allowed: dict[int, CaseStatus] = session.info.setdefault(_ALLOWED_WRITES, {})
    allowed[id(case)] = target
    try:
        case.status = target
        case.status_changed_at = utcnow()
        session.flush()
    finally:
        allowed.pop(id(case), None)
    after: dict[str, Any] = dict(details or {})
    after["status"] = target.value
    if reason:
        after["reason"] = reason
    record(
        session,
        actor=actor,
        action="case.transition",
        entity_type="case",
        entity_id=case.id,
        before={"status": current.value},
        after=after,
    )


@event.listens_for(Session, "before_flush")
def _only_transition_writes_status(session: Session, _context: Any, _instances: Any) -> None:
    allowed: dict[int, CaseStatus] = session.info.get(_ALLOWED_WRITES, {})
    for obj in session.dirty:
        if not isinstance(obj, Case):
            continue
        history = inspect(obj).attrs.status.history
        if history.has_changes() and allowed.get(id(obj)) != obj.status:
            raise Conflict(
                f"case {obj.id}: status changes only through etle.cases.transitions.transition"
            )
