"""Camera health: silent cameras, frames per hour, clocks that drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.runtime import build_runtime
from api.settings import load_app_settings
from camera_ingest.config import IngestSettings
from camera_ingest.health import camera_health
from etle.cameras.models import Camera
from etle.cameras.service import add_camera, disable_camera
from etle.db import session_scope
from etle.officers.models import Role
from tests import factories
from tests.api.conftest import bearer, make_officer

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SETTINGS = IngestSettings(camera_silent_minutes=15)


def _frames(session: Session, camera_id: str, *minutes_ago: int, skew: int = 0) -> None:
    cam = session.get_one(Camera, camera_id)
    for m in minutes_ago:
        received = NOW - timedelta(minutes=m)
        factories.frame(
            session,
            cam,
            received_at=received,
            captured_at=received + timedelta(seconds=skew),
            needs_review_reason="clock_skew" if skew else None,
        )


def test_a_busy_camera_is_healthy(session: Session) -> None:
    cam = factories.camera(session)
    _frames(session, cam.id, 1, 5, 20, 59, 61, 200)
    [health] = [h for h in camera_health(session, SETTINGS, now=NOW) if h.camera_id == cam.id]
    assert health.healthy
    assert health.frames_last_hour == 4  # 1, 5, 20 and 59 minutes ago
    assert health.last_frame_at == NOW - timedelta(minutes=1)
    assert health.healthy


def test_a_silent_camera_is_unhealthy(session: Session) -> None:
    cam = factories.camera(session)
    _frames(session, cam.id, 47, 90)
    [health] = [h for h in camera_health(session, SETTINGS, now=NOW) if h.camera_id == cam.id]
    assert health.problems == ["silent for 47 min"]
    assert health.frames_last_hour == 1


def test_a_camera_that_never_sent_is_unhealthy(session: Session) -> None:
    cam = factories.camera(session)
    [health] = [h for h in camera_health(session, SETTINGS, now=NOW) if h.camera_id == cam.id]
    assert not health.healthy
    assert health.problems == ["no frame received yet"]
    assert health.last_frame_at is None


def test_clock_skew_is_flagged_with_its_size(session: Session) -> None:
    cam = factories.camera(session)
    _frames(session, cam.id, 2, 3)
    _frames(session, cam.id, 1, skew=-900)  # camera clock 15 minutes behind
    [health] = [h for h in camera_health(session, SETTINGS, now=NOW) if h.camera_id == cam.id]
    assert health.skewed_last_hour == 1
    assert health.latest_skew_seconds == -900
    assert health.problems == ["clock behind by 900 s (1 frame in the last hour marked for review)"]


def test_old_skew_no_longer_counts(session: Session) -> None:
    cam = factories.camera(session)
    _frames(session, cam.id, 90, skew=900)
    _frames(session, cam.id, 1)
    [health] = [h for h in camera_health(session, SETTINGS, now=NOW) if h.camera_id == cam.id]
    assert health.healthy


def test_a_disabled_camera_is_not_unhealthy(session: Session) -> None:
    cam = factories.camera(session)
    disable_camera(session, cam.id, actor="test")
    unhealthy = [h for h in camera_health(session, SETTINGS, now=NOW) if not h.healthy]
    assert cam.id not in {h.camera_id for h in unhealthy}


def test_health_endpoint_is_for_supervisors_and_administrators(
    fresh_url: str, tmp_path: Path
) -> None:
    rt = build_runtime(load_app_settings(data_dir=tmp_path, database_url=fresh_url))
    with session_scope(rt.sessions) as session:
        add_camera(session, camera_id="CAM-Q", name="Q", violation_codes=[], actor="test")
    supervisor = bearer(rt, make_officer(rt, Role.SUPERVISOR))
    with TestClient(create_app(rt)) as client:
        unhealthy = client.get("/api/v1/cameras/health", headers=supervisor).json()
        assert [(c["camera_id"], c["problems"]) for c in unhealthy] == [
            ("CAM-Q", ["no frame received yet"])
        ]
        assert client.get("/api/v1/cameras/health?all=true", headers=supervisor).status_code == 200
        assert client.get("/api/v1/cameras/health").status_code == 401
        reviewer = bearer(rt, make_officer(rt, Role.REVIEWER))
        answer = client.get("/api/v1/cameras/health", headers=reviewer)
        assert answer.status_code == 403
        assert answer.json()["error"] == "forbidden"
    rt.close()
