"""The recognition job's last step: reads matched, flags raised, cases opened; no models needed
(the recognizer's result is given)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import load_app_settings
from camera_ingest.intake import FrameMetadata
from camera_ingest.processing import save_reads
from camera_ingest.recognition.decode import Candidate
from camera_ingest.recognition.pipeline import FrameResult, PlateResult
from etle.cases.models import Case, CaseFlag, CaseFrame
from etle.frames.models import Frame, ReadDecision
from tests import factories

NOON = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


def result(text: str = "B1234ABC") -> FrameResult:
    plate = PlateResult(
        box=(100, 100, 300, 160),
        text=text,
        confidence=0.98,
        decision=ReadDecision.ACCEPT,
        candidates=[Candidate(text, 0.98)],
        slot_confidence=[0.99] * len(text),
        detector_score=0.9,
    )
    return FrameResult(width=1920, height=1080, ms=10, plates=[plate])


def case_of(session: Session, frame: Frame) -> Case:
    return session.scalars(
        select(Case)
        .join(CaseFrame, CaseFrame.case_id == Case.id)
        .where(CaseFrame.frame_id == frame.id)
    ).one()


def test_the_vehicle_class_a_camera_reports_is_checked_against_the_registry(
    session: Session,
) -> None:
    factories.vehicle(session, "B1234ABC")  # a passenger car
    camera = factories.camera(session)
    frame = factories.frame(session, camera, vehicle_class="motorcycle")
    save_reads(session, frame, result(), load_app_settings(), model="test")
    case = case_of(session, frame)
    assert CaseFlag.SUSPECTED_CLONE in case.flags
    assert case.flag_details == {
        "suspected_clone": [{"registered_class": "passenger_car", "camera_class": "motorcycle"}]
    }


def test_a_sighting_far_away_flags_the_case_of_another_camera(session: Session) -> None:
    factories.vehicle(session, "B1234ABC")
    jakarta = factories.camera(session, latitude=-6.1754, longitude=106.8272)
    medan = factories.camera(session, latitude=3.5952, longitude=98.6722)
    settings = load_app_settings()
    violation = factories.frame(session, jakarta, captured_at=NOON)
    save_reads(session, violation, result(), settings, model="test")
    sighting = factories.frame(
        session, medan, captured_at=NOON + timedelta(hours=1), violation_code=None
    )
    save_reads(session, sighting, result(), settings, model="test")  # no violation: no case
    case = case_of(session, violation)
    assert CaseFlag.SUSPECTED_CLONE in case.flags
    assert session.scalars(select(CaseFrame).where(CaseFrame.frame_id == sighting.id)).all() == []


def test_frame_metadata_takes_an_optional_vehicle_class() -> None:
    metadata = FrameMetadata.model_validate(
        {"captured_at": "2026-11-20T07:15:04+07:00", "vehicle_class": "bus"}
    )
    assert metadata.vehicle_class == "bus"
    assert (
        FrameMetadata.model_validate({"captured_at": "2026-11-20T07:15:04+07:00"}).vehicle_class
        is None
    )
    with pytest.raises(ValidationError):
        FrameMetadata.model_validate(
            {"captured_at": "2026-11-20T07:15:04+07:00", "vehicle_class": "spaceship"}
        )
