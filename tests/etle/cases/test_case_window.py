"""Frames of one plate, camera and violation within the window join one case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.models import AuditEvent
from etle.cameras.models import Camera
from etle.cases.matching import match_plate
from etle.cases.models import Case, CaseFlag, CaseFrame, CaseStatus
from etle.cases.opening import open_or_join
from etle.cases.transitions import transition
from etle.plates import VehicleClass
from etle.registry.lookup import DatabaseRegistry
from tests import factories

T0 = datetime(2026, 11, 20, 0, 15, tzinfo=UTC)


def frame_case(
    session: Session,
    camera: Camera,
    at: datetime,
    *,
    plate: str = "B1234ABC",
    violation: str = "red_light",
    window: int = 300,
    reported: VehicleClass | None = None,
) -> tuple[Case, bool]:
    frame = factories.frame(session, camera, captured_at=at, violation_code=violation)
    read = factories.plate_read(session, frame, plate)
    match = match_plate(
        DatabaseRegistry(session), plate=plate, on=at.date(), reported_class=reported
    )
    return open_or_join(
        session,
        frame=frame,
        read=read,
        violation_code=violation,
        match=match,
        extra_flags=[],
        window_seconds=window,
        actor="system:test",
    )


def test_a_burst_of_frames_joins_one_case(session: Session) -> None:
    camera = factories.camera(session)
    first, opened = frame_case(session, camera, T0)
    assert opened
    assert first.status == CaseStatus.PENDING_REVIEW
    for seconds in (1, 2, 240):
        case, opened = frame_case(session, camera, T0 + timedelta(seconds=seconds))
        assert case.id == first.id
        assert not opened
    assert (first.first_captured_at, first.last_captured_at) == (T0, T0 + timedelta(seconds=240))
    frames = session.scalars(select(CaseFrame).where(CaseFrame.case_id == first.id)).all()
    assert len(frames) == 4
    joined = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "case.frame_joined", AuditEvent.entity_id == str(first.id)
        )
    ).all()
    assert len(joined) == 3


def test_a_frame_arriving_late_but_captured_earlier_joins_too(session: Session) -> None:
    camera = factories.camera(session)
    first, _ = frame_case(session, camera, T0)
    earlier, _ = frame_case(session, camera, T0 - timedelta(seconds=30))
    assert earlier.id == first.id
    assert first.first_captured_at == T0 - timedelta(seconds=30)


@pytest.mark.parametrize(
    ("window", "gap", "same"),
    [(300, 299, True), (300, 301, False), (60, 120, False), (600, 480, True)],
)
def test_the_window_is_configurable(session: Session, window: int, gap: int, same: bool) -> None:
    camera = factories.camera(session)
    first, _ = frame_case(session, camera, T0, window=window)
    second, _ = frame_case(session, camera, T0 + timedelta(seconds=gap), window=window)
    assert (first.id == second.id) is same


def test_another_camera_violation_or_plate_is_another_case(session: Session) -> None:
    camera, other_camera = factories.camera(session), factories.camera(session)
    first, _ = frame_case(session, camera, T0)
    cases = {
        frame_case(session, other_camera, T0)[0].id,
        frame_case(session, camera, T0, violation="speeding")[0].id,
        frame_case(session, camera, T0, plate="B1234ABD")[0].id,
    }
    assert len(cases) == 3
    assert first.id not in cases


def test_a_closed_case_is_never_joined(session: Session) -> None:
    camera = factories.camera(session)
    first, _ = frame_case(session, camera, T0)
    transition(session, first, CaseStatus.REJECTED, actor="officer:x", reason="not a violation")
    second, opened = frame_case(session, camera, T0 + timedelta(seconds=5))
    assert opened
    assert second.id != first.id


def test_the_same_read_handled_twice_joins_nothing_twice(session: Session) -> None:
    camera = factories.camera(session)
    frame = factories.frame(session, camera, captured_at=T0)
    read = factories.plate_read(session, frame)
    match = match_plate(DatabaseRegistry(session), plate="B1234ABC", on=T0.date())
    args = {
        "frame": frame,
        "read": read,
        "violation_code": "red_light",
        "match": match,
        "extra_flags": [],
        "window_seconds": 300,
        "actor": "t",
    }
    case, opened = open_or_join(session, **args)  # type: ignore[arg-type]
    again, opened_again = open_or_join(session, **args)  # type: ignore[arg-type]
    assert (again.id, opened, opened_again) == (case.id, True, False)
    assert len(session.scalars(select(CaseFrame).where(CaseFrame.case_id == case.id)).all()) == 1


def test_a_joining_frame_adds_what_it_shows_to_the_flags(session: Session) -> None:
    factories.vehicle(session)
    camera = factories.camera(session)
    case, _ = frame_case(session, camera, T0)
    assert case.flags == []
    frame_case(session, camera, T0 + timedelta(seconds=2), reported=VehicleClass.BUS)
    assert case.flags == [CaseFlag.SUSPECTED_CLONE.value]
    assert case.flag_details == {
        "suspected_clone": [{"registered_class": "passenger_car", "camera_class": "bus"}]
    }
