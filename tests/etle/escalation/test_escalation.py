"""The daily deadlines job: overdue, registration block list, unblocking once paid."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import load_app_settings
from etle.audit.models import AuditEvent
from etle.cases.lifecycle import issue_payment, mark_paid, void_case
from etle.cases.models import Case, CaseStatus
from etle.escalation.lists import write_lists
from etle.escalation.models import RegistrationBlock
from etle.escalation.service import escalate
from etle.officers.models import Role
from tests import factories

S = CaseStatus


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


def statuses(session: Session, case: Case) -> list[str]:
    return [
        (e.after or {})["status"]
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "case.transition", AuditEvent.entity_id == str(case.id))
            .order_by(AuditEvent.seq)
        )
    ]


def test_a_case_past_its_deadline_is_blocked_and_listed_for_the_registration_office(
    session: Session, tmp_path: Path
) -> None:
    case = factories.noticed_case(session)
    assert case.due_on is not None
    day_after = case.due_on + timedelta(days=1)

    on_time = escalate(session, today=case.due_on)  # the last day to respond: not yet
    assert on_time.overdue == []
    assert case.status == S.NOTICE_SENT

    report = escalate(session, today=day_after)
    assert (report.overdue, report.blocked) == ([case.id], [case.id])
    assert case.status == S.REGISTRATION_BLOCKED
    assert statuses(session, case)[-2:] == ["overdue", "registration_blocked"]
    block = session.scalars(
        select(RegistrationBlock).where(RegistrationBlock.case_id == case.id)
    ).one()
    assert (block.plate, block.listed_on, block.lifted_at) == ("B1234ABC", day_after, None)

    files = write_lists(session, tmp_path, day_after)
    [row] = csv_rows(files["blocks"])
    assert (row["plate"], row["case_id"], row["owner_name"], row["violation"]) == (
        "B1234ABC",
        str(case.id),
        "Budi Santoso",
        "red_light",
    )
    assert row["notice_number"]
    assert row["due_on"] == case.due_on.isoformat()
    assert csv_rows(files["active"]) == [row]
    assert csv_rows(files["unblocks"]) == []


def test_running_the_job_again_changes_nothing(session: Session, tmp_path: Path) -> None:
    case = factories.noticed_case(session)
    assert case.due_on is not None
    day = case.due_on + timedelta(days=3)
    escalate(session, today=day)
    first = {name: path.read_bytes() for name, path in write_lists(session, tmp_path, day).items()}
    events = len(session.scalars(select(AuditEvent.seq)).all())

    again = escalate(session, today=day)
    assert (again.overdue, again.blocked, again.lifted, again.closed) == ([], [], [], [])
    assert len(session.scalars(select(AuditEvent.seq)).all()) == events
    rewritten = write_lists(session, tmp_path, day)
    assert {name: path.read_bytes() for name, path in rewritten.items()} == first

    next_day = escalate(session, today=day + timedelta(days=1))
    assert next_day.blocked == []
    files = write_lists(session, tmp_path, day + timedelta(days=1))
    assert csv_rows(files["blocks"]) == []  # listed once, on the day it was placed
    assert len(csv_rows(files["active"])) == 1


def test_payment_lifts_the_block_and_the_job_lists_the_unblock_and_closes_the_case(
    session: Session, tmp_path: Path
) -> None:
    case = factories.noticed_case(session)
    assert case.due_on is not None
    blocked_on = case.due_on + timedelta(days=1)
    escalate(session, today=blocked_on)
    assert mark_paid(session, case=case, actor="bank:bri", payment_ref="TRX-9") != []
    assert case.status == S.PAID

    paid_on = blocked_on + timedelta(days=2)
    report = escalate(session, today=paid_on)
    assert report.closed == [case.id]
    assert case.status == S.CLOSED
    files = write_lists(session, tmp_path, paid_on)
    [row] = csv_rows(files["unblocks"])
    assert (row["plate"], row["case_id"], row["reason"], row["vehicle_still_blocked"]) == (
        "B1234ABC",
        str(case.id),
        "paid",
        "no",
    )
    assert csv_rows(files["active"]) == []


def test_a_vehicle_with_two_unpaid_cases_stays_blocked_until_both_are_paid(
    session: Session, tmp_path: Path
) -> None:
    car = factories.vehicle(session)
    first = factories.noticed_case(session, vehicle=car)
    second = factories.noticed_case(session, vehicle=car)
    assert first.due_on is not None
    day = first.due_on + timedelta(days=1)
    assert escalate(session, today=day).blocked == [first.id, second.id]
    mark_paid(session, case=first, actor="bank:bri", payment_ref="TRX-1")
    escalate(session, today=day)  # the same day again: the lift is listed
    files = write_lists(session, tmp_path, day)
    [row] = csv_rows(files["unblocks"])
    assert (row["case_id"], row["vehicle_still_blocked"]) == (str(first.id), "yes")
    assert [r["case_id"] for r in csv_rows(files["active"])] == [str(second.id)]


def test_an_unpaid_payment_becomes_overdue_after_the_jurisdictions_pay_days(
    session: Session,
) -> None:
    case = factories.noticed_case(session)
    pay_by = issue_payment(
        session,
        case=case,
        actor="portal:x",
        settings=load_app_settings(pay_days=7),
        today=date(2026, 12, 1),
    )
    assert pay_by == date(2026, 12, 8)
    assert escalate(session, today=date(2026, 12, 8)).overdue == []
    assert escalate(session, today=date(2026, 12, 9)).overdue == [case.id]


def test_a_voided_case_is_unblocked_by_the_job_even_if_voided_without_lifting(
    session: Session, tmp_path: Path
) -> None:
    case = factories.noticed_case(session)
    assert case.due_on is not None
    day = case.due_on + timedelta(days=1)
    escalate(session, today=day)
    void_case(
        session,
        case=case,
        officer=factories.officer(session, role=Role.SUPERVISOR),
        reason="owner proved the car was stolen",
    )
    block = session.scalars(select(RegistrationBlock)).one()
    assert block.lift_reason == "void"
    report = escalate(session, today=day + timedelta(days=1))
    assert report.lifted == []  # lifted already, in the void's own transaction
    [row] = csv_rows(write_lists(session, tmp_path, day + timedelta(days=1))["unblocks"])
    assert row["reason"] == "void"
