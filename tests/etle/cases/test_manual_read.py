"""Cases the machine could not read: opened in needs_plate, keyed by one officer, confirmed by
another, or rejected with a reason; and every path by which a proposer could confirm their own
plate, refused (invariant 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import load_app_settings
from camera_ingest.processing import save_reads
from camera_ingest.recognition.decode import Candidate
from camera_ingest.recognition.pipeline import FrameResult, PlateResult
from etle.audit.chain import verify
from etle.audit.models import AuditEvent
from etle.cases.config import ReviewSettings
from etle.cases.lease import claim, release
from etle.cases.manual_read import KEYED_MODEL, box_candidates
from etle.cases.models import (
    Case,
    CaseFlag,
    CaseFrame,
    CaseStatus,
    RejectReason,
    ReviewAction,
)
from etle.cases.review import Decision, Outcome, confirm, decide
from etle.errors import Conflict, Forbidden, ValidationFailed
from etle.frames.models import PlateRead, ReadDecision
from etle.notices.models import Notice
from etle.officers.models import Officer, Role
from tests import factories

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
SETTINGS = ReviewSettings()
BOX = [400, 500, 640, 560]


def _only(session: Session, keep: Case) -> None:
    """Close every other waiting case, so claims in the test take this one."""
    for other in session.scalars(
        select(Case).where(
            Case.status.in_(["needs_plate", "pending_review", "pending_second_review", "escalated"])
        )
    ):
        if other.id != keep.id:
            factories.set_status(session, other, CaseStatus.CLOSED)
    session.flush()


def _claim(session: Session, officer: Officer, now: datetime = NOW) -> Case | None:
    return claim(session, officer=officer, settings=SETTINGS, now=now)


def _decide(
    session: Session, officer: Officer, case: Case, decision: Decision, now: datetime = NOW
) -> Outcome:
    got = _claim(session, officer, now)
    assert got is not None
    assert got.id == case.id
    return decide(
        session, case_id=case.id, officer=officer, decision=decision, settings=SETTINGS, now=now
    )


def _key(plate: str, box: list[int] | None = BOX) -> Decision:
    return Decision(ReviewAction.KEY, plate=plate, box=box)


def _notices(session: Session, case: Case) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.case_id == case.id)))


def _unreadable(box: tuple[int, int, int, int], text: str = "B12") -> PlateResult:
    return PlateResult(
        box=box,
        text=text,
        confidence=0.2,
        decision=ReadDecision.UNREADABLE,
        candidates=[Candidate(text, 0.2)],
        slot_confidence=[0.3] * len(text),
        detector_score=0.5,
    )


# --- opened by the recognition job ---------------------------------------------------------


def test_a_violation_frame_with_no_plate_found_opens_a_case_that_needs_a_plate(
    session: Session,
) -> None:
    frame = factories.frame(session, factories.camera(session))
    weak = [((50, 60, 150, 90), 0.07), ((700, 500, 900, 560), 0.03)]
    result = FrameResult(width=1920, height=1080, ms=10, plates=[], weak_boxes=weak)
    save_reads(session, frame, result, load_app_settings(), model="test")
    case = session.scalars(
        select(Case)
        .join(CaseFrame, CaseFrame.case_id == Case.id)
        .where(CaseFrame.frame_id == frame.id)
    ).one()
    assert case.status == CaseStatus.NEEDS_PLATE
    assert case.plate == ""
    assert case.flags == [CaseFlag.NO_PLATE_FOUND]
    assert [c["box"] for c in box_candidates(case)] == [[50, 60, 150, 90], [700, 500, 900, 560]]
    assert frame.status == "read"
    opened = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_id == str(case.id))
        .order_by(AuditEvent.seq)
    ).all()
    assert opened == ["case.opened", "case.transition"]


def test_an_unreadable_nearest_plate_opens_a_case_that_needs_a_plate(session: Session) -> None:
    """The nearest plate cannot be read; a smaller readable plate behind it belongs to another
    vehicle and must not be fined instead."""
    factories.vehicle(session, "B1234ABC")
    frame = factories.frame(session, factories.camera(session))
    readable = PlateResult(
        box=(10, 10, 60, 25),
        text="B1234ABC",
        confidence=0.99,
        decision=ReadDecision.ACCEPT,
        candidates=[Candidate("B1234ABC", 0.99)],
        slot_confidence=[0.99] * 8,
        detector_score=0.9,
    )
    near = _unreadable((400, 500, 640, 560))
    result = FrameResult(width=1920, height=1080, ms=10, plates=[readable, near])
    save_reads(session, frame, result, load_app_settings(), model="test")
    cases = session.scalars(
        select(Case)
        .join(CaseFrame, CaseFrame.case_id == Case.id)
        .where(CaseFrame.frame_id == frame.id)
    ).all()
    assert [(c.status, c.flags) for c in cases] == [
        (CaseStatus.NEEDS_PLATE, [CaseFlag.PLATE_UNREADABLE])
    ]
    candidates = box_candidates(cases[0])
    assert candidates[0]["box"] == [400, 500, 640, 560]  # the nearest plate first
    assert candidates[0]["source"] == "read"


def test_a_sighting_with_no_plate_opens_nothing(session: Session) -> None:
    frame = factories.frame(session, factories.camera(session), violation_code=None)
    result = FrameResult(width=1920, height=1080, ms=10, plates=[])
    # The camera may report two violations: without saying which, the frame is a sighting.
    save_reads(session, frame, result, load_app_settings(), model="test")
    assert session.scalars(select(CaseFrame).where(CaseFrame.frame_id == frame.id)).all() == []


# --- keyed by one officer, confirmed by another ---------------------------------------------


def test_a_keyed_plate_goes_to_a_second_officer_who_confirms_it(session: Session) -> None:
    plate = factories.unique_plate()
    factories.vehicle(session, plate)
    case = factories.plate_less_case(session)
    _only(session, case)
    keyer, second = factories.officer(session), factories.officer(session)

    outcome = _decide(session, keyer, case, _key(plate))
    assert case.status == CaseStatus.PENDING_SECOND_REVIEW
    assert case.plate == plate
    assert case.owner_id is not None
    assert _notices(session, case) == []
    read = session.get_one(PlateRead, case.plate_read_id)
    assert (read.model, read.box, read.text, read.frame_id) == (
        KEYED_MODEL,
        BOX,
        plate,
        case.evidence_frame_id,
    )
    linked = session.scalars(select(CaseFrame.plate_read_id).where(CaseFrame.case_id == case.id))
    assert list(linked) == [read.id]
    assert outcome.decision.action == ReviewAction.KEY

    confirmed = _decide(session, second, case, Decision(ReviewAction.CONFIRM))
    assert case.status == CaseStatus.CONFIRMED
    assert confirmed.notice is not None
    assert _notices(session, case) == [confirmed.notice]
    decisions = session.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.entity_id == str(case.id), AuditEvent.action == "review.decision")
        .order_by(AuditEvent.seq)
    ).all()
    assert [(d["action"], d.get("box")) for d in decisions] == [("key", BOX), ("confirm", None)]
    assert verify(session).ok


def test_an_unregistered_keyed_plate_is_kept_and_flagged(session: Session) -> None:
    case = factories.plate_less_case(session)
    _only(session, case)
    _decide(session, factories.officer(session), case, _key("b 9 zz"))
    assert case.plate == "B9ZZ"
    assert case.owner_id is None
    assert CaseFlag.PLATE_NOT_REGISTERED in case.flags
    assert CaseFlag.NO_PLATE_FOUND in case.flags  # flags only accumulate
    with pytest.raises(Conflict, match="not registered"):
        _decide(session, factories.officer(session), case, Decision(ReviewAction.CONFIRM))


@pytest.mark.parametrize(
    ("plate", "box", "problem"),
    [
        ("B 1234 XYZ", None, "mark the plate"),
        ("B 1234 XYZ", [1800, 1000, 2000, 1060], "outside"),
        ("B 1234 XYZ", [10, 10, 12, 12], "at least"),
        ("B 1234 XYZ", [300, 100, 200, 160], "at least"),
        ("not a plate", BOX, "plate"),
    ],
)
def test_a_keyed_plate_needs_a_box_on_the_frame_and_a_valid_plate(
    session: Session, plate: str, box: list[int] | None, problem: str
) -> None:
    case = factories.plate_less_case(session)
    _only(session, case)
    with pytest.raises(ValidationFailed, match=problem):
        _decide(session, factories.officer(session), case, _key(plate, box))
    assert case.status == CaseStatus.NEEDS_PLATE


def test_a_case_without_a_plate_cannot_be_confirmed_or_corrected(session: Session) -> None:
    plate = factories.unique_plate()
    factories.vehicle(session, plate)
    case = factories.plate_less_case(session)
    _only(session, case)
    officer = factories.officer(session)
    for decision in (Decision(ReviewAction.CONFIRM), Decision(ReviewAction.CORRECT, plate=plate)):
        with pytest.raises(Conflict, match="no plate yet"):
            _decide(session, officer, case, decision)
    assert case.status == CaseStatus.NEEDS_PLATE
    assert _notices(session, case) == []


def test_a_case_with_a_plate_cannot_be_keyed(session: Session) -> None:
    case = factories.registered_case(session)
    _only(session, case)
    with pytest.raises(Conflict, match="already has a plate"):
        _decide(session, factories.officer(session), case, _key(case.plate))


# --- or rejected with a reason -----------------------------------------------------------


def test_a_rejection_needs_a_reason_and_is_audited(session: Session) -> None:
    case = factories.plate_less_case(session)
    _only(session, case)
    officer = factories.officer(session)
    with pytest.raises(ValidationFailed, match="reason"):
        _decide(session, officer, case, Decision(ReviewAction.REJECT))
    _decide(session, officer, case, Decision(ReviewAction.REJECT, reason=RejectReason.NO_VEHICLE))
    assert case.status == CaseStatus.REJECTED
    event = session.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.entity_id == str(case.id), AuditEvent.action == "review.decision")
        .order_by(AuditEvent.seq)
    ).one()
    assert event["reason"] == "no_vehicle"


@pytest.mark.parametrize(
    ("codes", "recorded"),
    [(["red_light", "invalid_plate"], "invalid_plate"), (["red_light"], "red_light")],
)
def test_a_covered_plate_is_recorded_as_the_invalid_plate_violation_where_the_camera_may_report_it(
    session: Session, codes: list[str], recorded: str
) -> None:
    case = factories.plate_less_case(
        session, camera=factories.camera(session, violation_codes=codes)
    )
    _only(session, case)
    reject = Decision(ReviewAction.REJECT, reason=RejectReason.PLATE_COVERED)
    _decide(session, factories.officer(session), case, reject)
    assert (case.status, case.violation_code) == (CaseStatus.REJECTED, recorded)


# --- four eyes: every path by which a proposer could confirm their own plate ----------------


def test_the_keyer_is_never_given_the_case_again(session: Session) -> None:
    plate = factories.unique_plate()
    factories.vehicle(session, plate)
    case = factories.plate_less_case(session)
    _only(session, case)
    keyer = factories.officer(session)
    _decide(session, keyer, case, _key(plate))
    assert _claim(session, keyer) is None  # not in their queue
    with pytest.raises(Forbidden, match="four eyes"):  # nor by going around the queue
        confirm(session, case=case, officer=keyer, settings=SETTINGS)
    assert _notices(session, case) == []


def test_a_proposer_cannot_confirm_after_someone_else_escalates(session: Session) -> None:
    """The bypass found in the attack run: a supervisor corrects, a reviewer escalates the
    correction, the same supervisor takes the escalated case and confirms it."""
    new_plate = factories.unique_plate()
    factories.vehicle(session, new_plate)
    case = factories.registered_case(session)
    _only(session, case)
    chief = factories.officer(session, role=Role.SUPERVISOR)
    reviewer, other_chief = (
        factories.officer(session),
        factories.officer(session, role=Role.SUPERVISOR),
    )
    _decide(session, chief, case, Decision(ReviewAction.CORRECT, plate=new_plate))
    _decide(session, reviewer, case, Decision(ReviewAction.ESCALATE, text="not sure"))
    assert case.status == CaseStatus.ESCALATED
    assert _claim(session, chief) is None
    with pytest.raises(Forbidden, match="four eyes"):
        confirm(session, case=case, officer=chief, settings=SETTINGS)
    _decide(session, other_chief, case, Decision(ReviewAction.CONFIRM))
    assert case.status == CaseStatus.CONFIRMED


def test_a_keyer_cannot_confirm_after_an_escalation_a_release_or_a_lease_that_ran_out(
    session: Session,
) -> None:
    plate = factories.unique_plate()
    factories.vehicle(session, plate)
    case = factories.plate_less_case(session)
    _only(session, case)
    chief = factories.officer(session, role=Role.SUPERVISOR)
    reviewer = factories.officer(session)
    _decide(session, chief, case, _key(plate))
    # Another officer takes the case and gives it back; then takes it and lets the lease lapse.
    assert _claim(session, reviewer) is not None
    release(session, case_id=case.id, officer=reviewer, now=NOW)
    assert _claim(session, chief) is None
    assert _claim(session, reviewer) is not None
    later = NOW + timedelta(seconds=SETTINGS.review_lease_seconds + 1)
    assert _claim(session, chief, later) is None
    # Escalated by the reviewer: the keyer is a supervisor, and still may not take it.
    _decide(session, reviewer, case, Decision(ReviewAction.ESCALATE), later)
    assert _claim(session, chief, later) is None
    assert _notices(session, case) == []


def test_a_supervisor_keys_an_escalated_case_for_a_second_officer(session: Session) -> None:
    plate = factories.unique_plate()
    factories.vehicle(session, plate)
    case = factories.plate_less_case(session)
    _only(session, case)
    reviewer, chief = factories.officer(session), factories.officer(session, role=Role.SUPERVISOR)
    _decide(session, reviewer, case, Decision(ReviewAction.ESCALATE, text="cannot find it"))
    _decide(session, chief, case, _key(plate))
    assert case.status == CaseStatus.PENDING_SECOND_REVIEW
    statuses = [
        e["status"]
        for e in session.scalars(
            select(AuditEvent.after)
            .where(AuditEvent.entity_id == str(case.id), AuditEvent.action == "case.transition")
            .order_by(AuditEvent.seq)
        )
    ]
    assert statuses == ["needs_plate", "escalated", "needs_plate", "pending_second_review"]
    # The reviewer who escalated it may confirm the supervisor's plate: two people.
    _decide(session, reviewer, case, Decision(ReviewAction.CONFIRM))
    assert case.status == CaseStatus.CONFIRMED
