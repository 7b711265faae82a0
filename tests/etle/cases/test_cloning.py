"""Suspected cloned plates: one plate at two cameras too far apart for the time between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etle.audit.models import AuditEvent
from etle.cameras.models import Camera
from etle.cases.cloning import flag_clones, haversine_km
from etle.cases.matching import match_plate
from etle.cases.models import Case, CaseFlag
from etle.cases.opening import open_or_join
from etle.frames.models import PlateRead, ReadDecision
from etle.registry.lookup import DatabaseRegistry
from tests import factories

MONAS = (-6.1754, 106.8272)  # Jakarta
SURABAYA = (-7.2575, 112.7521)
NOON = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 12:00 WIB


def camera_at(session: Session, where: tuple[float, float]) -> Camera:
    return factories.camera(session, latitude=where[0], longitude=where[1])


def seen(
    session: Session,
    camera: Camera,
    at: datetime,
    *,
    plate: str = "B1234ABC",
    violation: str | None = "red_light",
    decision: ReadDecision = ReadDecision.ACCEPT,
) -> tuple[PlateRead, Case | None]:
    """A frame at `camera`: with a violation it opens (or joins) a case, without it is a
    sighting; then the cloned-plate check the recognition job runs."""
    frame = factories.frame(session, camera, captured_at=at, violation_code=violation)
    read = factories.plate_read(session, frame, plate, decision=decision)
    case = None
    if violation is not None:
        match = match_plate(DatabaseRegistry(session), plate=plate, on=at.date())
        case, _ = open_or_join(
            session,
            frame=frame,
            read=read,
            violation_code=violation,
            match=match,
            extra_flags=[],
            window_seconds=300,
            actor="test",
        )
    flag_clones(session, frame=frame, camera=camera, read=read, max_speed_kmh=200, actor="test")
    return read, case


def test_the_haversine_distance_jakarta_to_surabaya() -> None:
    assert haversine_km(*MONAS, *SURABAYA) == pytest.approx(663, rel=0.01)
    assert haversine_km(*MONAS, *MONAS) == 0


def test_the_same_plate_in_two_cities_half_an_hour_apart_flags_the_case(session: Session) -> None:
    factories.vehicle(session)
    jakarta, surabaya = camera_at(session, MONAS), camera_at(session, SURABAYA)
    _, case = seen(session, jakarta, NOON)
    assert case is not None
    assert CaseFlag.SUSPECTED_CLONE not in case.flags
    seen(session, surabaya, NOON + timedelta(minutes=30), violation=None)  # only a sighting

    assert CaseFlag.SUSPECTED_CLONE in case.flags
    [detail] = (case.flag_details or {})["suspected_clone"]
    assert detail["cameras"] == sorted([jakarta.id, surabaya.id])
    assert detail["distance_km"] == pytest.approx(663, rel=0.01)
    assert detail["minutes_apart"] == 30
    assert detail["speed_needed_kmh"] > 1000
    flagged = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "case.flagged", AuditEvent.entity_id == str(case.id)
        )
    ).one()
    assert flagged.after is not None
    assert flagged.after["flags"] == case.flags


def test_a_case_opened_after_the_impossible_sighting_is_flagged_too(session: Session) -> None:
    surabaya, jakarta = camera_at(session, SURABAYA), camera_at(session, MONAS)
    seen(session, surabaya, NOON, violation=None)
    _, case = seen(session, jakarta, NOON + timedelta(minutes=45))
    assert case is not None
    assert CaseFlag.SUSPECTED_CLONE in case.flags


def test_both_cases_are_flagged_when_both_frames_are_violations(session: Session) -> None:
    jakarta, surabaya = camera_at(session, MONAS), camera_at(session, SURABAYA)
    _, first = seen(session, jakarta, NOON)
    _, second = seen(session, surabaya, NOON + timedelta(hours=1))
    assert first is not None
    assert second is not None
    assert first.id != second.id
    assert CaseFlag.SUSPECTED_CLONE in first.flags
    assert CaseFlag.SUSPECTED_CLONE in second.flags


@pytest.mark.parametrize(
    ("other_place", "gap"),
    [
        (SURABAYA, timedelta(hours=10)),  # 663 km in 10 h: a long drive, not a clone
        ((-6.1780, 106.8272), timedelta(seconds=10)),  # 300 m in 10 s: clocks differ a bit
    ],
)
def test_a_trip_a_car_can_make_is_not_flagged(
    session: Session, other_place: tuple[float, float], gap: timedelta
) -> None:
    here, there = camera_at(session, MONAS), camera_at(session, other_place)
    _, case = seen(session, here, NOON)
    seen(session, there, NOON + gap, violation=None)
    assert case is not None
    assert CaseFlag.SUSPECTED_CLONE not in case.flags


def test_a_doubtful_read_accuses_no_one(session: Session) -> None:
    jakarta, surabaya = camera_at(session, MONAS), camera_at(session, SURABAYA)
    _, case = seen(session, jakarta, NOON)
    seen(
        session, surabaya, NOON + timedelta(minutes=5), violation=None, decision=ReadDecision.REVIEW
    )
    assert case is not None
    assert CaseFlag.SUSPECTED_CLONE not in case.flags


def test_another_plate_or_a_camera_without_coordinates_is_never_compared(
    session: Session,
) -> None:
    jakarta, surabaya = camera_at(session, MONAS), camera_at(session, SURABAYA)
    nowhere = factories.camera(session)
    _, case = seen(session, jakarta, NOON)
    seen(session, surabaya, NOON + timedelta(minutes=5), plate="B1234ABD", violation=None)
    seen(session, nowhere, NOON + timedelta(minutes=5), violation=None)
    assert case is not None
    assert CaseFlag.SUSPECTED_CLONE not in case.flags


def test_checking_the_same_sighting_twice_adds_nothing(session: Session) -> None:
    jakarta, surabaya = camera_at(session, MONAS), camera_at(session, SURABAYA)
    _, case = seen(session, jakarta, NOON)
    read, _ = seen(session, surabaya, NOON + timedelta(minutes=30), violation=None)
    events = session.scalar(select(func.count(AuditEvent.seq)))
    frame = read.frame_id
    from etle.frames.models import Frame

    flag_clones(
        session,
        frame=session.get_one(Frame, frame),
        camera=surabaya,
        read=read,
        max_speed_kmh=200,
        actor="test",
    )
    assert session.scalar(select(func.count(AuditEvent.seq))) == events
    assert case is not None
    assert len((case.flag_details or {})["suspected_clone"]) == 1
