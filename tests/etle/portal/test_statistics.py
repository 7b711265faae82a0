"""Transparency figures: confirmed violations per type, camera and day, the capture-to-notice
median, and how officers' first reviews went; nothing that names anyone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from api.settings import AppSettings
from etle.cases.models import RejectReason
from etle.cases.review import confirm, reject
from etle.clock import local, utcnow
from etle.portal.statistics import transparency
from tests import factories


def test_figures_per_type_camera_and_day(session: Session, settings: AppSettings) -> None:
    now = utcnow()
    today = local(now, settings.timezone).date()
    officer = factories.officer(session)
    north = factories.camera(session, name="Utara", road="Jl. Gajah Mada")
    south = factories.camera(session, name="Selatan", road="Jl. Fatmawati", speed_limit_kmh=60)
    yesterday, three_days_ago = now - timedelta(days=1), now - timedelta(days=3)
    confirmed = [
        factories.registered_case(session, camera=north, captured_at=yesterday),
        factories.registered_case(session, camera=north, captured_at=three_days_ago),
        factories.registered_case(
            session,
            camera=south,
            captured_at=yesterday,
            violation_code="speeding",
            frame=factories.frame(session, south, captured_at=yesterday, measured_speed_kmh=82.0),
        ),
    ]
    for case in confirmed:
        confirm(session, case=case, officer=officer, settings=settings)
    rejected = factories.registered_case(session, camera=south, captured_at=yesterday)
    reject(session, case=rejected, officer=officer, reason_code=RejectReason.UNREADABLE)

    figures = transparency(session, settings=settings, days=7, today=today)
    assert figures.violations == 3  # the rejected read is no violation
    assert [(c.key, c.count) for c in figures.by_violation] == [("red_light", 2), ("speeding", 1)]
    assert [(c.label_id, c.count) for c in figures.by_camera] == [
        ("Jl. Gajah Mada", 2),
        (
            "Jl. Fatmawati",
            1,
        ),
    ]
    per_day = dict(figures.by_day)
    assert len(per_day) == 7
    assert per_day[local(yesterday, settings.timezone).date()] == 2
    assert per_day[local(three_days_ago, settings.timezone).date()] == 1
    assert sum(per_day.values()) == 3
    assert figures.notices == 3
    assert figures.median_capture_to_notice_hours is not None
    assert 23 <= figures.median_capture_to_notice_hours <= 25  # captured a day before the notice
    assert figures.reviewed == 4
    assert figures.review_shares == {
        "confirm": 0.75,
        "correct": 0.0,
        "reject": 0.25,
        "escalate": 0.0,
    }
    text = str(figures.as_dict())
    for case in [*confirmed, rejected]:
        assert case.plate not in text
    assert officer.username not in text
    assert "Budi" not in text


def test_an_empty_period_has_no_median_and_no_shares(
    session: Session, settings: AppSettings
) -> None:
    figures = transparency(session, settings=settings, days=3, today=local(utcnow()).date())
    assert figures.violations == 0
    assert figures.median_capture_to_notice_hours is None
    assert set(figures.review_shares.values()) == {None}
    assert [n for _d, n in figures.by_day] == [0, 0, 0]


def test_where_every_frame_of_the_month_ended_is_published(
    session: Session, settings: AppSettings
) -> None:
    now = utcnow()
    cam = factories.camera(session)  # reports two violations: a frame must say which
    factories.frame(session, cam, received_at=now, status="read", violation_code=None)
    factories.frame(session, cam, received_at=now, status="rejected", error="not decodable")
    factories.frame(session, cam, received_at=now, status="read")  # a violation in no case
    factories.plate_less_case(session, camera=cam, received_at=now)
    figures = transparency(session, settings=settings, days=1)
    month = figures.frame_months[0]
    assert month.month == local(now, settings.timezone).strftime("%Y-%m")
    assert (month.frames, month.sighting, month.rejected, month.waiting, month.unaccounted) == (
        4,
        1,
        1,
        1,
        1,
    )
