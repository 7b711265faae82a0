"""The development photos pushed as violations, read by the real models: every frame is
accounted for, and each frame whose plate the machine could not read waits for an officer in a
case that needs a plate, instead of vanishing (about one in five did before)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings
from camera_ingest.intake import FrameMetadata, ingest_frame
from camera_ingest.processing import Outcome, recognize_frame
from etle.cameras.models import Camera
from etle.clock import utcnow
from etle.db import session_scope
from etle.frames.accounting import account_frames
from etle.frames.models import ReadDecision
from tests import factories

pytestmark = [pytest.mark.models, pytest.mark.dataset, pytest.mark.slow]


@pytest.fixture
def rt(fresh_url: str, models_dir: Path, tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(
        load_app_settings(
            data_dir=tmp_path / "data",
            database_url=fresh_url,
            queue_url=None,
            models_dir=models_dir,
        )
    )
    yield runtime
    runtime.close()


def test_every_development_photo_is_accounted_for(rt: Runtime, dataset_dir: Path) -> None:
    with session_scope(rt.sessions) as session:
        factories.camera(session, camera_id="CAM-DEV", violation_codes=["red_light"])
    frame_ids = []
    for photo in sorted(dataset_dir.glob("*.jpg")):
        with session_scope(rt.sessions) as session:
            result = ingest_frame(
                session,
                camera=session.get_one(Camera, "CAM-DEV"),
                data=photo.read_bytes(),
                metadata=FrameMetadata(captured_at=utcnow(), violation="red_light"),
                store=rt.evidence,
                settings=rt.settings,
                enqueue=lambda _frame_id: None,
            )
        frame_ids.append(result.frame_id)
    unread = 0
    recognizer = rt.recognizer()
    for frame_id, photo in zip(frame_ids, sorted(dataset_dir.glob("*.jpg")), strict=True):
        # What the machine makes of the photo: is there a plate it could read at all?
        plates = recognizer.recognize_bytes(photo.read_bytes()).plates
        nearest = max(
            plates, key=lambda p: (p.box[2] - p.box[0]) * (p.box[3] - p.box[1]), default=None
        )
        unread += nearest is None or nearest.decision == ReadDecision.UNREADABLE
        assert recognize_frame(rt.ingest, frame_id) == Outcome.READ
    with session_scope(rt.sessions) as session:
        report = account_frames(session)
    totals = report.totals.as_dict()
    assert report.ok
    assert totals["total"] == len(frame_ids)
    assert totals["unaccounted"] == 0
    assert totals["needs_plate"] == unread
    assert totals["case"] + totals["needs_plate"] == len(frame_ids)
