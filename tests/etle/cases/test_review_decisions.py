"""Officer decisions: notices only from a confirmation, four eyes on corrections, the trail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import verify
from etle.audit.models import AuditEvent
from etle.cases.config import ReviewSettings
from etle.cases.lease import claim
from etle.cases.models import Case, CaseFlag, CaseStatus, RejectReason, ReviewAction, ReviewDecision
from etle.cases.review import Decision, Outcome, confirm, decide
from etle.db import create_engine, session_factory, session_scope
from etle.errors import Conflict, Forbidden, ValidationFailed
from etle.notices.models import Channel, Delivery, Notice
from etle.officers.models import Officer, Role
from etle.plates import VehicleClass, parse_plate
from notices.jobs import enqueue_on_commit
from tests import factories

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
SETTINGS = ReviewSettings()


def _park_others(session: Session, keep: Case) -> None:
    for other in session.scalars(
        select(Case).where(
            Case.status.in_(["needs_plate", "pending_review", "pending_second_review", "escalated"])
        )
    ):
        if other.id != keep.id:
            factories.set_status(session, other, CaseStatus.CLOSED)
    session.flush()


def _claim_and_decide(
    session: Session, officer: Officer, case: Case, decision: Decision
) -> Outcome:
    got = claim(session, officer=officer, settings=SETTINGS, now=NOW)
    assert got is not None
    assert got.id == case.id
    return decide(
        session, case_id=case.id, officer=officer, decision=decision, settings=SETTINGS, now=NOW
    )


def _notices(session: Session, case: Case) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.case_id == case.id)))


def test_confirming_issues_the_notice_with_a_delivery_per_channel(session: Session) -> None:
    case = factories.registered_case(session)
    _park_others(session, case)
    outcome = _claim_and_decide(
        session, factories.officer(session), case, Decision(ReviewAction.CONFIRM)
    )
    assert case.status == CaseStatus.CONFIRMED
    assert outcome.notice is not None
    assert _notices(session, case) == [outcome.notice]
    channels = set(
        session.scalars(select(Delivery.channel).where(Delivery.notice_id == outcome.notice.id))
    )
    assert channels == {Channel.POST, Channel.EMAIL, Channel.MESSAGE}
    assert case.lease_officer_id is None
    assert outcome.decision.claimed_at == NOW


def test_a_correction_cannot_produce_a_notice_without_a_second_officer(session: Session) -> None:
    read_as = factories.unique_plate()
    case = factories.registered_case(session, read_as)
    factories.vehicle(session, "B1818XYZ", colour="hitam")
    _park_others(session, case)
    corrector, second = factories.officer(session), factories.officer(session)

    _claim_and_decide(session, corrector, case, Decision(ReviewAction.CORRECT, plate="b 1818 xyz"))
    assert case.status == CaseStatus.PENDING_SECOND_REVIEW
    assert case.plate == "B1818XYZ"
    assert _notices(session, case) == []

    # The corrector is never offered the case again, and cannot confirm it by any road.
    assert claim(session, officer=corrector, settings=SETTINGS, now=NOW) is None
    with pytest.raises(Forbidden):
        confirm(session, case=case, officer=corrector, settings=SETTINGS)
    case.lease_officer_id, case.lease_expires_at = corrector.id, NOW.replace(year=2027)
    with pytest.raises(Forbidden):
        decide(
            session,
            case_id=case.id,
            officer=corrector,
            decision=Decision(ReviewAction.CONFIRM),
            settings=SETTINGS,
            now=NOW,
        )
    case.lease_officer_id = case.lease_expires_at = None
    assert _notices(session, case) == []

    outcome = _claim_and_decide(session, second, case, Decision(ReviewAction.CONFIRM))
    assert case.status == CaseStatus.CONFIRMED
    assert outcome.notice is not None
    assert outcome.notice.owner_id == case.owner_id


def test_a_supervisor_may_be_the_second_pair_of_eyes(session: Session) -> None:
    case = factories.registered_case(session)
    plate = factories.unique_plate()
    factories.vehicle(session, plate)
    _park_others(session, case)
    _claim_and_decide(
        session, factories.officer(session), case, Decision(ReviewAction.CORRECT, plate=plate)
    )
    boss = factories.officer(session, role=Role.SUPERVISOR)
    _claim_and_decide(session, boss, case, Decision(ReviewAction.CONFIRM))
    assert case.status == CaseStatus.CONFIRMED


def test_a_second_officer_who_disagrees_corrects_again_and_a_third_must_confirm(
    session: Session,
) -> None:
    case = factories.registered_case(session)
    first_fix, second_fix = factories.unique_plate(), factories.unique_plate()
    factories.vehicle(session, first_fix)
    factories.vehicle(session, second_fix)
    _park_others(session, case)
    ana, budi, citra = (factories.officer(session) for _ in range(3))
    _claim_and_decide(session, ana, case, Decision(ReviewAction.CORRECT, plate=first_fix))
    _claim_and_decide(session, budi, case, Decision(ReviewAction.CORRECT, plate=second_fix))
    assert (case.status, case.plate) == (CaseStatus.PENDING_SECOND_REVIEW, second_fix)
    assert claim(session, officer=budi, settings=SETTINGS, now=NOW) is None
    # Ana corrected to something else; Budi's plate is new to her: she may confirm it.
    _claim_and_decide(session, ana, case, Decision(ReviewAction.CONFIRM))
    assert case.status == CaseStatus.CONFIRMED


def test_a_correction_to_an_unregistered_plate_is_refused_and_changes_nothing(
    session: Session,
) -> None:
    case = factories.registered_case(session)
    _park_others(session, case)
    officer = factories.officer(session)
    claim(session, officer=officer, settings=SETTINGS, now=NOW)
    before = case.plate
    for bad in ("B9999QQQ", "not a plate", before):
        with pytest.raises(ValidationFailed):
            decide(
                session,
                case_id=case.id,
                officer=officer,
                decision=Decision(ReviewAction.CORRECT, plate=bad),
                settings=SETTINGS,
                now=NOW,
            )
    assert (case.status, case.plate) == (CaseStatus.PENDING_REVIEW, before)


def test_a_corrected_plate_is_matched_afresh(session: Session) -> None:
    case = factories.registered_case(
        session,
        flags=[CaseFlag.PLATE_NOT_REGISTERED.value, CaseFlag.CLOCK_SKEW.value],
        vehicle_id=None,
        owner_id=None,
    )
    plate = factories.unique_plate()
    number_class = parse_plate(plate).vehicle_class
    registered_as = "bus" if number_class is not VehicleClass.BUS else "motorcycle"
    factories.vehicle(session, plate, vehicle_class=registered_as)  # does not fit the number
    _park_others(session, case)
    _claim_and_decide(
        session, factories.officer(session), case, Decision(ReviewAction.CORRECT, plate=plate)
    )
    assert set(case.flags) == {CaseFlag.CLOCK_SKEW.value, CaseFlag.CLASS_MISMATCH.value}
    assert case.owner_id is not None


def test_an_unregistered_plate_cannot_be_confirmed(session: Session) -> None:
    case = factories.case(session, plate=factories.unique_plate())
    _park_others(session, case)
    officer = factories.officer(session)
    claim(session, officer=officer, settings=SETTINGS, now=NOW)
    with pytest.raises(Conflict, match="not registered"):
        decide(
            session,
            case_id=case.id,
            officer=officer,
            decision=Decision(ReviewAction.CONFIRM),
            settings=SETTINGS,
            now=NOW,
        )
    assert _notices(session, case) == []


@pytest.mark.parametrize("reason", list(RejectReason))
def test_every_reject_reason_is_recorded(session: Session, reason: RejectReason) -> None:
    case = factories.registered_case(session)
    _park_others(session, case)
    text = "plate covered by a bike rack" if reason is RejectReason.OTHER else None
    outcome = _claim_and_decide(
        session,
        factories.officer(session),
        case,
        Decision(ReviewAction.REJECT, reason=reason, text=text),
    )
    assert case.status == CaseStatus.REJECTED
    assert (outcome.decision.reason_code, outcome.decision.reason_text) == (reason.value, text)
    assert _notices(session, case) == []


def test_other_needs_a_text(session: Session) -> None:
    case = factories.registered_case(session)
    _park_others(session, case)
    officer = factories.officer(session)
    claim(session, officer=officer, settings=SETTINGS, now=NOW)
    with pytest.raises(ValidationFailed):
        decide(
            session,
            case_id=case.id,
            officer=officer,
            decision=Decision(ReviewAction.REJECT, reason=RejectReason.OTHER, text="  "),
            settings=SETTINGS,
            now=NOW,
        )
    assert case.status == CaseStatus.PENDING_REVIEW


@pytest.mark.parametrize("action", list(ReviewAction))
def test_every_decision_is_in_the_audit_trail(session: Session, action: ReviewAction) -> None:
    keying = action is ReviewAction.KEY
    case = factories.plate_less_case(session) if keying else factories.registered_case(session)
    plate = factories.unique_plate()
    factories.vehicle(session, plate)
    _park_others(session, case)
    officer = factories.officer(session)
    decision = {
        ReviewAction.CONFIRM: Decision(action),
        ReviewAction.CORRECT: Decision(action, plate=plate),
        ReviewAction.REJECT: Decision(action, reason=RejectReason.DUPLICATE),
        ReviewAction.ESCALATE: Decision(action, text="ask the unit"),
        ReviewAction.KEY: Decision(action, plate=plate, box=[10, 10, 200, 60]),
    }[action]
    outcome = _claim_and_decide(session, officer, case, decision)
    events = list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(case.id), AuditEvent.action == "review.decision"
            )
        )
    )
    assert len(events) == 1
    event = events[0]
    assert event.actor == officer.actor
    assert event.after is not None
    assert event.after["decision_id"] == outcome.decision.id
    assert event.after["action"] == action.value
    assert event.after["status"] == case.status
    stored = session.get_one(ReviewDecision, outcome.decision.id)
    assert (stored.officer_id, stored.action) == (officer.id, action.value)
    assert verify(session).ok


def test_dispatch_jobs_are_queued_only_after_the_confirmation_commits(fresh_url: str) -> None:
    engine = create_engine(fresh_url)
    sessions = session_factory(engine)
    queued: list[int] = []

    class Recorder:  # stands in for the job queue: records what would be sent
        def send(self, _name: str, delivery_id: int) -> None:
            queued.append(delivery_id)

    enqueue_on_commit(sessions, Recorder())  # type: ignore[arg-type]
    with session_scope(sessions) as session:
        case = factories.registered_case(session)
        case_id, officer_id = case.id, factories.officer(session).id

    def confirm_then_crash() -> None:
        with session_scope(sessions) as session:
            officer = session.get_one(Officer, officer_id)
            claim(session, officer=officer, settings=SETTINGS)
            decide(
                session,
                case_id=case_id,
                officer=officer,
                decision=Decision(ReviewAction.CONFIRM),
                settings=SETTINGS,
            )
            raise RuntimeError("crash before commit")

    # A confirmation that fails after the notice was written queues nothing.
    with pytest.raises(RuntimeError):
        confirm_then_crash()
    assert queued == []
    with session_scope(sessions) as session:
        officer = session.get_one(Officer, officer_id)
        claim(session, officer=officer, settings=SETTINGS)
        decide(
            session,
            case_id=case_id,
            officer=officer,
            decision=Decision(ReviewAction.CONFIRM),
            settings=SETTINGS,
        )
        assert queued == []  # not yet: the transaction is still open
    with session_scope(sessions) as session:
        email_and_message = list(
            session.scalars(
                select(Delivery.id)
                .join(Notice, Notice.id == Delivery.notice_id)
                .where(Notice.case_id == case_id, Delivery.channel != Channel.POST.value)
                .order_by(Delivery.id)
            )
        )
    assert sorted(queued) == email_and_message
    assert len(queued) == 2
    engine.dispose()
