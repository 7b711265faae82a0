"""Officer decisions on a case: confirm, correct, reject, escalate.

* **Confirm** issues the notice in the same transaction (notice row and one delivery row per
  channel); the dispatch jobs follow once it commits (notices.jobs.enqueue_on_commit queues one
  for every new email or message delivery, whoever created it).
* **Correct** replaces the plate with a registered one and sends the case to a second officer
  (four eyes): no notice can come from a corrected plate until someone other than the
  corrector confirms it. A second officer who disagrees may correct again (the case goes back
  to review and on to a new second confirmation, both steps in the trail) or reject.
* **Reject** needs a reason code; "other" needs a text.
* **Escalate** hands the case to a supervisor.

Every decision is a `ReviewDecision` row and a `review.decision` audit event, besides the
status transitions it causes. `decide` is the entry point for officers (lease checked);
`confirm` and `reject` are the underlying steps, which check the four-eyes and
conflict-of-interest rules themselves so no caller can skip them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cameras.models import Camera
from etle.cases.eligibility import Stage, check_may_decide
from etle.cases.lease import end_lease, held_case
from etle.cases.matching import match_plate
from etle.cases.models import (
    Case,
    CaseFlag,
    CaseStatus,
    RejectReason,
    ReviewAction,
    ReviewDecision,
)
from etle.cases.speeding import check_speeding
from etle.cases.transitions import transition
from etle.clock import local, utcnow
from etle.config import Settings
from etle.errors import Conflict, ValidationFailed
from etle.jurisdictions.service import deadlines_for
from etle.notices.models import Notice
from etle.notices.service import issue_notice
from etle.officers.models import Officer
from etle.plates import format_plate, normalise_plate
from etle.registry.lookup import registry_for

# Flags about the plate as read; a corrected plate is matched afresh.
_READ_FLAGS = {CaseFlag.PLATE_NOT_REGISTERED.value, CaseFlag.LOOKALIKE_CANDIDATES.value}
_VERDICT_TEXT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Decision:
    action: ReviewAction
    plate: str | None = None  # correct: the plate as the officer reads it
    reason: RejectReason | None = None  # reject
    text: str | None = None  # reject "other" (required); escalate: a note (optional)


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
    if case.owner_id is None:
        raise Conflict(
            f"plate {_display(case.plate)} is not registered: correct it to a registered plate "
            "or reject the case"
        )
    check_speeding(session, case)  # a speeding notice must state speed and limit
    row = _decision(session, case, officer, ReviewAction.CONFIRM)
    transition(session, case, CaseStatus.CONFIRMED, actor=officer.actor)
    notice = issue_notice(
        session,
        case,
        respond_days=deadlines_for(session, case.camera_id, settings).respond_days,
        zone=settings.timezone,
        actor=officer.actor,
    )
    _audit(session, row, case, officer, notice=notice)
    return row, notice


def correct(
    session: Session, *, case: Case, officer: Officer, plate: str, settings: Settings
) -> ReviewDecision:
    stage = check_may_decide(session, case, officer)
    new_plate = normalise_plate(plate)
    if new_plate == case.plate:
        raise ValidationFailed(f"{_display(new_plate)} is already the case's plate: confirm it")
    registry = registry_for(session, settings)
    found = registry.find(new_plate)
    if found is None:
        raise ValidationFailed(f"{_display(new_plate)} is not in the vehicle registry")
    before = case.plate
    row = _decision(session, case, officer, ReviewAction.CORRECT, corrected_plate=new_plate)
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
    _audit(session, row, case, officer)
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
    text = _clean_text(reason_text)
    if reason is RejectReason.OTHER and not text:
        raise ValidationFailed('a rejection for reason "other" needs a text')
    row = _decision(
        session, case, officer, ReviewAction.REJECT, reason_code=reason.value, reason_text=text
    )
    transition(session, case, CaseStatus.REJECTED, actor=officer.actor, reason=reason.value)
    _audit(session, row, case, officer)
    return row


def escalate(
    session: Session, *, case: Case, officer: Officer, note: str | None = None
) -> ReviewDecision:
    stage = check_may_decide(session, case, officer)
    if stage is Stage.ESCALATION:
        raise Conflict(f"case {case.id} is already with a supervisor")
    text = _clean_text(note)
    row = _decision(session, case, officer, ReviewAction.ESCALATE, reason_text=text)
    if stage is Stage.SECOND:
        transition(
            session,
            case,
            CaseStatus.PENDING_REVIEW,
            actor=officer.actor,
            reason="correction escalated",
        )
    transition(session, case, CaseStatus.ESCALATED, actor=officer.actor, reason=text or "escalated")
    _audit(session, row, case, officer)
    return row


def _decision(
    session: Session,
    case: Case,
    officer: Officer,
    action: ReviewAction,
    **values: str | None,
) -> ReviewDecision:
    row = ReviewDecision(
        case_id=case.id,
        officer_id=officer.id,
        action=action,
        from_status=case.status,
        plate_before=case.plate,
        decided_at=utcnow(),
        **values,
    )
    session.add(row)
    session.flush()
    return row


def _audit(
    session: Session,
    row: ReviewDecision,
    case: Case,
    officer: Officer,
    *,
    notice: Notice | None = None,
) -> None:
    after: dict[str, object] = {
        "decision_id": row.id,
        "action": row.action,
        "from_status": row.from_status,
        "status": case.status,
        "plate_before": row.plate_before,
        "plate": case.plate,
    }
    if row.reason_code:
        after["reason"] = row.reason_code
    if row.reason_text:
        after["text"] = row.reason_text
    if notice is not None:
        after["notice_number"] = notice.notice_number
    record(
        session,
        actor=officer.actor,
        action="review.decision",
        entity_type="case",
        entity_id=case.id,
        after=after,
    )


def _clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > _VERDICT_TEXT_LIMIT:
        raise ValidationFailed(f"the text has at most {_VERDICT_TEXT_LIMIT} characters")
    return text or None


def _display(plate: str) -> str:
    try:
        return format_plate(plate)
    except ValidationFailed:
        return plate
