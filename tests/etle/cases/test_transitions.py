"""The lifecycle table: every allowed move works and is audited; every other move is an error
that changes nothing, neither the case nor the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etle.audit.models import AuditEvent
from etle.cases.lifecycle import mark_paid, void_case
from etle.cases.models import Case, CaseStatus
from etle.cases.transitions import ALLOWED, TERMINAL, can_transition, transition
from etle.errors import Conflict, Forbidden
from etle.escalation.blocks import place_block
from etle.escalation.models import RegistrationBlock
from etle.officers.models import Role
from tests import factories

S = CaseStatus
# The lifecycle of the issue, written out once more by hand: the table must hold at least this.
ISSUE_LIFECYCLE = {
    (S.CAPTURED, S.PENDING_REVIEW),
    (S.PENDING_REVIEW, S.CONFIRMED),
    (S.PENDING_REVIEW, S.REJECTED),
    (S.CONFIRMED, S.NOTICE_SENT),
    (S.NOTICE_SENT, S.OWNER_RESPONDED),
    (S.OWNER_RESPONDED, S.PAYMENT_ISSUED),
    (S.PAYMENT_ISSUED, S.PAID),
    (S.PAYMENT_ISSUED, S.OVERDUE),
    (S.OVERDUE, S.REGISTRATION_BLOCKED),
    (S.REGISTRATION_BLOCKED, S.PAID),
    (S.PAID, S.CLOSED),
}
VOIDABLE = sorted(s for s in CaseStatus if s not in TERMINAL and s is not S.VOID)
FORBIDDEN = sorted(
    (a, b)
    for a in CaseStatus
    for b in CaseStatus
    if (a, b) not in ALLOWED and not (b is S.VOID and a in VOIDABLE)
)


def events(session: Session) -> int:
    return session.scalar(select(func.count(AuditEvent.seq))) or 0


def stored_status(session: Session, case: Case) -> str:
    return session.scalar(
        select(Case.status).where(Case.id == case.id).execution_options(populate_existing=True)
    )


def test_the_table_holds_the_lifecycle_of_the_issue() -> None:
    assert ISSUE_LIFECYCLE <= ALLOWED
    assert len(FORBIDDEN) + len(ALLOWED) + len(VOIDABLE) == len(CaseStatus) ** 2


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_every_allowed_transition_changes_the_status_and_is_audited(
    session: Session, current: CaseStatus, target: CaseStatus
) -> None:
    case = factories.case(session, status=current)
    transition(session, case, target, actor="officer:test")
    assert case.status == target
    assert stored_status(session, case) == target
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (event.actor, event.action, event.entity_id, event.before, event.after) == (
        "officer:test",
        "case.transition",
        str(case.id),
        {"status": current.value},
        {"status": target.value},
    )


@pytest.mark.parametrize("current", VOIDABLE)
def test_every_open_case_can_be_voided_with_a_reason(session: Session, current: CaseStatus) -> None:
    case = factories.case(session, status=current)
    transition(session, case, S.VOID, actor="officer:sup", reason="duplicate of case 7")
    assert stored_status(session, case) == S.VOID
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert event.after == {"status": "void", "reason": "duplicate of case 7"}


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_every_forbidden_transition_is_an_error_and_changes_nothing(
    session: Session, current: CaseStatus, target: CaseStatus
) -> None:
    case = factories.case(session, status=current)
    version, before = case.version, events(session)
    with pytest.raises(Conflict) as info:
        transition(session, case, target, actor="officer:test", reason="try anyway")
    assert info.value.status_code == 409
    assert info.value.detail == {"case_id": case.id, "from": current.value, "to": target.value}
    assert case.status == current
    assert stored_status(session, case) == current
    assert case.version == version
    assert events(session) == before


def test_final_states_cannot_be_left_not_even_to_void() -> None:
    assert all(can_transition(s, S.VOID) for s in VOIDABLE)
    assert not any(can_transition(s, S.VOID) for s in TERMINAL)
    assert not any(a in TERMINAL for a, _ in ALLOWED)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_void_without_a_reason_is_refused(session: Session, reason: str | None) -> None:
    case = factories.case(session)
    before = events(session)
    with pytest.raises(Conflict, match="needs a reason"):
        transition(session, case, S.VOID, actor="officer:sup", reason=reason)
    assert stored_status(session, case) == S.PENDING_REVIEW
    assert events(session) == before


def test_setting_the_status_directly_is_refused_at_flush(session: Session) -> None:
    case = factories.case(session)
    case.status = S.CONFIRMED
    with pytest.raises(Conflict, match="only through etle.cases.transitions.transition"):
        session.flush()


def test_only_supervisors_void_and_a_void_lifts_the_registration_block(
    session: Session,
) -> None:
    car = factories.vehicle(session)
    case = factories.case(session, status=S.OVERDUE, vehicle_id=car.id, owner_id=car.owner_id)
    block = place_block(session, case, actor="test")
    transition(session, case, S.REGISTRATION_BLOCKED, actor="test")
    for role in (Role.REVIEWER, Role.ADMINISTRATOR):
        with pytest.raises(Forbidden):
            void_case(session, case=case, officer=factories.officer(session, role=role), reason="x")
    assert stored_status(session, case) == S.REGISTRATION_BLOCKED

    supervisor = factories.officer(session, role=Role.SUPERVISOR)
    assert void_case(session, case=case, officer=supervisor, reason="wrong camera") == [block.id]
    assert case.status == S.VOID
    assert session.get_one(RegistrationBlock, block.id).lift_reason == "void"


@pytest.mark.parametrize("current", [S.PAYMENT_ISSUED, S.OVERDUE, S.REGISTRATION_BLOCKED])
def test_a_payment_marks_the_case_paid_and_lifts_its_block(
    session: Session, current: CaseStatus
) -> None:
    car = factories.vehicle(session)
    case = factories.case(session, status=current, vehicle_id=car.id, owner_id=car.owner_id)
    block = place_block(session, case, actor="test") if current is S.REGISTRATION_BLOCKED else None
    lifted = mark_paid(session, case=case, actor="bank:bri", payment_ref="TRX-1", amount_rp=500_000)
    assert case.status == S.PAID
    assert lifted == ([block.id] if block else [])
    if block is not None:
        assert block.lifted_at is not None
        assert block.lift_reason == "paid"


def test_a_payment_on_a_case_not_yet_issued_is_refused(session: Session) -> None:
    case = factories.noticed_case(session)
    with pytest.raises(Conflict):
        mark_paid(session, case=case, actor="bank:bri", payment_ref="TRX-2")
    assert stored_status(session, case) == S.NOTICE_SENT
