"""Accountability figures: decisions, time per decision, reversals, backlog, service level."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cases.accountability import overrides, review_stats
from etle.cases.config import ReviewSettings
from etle.cases.lease import claim
from etle.cases.models import Case, CaseStatus, RejectReason, ReviewAction
from etle.cases.review import Decision, decide
from etle.cases.transitions import transition
from etle.clock import utcnow
from etle.officers.models import Officer, Role
from tests import factories

SETTINGS = ReviewSettings(notice_target_days=3, at_risk_hours=24)


def _park_all(session: Session) -> None:
    for other in session.scalars(
        select(Case).where(
            Case.status.in_(["pending_review", "pending_second_review", "escalated"])
        )
    ):
        factories.set_status(session, other, CaseStatus.CLOSED)
    session.flush()


def _review(
    session: Session, officer: Officer, case: Case, decision: Decision, seconds: int = 30
) -> None:
    start = utcnow()
    got = claim(session, officer=officer, settings=SETTINGS, now=start)
    assert got is case
    decide(
        session,
        case_id=case.id,
        officer=officer,
        decision=decision,
        settings=SETTINGS,
        now=start + timedelta(seconds=seconds),
    )


def test_reversals_time_backlog_and_service_level(session: Session) -> None:
    _park_all(session)
    now = utcnow()
    ana, budi = factories.officer(session, "ana.t"), factories.officer(session, "budi.t")
    plates = [factories.unique_plate() for _ in range(2)]
    for plate in plates:
        factories.vehicle(session, plate)

    overturned_fix = factories.registered_case(session, captured_at=now - timedelta(hours=10))
    _review(session, ana, overturned_fix, Decision(ReviewAction.CORRECT, plate=plates[0]), 20)
    _review(
        session,
        budi,
        overturned_fix,
        Decision(ReviewAction.REJECT, reason=RejectReason.UNREADABLE),
        40,
    )

    upheld_fix = factories.registered_case(session, captured_at=now - timedelta(hours=10))
    _review(session, ana, upheld_fix, Decision(ReviewAction.CORRECT, plate=plates[1]), 20)
    _review(session, budi, upheld_fix, Decision(ReviewAction.CONFIRM), 40)

    voided = factories.registered_case(session, captured_at=now - timedelta(hours=100))
    _review(session, ana, voided, Decision(ReviewAction.CONFIRM), 20)
    transition(session, voided, CaseStatus.VOID, actor="officer:boss", reason="camera faulty")

    # Waiting: one at risk (deadline in 12 h), one comfortable, one already past the target.
    at_risk = factories.registered_case(session, captured_at=now - timedelta(hours=60))
    factories.registered_case(session, captured_at=now - timedelta(hours=1))
    missed = factories.registered_case(session, captured_at=now - timedelta(hours=80))

    stats = review_stats(
        session, settings=SETTINGS, since=now - timedelta(hours=1), now=now + timedelta(minutes=5)
    )
    by_name = {o.username: o for o in stats.officers}
    assert by_name["ana.t"].by_action == {"confirm": 1, "correct": 2}
    assert (by_name["ana.t"].verdicts, by_name["ana.t"].overturned) == (3, 2)
    assert by_name["ana.t"].reversal_rate == round(2 / 3, 4)
    assert by_name["ana.t"].median_seconds == 20
    assert by_name["budi.t"].overturned == 0
    assert by_name["budi.t"].median_seconds == 40

    backlog = stats.backlog
    assert backlog.waiting == 3
    assert (backlog.at_risk, backlog.missed) == (1, 1)
    assert backlog.oldest_case_id == missed.id
    assert backlog.oldest_age_hours is not None
    assert backlog.oldest_age_hours >= 80
    assert at_risk.id != missed.id

    # Two notices: one 10 h after capture (in target), one 100 h (late).
    service = stats.service_level
    assert (service.notices, service.within_target) == (2, 1)
    assert service.slowest_hours is not None
    assert service.slowest_hours >= 100

    listed = overrides(session, limit=10)
    kinds = [(o.kind, o.officer, o.action, o.overrides_officer) for o in listed[:4]]
    assert kinds == [
        ("second_confirmation", "budi.t", "confirm", "ana.t"),
        ("correction", "ana.t", "correct", None),
        ("second_review", "budi.t", "reject", "ana.t"),
        ("correction", "ana.t", "correct", None),
    ]


def test_escalation_outcomes_are_overrides(session: Session) -> None:
    _park_all(session)
    case = factories.registered_case(session)
    reviewer = factories.officer(session)
    boss = factories.officer(session, role=Role.SUPERVISOR)
    _review(session, reviewer, case, Decision(ReviewAction.ESCALATE, text="plat kabur"))
    _review(session, boss, case, Decision(ReviewAction.REJECT, reason=RejectReason.UNREADABLE))
    [latest, *_] = overrides(session, limit=5)
    assert (latest.kind, latest.officer, latest.overrides_officer, latest.overrides_action) == (
        "escalation_outcome",
        boss.username,
        reviewer.username,
        "escalate",
    )
