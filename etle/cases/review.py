"""Officer decisions on a case: confirm, correct, reject, escalate, and key a plate.

* **Confirm** issues the notice in the same transaction (notice row and one delivery row per
  channel); the dispatch jobs follow once it commits (notices.jobs.enqueue_on_commit queues one
  for every new email or message delivery, whoever created it).
* **Correct** replaces the plate with a registered one and sends the case to a second officer
  (four eyes): no notice can come from a corrected plate until someone other than the
  corrector confirms it. A second officer who disagrees may correct again (the case goes back
  to review and on to a new second confirmation, both steps in the trail) or reject.
* **Reject** needs a reason code; "other" needs a text.
* **Escalate** hands the case to a supervisor.
* **Key** marks and keys the plate of a case the machine could not read
  (etle.cases.manual_read): a proposal, like a correction, that a second officer confirms.

Every decision is a `ReviewDecision` row and a `review.decision` audit event, besides the
status transitions it causes. `decide` is the entry point for officers (lease checked);
`confirm` and `reject` are the underlying steps, which check the four-eyes and
conflict-of-interest rules themselves so no caller can skip them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.decisions import audit_decision, clean_text, decision_row, display
from etle.cases.eligibility import Stage, check_may_decide
from etle.cases.lease import end_lease, held_case
from etle.cases.manual_read import key_plate
from etle.cases.matching import match_plate
from etle.cases.models import (
    NO_PLATE,
    Case,
    CaseFlag,
    CaseStatus,
    RejectReason,
    ReviewAction,
    ReviewDecision,
)
from etle.cases.speeding import check_speeding
from etle.cases.transitions import transition
from etle.clock import local
from etle.config import Settings
from etle.errors import Conflict, ValidationFailed
from etle.jurisdictions.service import deadlines_for
from etle.notices.models import Notice
from etle.notices.service import issue_notice
from etle.officers.models import Officer
from etle.plates import normalise_plate
from etle.registry.backend import registry_for

# Flags about the plate as read; a corrected plate is matched afresh.
_READ_FLAGS = {CaseFlag.PLATE_NOT_REGISTERED.value, CaseFlag.LOOKALIKE_CANDIDATES.value}
# A plate covered or removed is itself this violation, where the camera may report it.
INVALID_PLATE = "invalid_plate"


@dataclass(frozen=True, slots=True)
class Decision:
    action: ReviewAction
    plate: str | None = None  # correct, key: the plate as the officer reads it
    reason: RejectReason | None = None  # reject
    text: str | None = None  # reject "other" (required); escalate: a note (optional)
    box: Sequence[int] | None = None  # key: the plate's box [x1, y1, x2, y2] on the frame


@dataclass(frozen=True, slots=True)
class Outcome:
    decision: ReviewDecision
    case: Case
    notice: Notice | None = None


def decide(
    session: Session,
    *,
    case_id: int,
    officer: Officer,
    decision: Decision,
    settings: Settings,
    now: datetime | None = None,
) -> Outcome:
    """An officer's decision on the case they hold a live lease on."""
    case = held_case(session, case_id=case_id, officer=officer, now=now)
    claimed_at = case.claimed_at
    notice: Notice | None = None
    match decision.action:
        case ReviewAction.CONFIRM:
            row, notice = confirm_with_decision(
                session, case=case, officer=officer, settings=settings
            )
        case ReviewAction.CORRECT:
            row = correct(
                session, case=case, officer=officer, plate=decision.plate or "", settings=settings
            )
        case ReviewAction.REJECT:
            if decision.reason is None:
                raise ValidationFailed("a rejection needs a reason code")
            row = reject(
                session,
                case=case,
                officer=officer,
                reason_code=decision.reason,
                reason_text=decision.text,
            )
        case ReviewAction.ESCALATE:
            row = escalate(session, case=case, officer=officer, note=decision.text)
        case ReviewAction.KEY:
            row = key_plate(
                session,
                case=case,
                officer=officer,
                plate=decision.plate or "",
                box=decision.box,
                settings=settings,
            )
    row.claimed_at = claimed_at
    if now is not None:
        row.decided_at = now
    end_lease(case)
    session.flush()
    return Outcome(row, case, notice)


def confirm(session: Session, *, case: Case, officer: Officer, settings: Settings) -> Notice:
    return confirm_with_decision(session, case=case, officer=officer, settings=settings)[1]


def confirm_with_decision(
    session: Session,
    *,
    case: Case,
    officer: Officer,
    settings: Settings,
) -> tuple[ReviewDecision, Notice]:
    check_may_decide(session, case, officer)
    _require_plate(case)
    if case.owner_id is None:
        raise Conflict(
            f"plate {display(case.plate)} is not registered: correct it to a registered plate "
            "or reject the case"
        )
    check_speeding(session, case)  # a speeding notice must state speed and limit
    row = decision_row(session, case, officer, ReviewAction.CONFIRM)
    transition(session, case, CaseStatus.CONFIRMED, actor=officer.actor)
    notice = issue_notice(
        session,
        case,
        respond_days=deadlines_for(session, case.camera_id, settings).respond_days,
        zone=settings.timezone,
        actor=officer.actor,
    )
    audit_decision(session, row, case, officer, notice=notice)
    return row, notice


def correct(
    session: Session, *, case: Case, officer: Officer, plate: str, settings: Settings
) -> ReviewDecision:
    stage = check_may_decide(session, case, officer)
    _require_plate(case)
    new_plate = normalise_plate(plate)
    if new_plate == case.plate:
        raise ValidationFailed(f"{display(new_plate)} is already the case's plate: confirm it")
    registry = registry_for(session, settings)
    found = registry.find(new_plate)
    if found is None:
        raise ValidationFailed(f"{display(new_plate)} is not in the vehicle registry")
    before = case.plate
    row = decision_row(session, case, officer, ReviewAction.CORRECT, corrected_plate=new_plate)
    if stage is not Stage.FIRST:
        # A second officer (or a supervisor) disagreeing with the case as it stands: it goes
        # back to review and straight on to a new second confirmation, both steps recorded.
        transition(
            session,
            case,
            CaseStatus.PENDING_REVIEW,
            actor=officer.actor,
            reason="plate corrected again",
        )
    zone = session.get_one(Camera, case.camera_id).timezone
    match = match_plate(registry, plate=new_plate, on=local(case.first_captured_at, zone).date())
    fresh = [f.value for f in match.flags]
    kept = [f for f in case.flags if f not in _READ_FLAGS and f not in fresh]
    case.plate = new_plate
    case.vehicle_id = found.vehicle_id
    case.owner_id = found.owner_id
    case.flags = kept + fresh
    session.flush()
    transition(
        session,
        case,
        CaseStatus.PENDING_SECOND_REVIEW,
        actor=officer.actor,
        reason="plate corrected",
        details={"plate_before": before, "plate": new_plate},
    )
    audit_decision(session, row, case, officer)
    return row


def reject(
    session: Session,
    *,
    case: Case,
    officer: Officer,
    reason_code: str,
    reason_text: str | None = None,
) -> ReviewDecision:
    check_may_decide(session, case, officer)
    try:
        reason = RejectReason(reason_code)
    except ValueError as exc:
        choices = ", ".join(r.value for r in RejectReason)
        raise ValidationFailed(f"unknown reason {reason_code!r}; one of {choices}") from exc
    text = clean_text(reason_text)
    if reason is RejectReason.OTHER and not text:
        raise ValidationFailed('a rejection for reason "other" needs a text')
    row = decision_row(
        session, case, officer, ReviewAction.REJECT, reason_code=reason.value, reason_text=text
    )
    extra: dict[str, object] = {}
    if reason is RejectReason.PLATE_COVERED and case.violation_code != INVALID_PLATE:
        camera = session.get_one(Camera, case.camera_id)
        if INVALID_PLATE in camera.violation_codes:
            # No notice can reach a vehicle without a plate, but the record shows what was
            # seen: the invalid_plate violation, counted as such.
            extra = {"violation_before": case.violation_code, "violation": INVALID_PLATE}
            case.violation_code = INVALID_PLATE
            session.flush()
    transition(session, case, CaseStatus.REJECTED, actor=officer.actor, reason=reason.value)
    audit_decision(session, row, case, officer, extra=extra)
    return row


def escalate(
    session: Session, *, case: Case, officer: Officer, note: str | None = None
) -> ReviewDecision:
    stage = check_may_decide(session, case, officer)
    if stage is Stage.ESCALATION:
        raise Conflict(f"case {case.id} is already with a supervisor")
    text = clean_text(note)
    row = decision_row(session, case, officer, ReviewAction.ESCALATE, reason_text=text)
    if stage is Stage.SECOND:
        transition(
            session,
            case,
            CaseStatus.PENDING_REVIEW,
            actor=officer.actor,
            reason="correction escalated",
        )
    transition(session, case, CaseStatus.ESCALATED, actor=officer.actor, reason=text or "escalated")
    audit_decision(session, row, case, officer)
    return row


def _require_plate(case: Case) -> None:
    if case.plate == NO_PLATE:
        raise Conflict(
            f"case {case.id} has no plate yet: mark and key it, or reject the case",
            detail={"case_id": case.id, "status": case.status},
        )
