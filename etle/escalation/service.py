"""`etle cases escalate`, the daily deadlines job.

In one transaction, in this order:

1. Cases whose deadline (`Case.due_on`: respond-by while a notice is out, pay-by once a payment
   is issued) has passed become **overdue**.
2. Overdue cases get a **registration block** (one per case) and become registration_blocked.
3. Blocks of cases that were paid or voided meanwhile are **lifted** (payment lifts its own block
   at once, `etle.cases.lifecycle.mark_paid`; this catches any other way a case was settled).
4. Paid cases with no active block are **closed**.
5. New blocks and new lifts are stamped with today's date: the day's lists for the
   registration office (`etle.escalation.lists`) are built from those stamps.

Running it twice on one day changes nothing the second time: every step selects only what is
still to do, and the lists are rebuilt from the stamps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etle.cases.models import Case, CaseStatus
from etle.cases.transitions import transition
from etle.escalation.blocks import lift_blocks, place_block
from etle.escalation.models import RegistrationBlock

ESCALATION_ACTOR = "system:escalation"
RUNNING_DEADLINE = (CaseStatus.NOTICE_SENT, CaseStatus.OWNER_RESPONDED, CaseStatus.PAYMENT_ISSUED)
SETTLED = (CaseStatus.PAID, CaseStatus.CLOSED, CaseStatus.VOID)


@dataclass
class EscalationReport:
    today: date
    overdue: list[int] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    lifted: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["today"] = self.today.isoformat()
        return body


def _cases(session: Session, *conditions: Any) -> list[Case]:
    query = select(Case).where(*conditions).order_by(Case.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # a bank callback may be paying one of them right now
    return list(session.scalars(query))


def escalate(session: Session, *, today: date, actor: str = ESCALATION_ACTOR) -> EscalationReport:
    report = EscalationReport(today=today)
    for case in _cases(
        session,
        Case.status.in_([s.value for s in RUNNING_DEADLINE]),
        Case.due_on.is_not(None),
        Case.due_on < today,
    ):
        transition(session, case, CaseStatus.OVERDUE, actor=actor, details={"due_on": case.due_on})
        report.overdue.append(case.id)

    for case in _cases(
        session, Case.status == CaseStatus.OVERDUE.value, Case.vehicle_id.is_not(None)
    ):
        block = place_block(session, case, actor=actor)
        transition(
            session,
            case,
            CaseStatus.REGISTRATION_BLOCKED,
            actor=actor,
            details={"block_id": block.id},
        )
        report.blocked.append(case.id)

    for case in _cases(
        session,
        Case.status.in_([s.value for s in SETTLED]),
        Case.id.in_(select(RegistrationBlock.case_id).where(RegistrationBlock.lifted_at.is_(None))),
    ):
        lift_blocks(session, case, reason=CaseStatus(case.status).value, actor=actor)
        report.lifted.append(case.id)

    for case in _cases(
        session,
        Case.status == CaseStatus.PAID.value,
        Case.id.not_in(
            select(RegistrationBlock.case_id).where(RegistrationBlock.lifted_at.is_(None))
        ),
    ):
        transition(session, case, CaseStatus.CLOSED, actor=actor)
        report.closed.append(case.id)

    session.execute(
        update(RegistrationBlock)
        .where(RegistrationBlock.listed_on.is_(None))
        .values(listed_on=today)
    )
    session.execute(
        update(RegistrationBlock)
        .where(RegistrationBlock.lifted_at.is_not(None), RegistrationBlock.lift_listed_on.is_(None))
        .values(lift_listed_on=today)
    )
    session.flush()
    return report
