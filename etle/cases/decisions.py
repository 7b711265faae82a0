"""The record an officer's decision leaves: a `ReviewDecision` row and a `review.decision` audit
event, shared by every kind of decision (etle.cases.review, etle.cases.manual_read)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.models import Case, ReviewAction, ReviewDecision
from etle.clock import utcnow
from etle.errors import ValidationFailed
from etle.notices.models import Notice
from etle.officers.models import Officer
from etle.plates import format_plate

VERDICT_TEXT_LIMIT = 500


def decision_row(
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


def audit_decision(
    session: Session,
    row: ReviewDecision,
    case: Case,
    officer: Officer,
    *,
    notice: Notice | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    after: dict[str, Any] = {
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
    after.update(extra or {})
    record(
        session,
        actor=officer.actor,
        action="review.decision",
        entity_type="case",
        entity_id=case.id,
        after=after,
    )


def clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) > VERDICT_TEXT_LIMIT:
        raise ValidationFailed(f"the text has at most {VERDICT_TEXT_LIMIT} characters")
    return text or None


def display(plate: str) -> str:
    try:
        return format_plate(plate)
    except ValidationFailed:
        return plate
