"""The review queue: leases, order, conflict of interest, four eyes (services, both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cases.config import ReviewSettings
from etle.cases.lease import claim, held_by, release
from etle.cases.models import Case, CaseStatus, ReviewAction
from etle.cases.review import Decision, decide
from etle.errors import Conflict, Forbidden
from etle.officers.models import Role
from tests import factories

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
SETTINGS = ReviewSettings(review_lease_seconds=600, notice_target_days=3, at_risk_hours=24)


def _only_these(session: Session, *cases: Case) -> None:
    """Park every other waiting case (rows from other tests on the shared engine)."""
    keep = {c.id for c in cases}
    for other in session.scalars(select(Case).where(Case.status == CaseStatus.PENDING_REVIEW)):
        if other.id not in keep:
            factories.set_status(session, other, CaseStatus.CLOSED)
    session.flush()


def test_two_officers_get_two_different_cases_and_the_queue_runs_dry(session: Session) -> None:
    first, second = factories.registered_case(session), factories.registered_case(session)
    _only_these(session, first, second)
    ana, budi, citra = (factories.officer(session) for _ in range(3))
    got_a = claim(session, officer=ana, settings=SETTINGS, now=NOW)
    got_b = claim(session, officer=budi, settings=SETTINGS, now=NOW)
    assert got_a is not None
    assert got_b is not None
    assert {got_a.id, got_b.id} == {first.id, second.id}
    assert got_a.lease_officer_id == ana.id
    assert got_a.lease_expires_at == NOW + timedelta(seconds=600)
    assert claim(session, officer=citra, settings=SETTINGS, now=NOW) is None


def test_claiming_again_keeps_the_same_case_and_extends_the_lease(session: Session) -> None:
    first, second = factories.registered_case(session), factories.registered_case(session)
    _only_these(session, first, second)
    ana = factories.officer(session)
    got = claim(session, officer=ana, settings=SETTINGS, now=NOW)
    again = claim(session, officer=ana, settings=SETTINGS, now=NOW + timedelta(minutes=5))
    assert got is not None
    assert again is not None
    assert again.id == got.id
    assert again.lease_expires_at == NOW + timedelta(minutes=15)


def test_an_expired_lease_returns_the_case_and_its_old_holder_can_no_longer_decide(
    session: Session,
) -> None:
    only = factories.registered_case(session)
    _only_these(session, only)
    ana, budi = factories.officer(session), factories.officer(session)
    assert claim(session, officer=ana, settings=SETTINGS, now=NOW) is not None
    assert claim(session, officer=budi, settings=SETTINGS, now=NOW + timedelta(seconds=599)) is None
    later = NOW + timedelta(seconds=601)
    assert held_by(session, ana, now=later) is None
    taken = claim(session, officer=budi, settings=SETTINGS, now=later)
    assert taken is not None
    assert taken.id == only.id
    assert taken.lease_officer_id == budi.id
    with pytest.raises(Conflict):
        decide(
            session,
            case_id=only.id,
            officer=ana,
            decision=Decision(ReviewAction.CONFIRM),
            settings=SETTINGS,
            now=later,
        )
    assert only.status == CaseStatus.PENDING_REVIEW


def test_only_the_lease_holder_decides(session: Session) -> None:
    only = factories.registered_case(session)
    _only_these(session, only)
    ana, budi = factories.officer(session), factories.officer(session)
    claim(session, officer=ana, settings=SETTINGS, now=NOW)
    with pytest.raises(Conflict):
        decide(
            session,
            case_id=only.id,
            officer=budi,
            decision=Decision(ReviewAction.CONFIRM),
            settings=SETTINGS,
            now=NOW,
        )
    assert only.status == CaseStatus.PENDING_REVIEW


def test_a_released_case_goes_back_to_the_queue(session: Session) -> None:
    only = factories.registered_case(session)
    _only_these(session, only)
    ana, budi = factories.officer(session), factories.officer(session)
    claim(session, officer=ana, settings=SETTINGS, now=NOW)
    release(session, case_id=only.id, officer=ana, now=NOW)
    got = claim(session, officer=budi, settings=SETTINGS, now=NOW)
    assert got is not None
    assert got.id == only.id


def test_cases_at_risk_of_missing_the_service_level_come_first(session: Session) -> None:
    comfortable = factories.registered_case(session, captured_at=NOW - timedelta(hours=2))
    at_risk = factories.registered_case(session, captured_at=NOW - timedelta(hours=60))
    missed = factories.registered_case(session, captured_at=NOW - timedelta(days=4))
    middle = factories.registered_case(session, captured_at=NOW - timedelta(hours=30))
    _only_these(session, comfortable, at_risk, missed, middle)
    order = []
    for _ in range(4):
        got = claim(session, officer=factories.officer(session), settings=SETTINGS, now=NOW)
        assert got is not None
        order.append(got.id)
    assert order == [at_risk.id, middle.id, comfortable.id, missed.id]


def test_an_officer_never_gets_a_case_about_their_own_vehicle(session: Session) -> None:
    nik = "3171012345678901"
    own = factories.registered_case(session, owner_nik=nik)
    _only_these(session, own)
    mine = factories.officer(session, nik=nik)
    assert claim(session, officer=mine, settings=SETTINGS, now=NOW) is None
    other = factories.officer(session, nik="3171999999999999")
    got = claim(session, officer=other, settings=SETTINGS, now=NOW)
    assert got is not None
    assert got.id == own.id
    # Even holding a lease by some other road, the decision is refused.
    own.lease_officer_id, own.lease_expires_at = mine.id, NOW + timedelta(minutes=5)
    with pytest.raises(Forbidden):
        decide(
            session,
            case_id=own.id,
            officer=mine,
            decision=Decision(ReviewAction.CONFIRM),
            settings=SETTINGS,
            now=NOW,
        )


def test_escalated_cases_go_to_supervisors_only(session: Session) -> None:
    only = factories.registered_case(session)
    _only_these(session, only)
    reviewer = factories.officer(session)
    claim(session, officer=reviewer, settings=SETTINGS, now=NOW)
    decide(
        session,
        case_id=only.id,
        officer=reviewer,
        decision=Decision(ReviewAction.ESCALATE, text="driver may be police on duty"),
        settings=SETTINGS,
        now=NOW,
    )
    assert only.status == CaseStatus.ESCALATED
    assert claim(session, officer=factories.officer(session), settings=SETTINGS, now=NOW) is None
    boss = factories.officer(session, role=Role.SUPERVISOR)
    got = claim(session, officer=boss, settings=SETTINGS, now=NOW)
    assert got is not None
    assert got.id == only.id


def test_administrators_do_not_review(session: Session) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    with pytest.raises(Forbidden):
        claim(session, officer=admin, settings=SETTINGS, now=NOW)
