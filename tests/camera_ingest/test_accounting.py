"""Nothing vanishes: frames pushed through every path end where `etle frames account` says,
failures record their cause and heal, and a frame that fell through is found and mended.

The recognizer is a stand-in that answers per image (no models needed); the real one is used
by tests/camera_ingest/test_failures_heal.py and the development-photo run."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from api.cli.main import app
from api.runtime import Runtime
from camera_ingest.intake import FrameMetadata, ingest_frame
from camera_ingest.jobs import sweep_frames
from camera_ingest.processing import Outcome, WorkerContext, recognize_frame
from camera_ingest.recognition.decode import Candidate
from camera_ingest.recognition.pipeline import FrameResult, PlateResult
from etle.cameras.models import Camera
from etle.clock import utcnow
from etle.db import session_scope
from etle.errors import ConfigError, ServiceUnavailable, ValidationFailed
from etle.frames.accounting import account_frames
from etle.frames.models import FailureCause, Frame, FrameStatus, ReadDecision
from tests import factories
from tests.factories import jpeg


class StandIn:
    """A recognizer answering per image: a plate, no plate, or an exception."""

    model_name = "stand-in"

    def __init__(self) -> None:
        self.answers: dict[bytes, Callable[[], FrameResult]] = {}

    def recognize_bytes(self, data: bytes, box_hints: Any = None) -> FrameResult:
        return self.answers[data]()


def plate(text: str) -> Callable[[], FrameResult]:
    found = PlateResult(
        box=(100, 100, 300, 160),
        text=text,
        confidence=0.99,
        decision=ReadDecision.ACCEPT,
        candidates=[Candidate(text, 0.99)],
        slot_confidence=[0.99] * len(text),
        detector_score=0.9,
    )
    return lambda: FrameResult(640, 480, 5, [found])


def nothing() -> FrameResult:
    return FrameResult(640, 480, 5, [], weak_boxes=[((10, 10, 90, 40), 0.05)])


def raising(exc: Exception) -> Callable[[], FrameResult]:
    def answer() -> FrameResult:
        raise exc

    return answer


def push(rt: Runtime, camera: str, data: bytes, violation: str | None) -> int:
    with session_scope(rt.sessions) as session:
        result = ingest_frame(
            session,
            camera=session.get_one(Camera, camera),
            data=data,
            metadata=FrameMetadata(captured_at=utcnow(), violation=violation),
            store=rt.evidence,
            settings=rt.settings,
            enqueue=lambda _frame_id: None,
        )
    return result.frame_id


def cli(rt: Runtime, *args: str) -> Any:
    env = {
        "ETLE_DATABASE_URL": rt.settings.effective_database_url,
        "ETLE_DATA_DIR": str(rt.settings.data_dir),
    }
    return CliRunner().invoke(app, [*args], env=env)


def test_frames_through_every_path_are_accounted_for(rt: Runtime) -> None:
    reader = StandIn()
    ctx = WorkerContext(rt.settings, rt.sessions, rt.evidence, lambda: reader)  # type: ignore[arg-type, return-value]
    with session_scope(rt.sessions) as session:
        factories.camera(session, camera_id="CAM-A", violation_codes=["red_light", "speeding"])
        factories.vehicle(session, "B1234ABC")
    paths = {
        "case": (jpeg(1), "red_light", plate("B1234ABC")),
        "needs_plate": (jpeg(2), "red_light", nothing),
        "sighting": (jpeg(3), None, plate("B1234ABC")),
        "retrying": (jpeg(4), "red_light", raising(ConfigError("OCR model files not found"))),
        "transient": (jpeg(5), "red_light", raising(ServiceUnavailable("registry down"))),
        "rejected": (jpeg(6), "red_light", raising(ValidationFailed("not a decodable image"))),
        "queued": (jpeg(7), "red_light", plate("B1234ABC")),
    }
    ids = {}
    for name, (data, violation, answer) in paths.items():
        reader.answers[data] = answer
        ids[name] = push(rt, "CAM-A", data, violation)
    outcomes = {
        name: recognize_frame(ctx, frame_id) for name, frame_id in ids.items() if name != "queued"
    }
    assert outcomes == {
        "case": Outcome.READ,
        "needs_plate": Outcome.READ,
        "sighting": Outcome.READ,
        "retrying": Outcome.FAILED,
        "transient": Outcome.FAILED,
        "rejected": Outcome.REJECTED,
    }
    with session_scope(rt.sessions) as session:
        causes = {n: session.get_one(Frame, ids[n]).failure_cause for n in ids}
        report = account_frames(session)
    assert causes["retrying"] == FailureCause.CONFIGURATION
    assert causes["transient"] == FailureCause.TRANSIENT
    assert causes["rejected"] == FailureCause.INPUT
    assert report.ok
    assert report.totals.as_dict() == {
        "case": 1,
        "sighting": 1,
        "rejected": 1,
        "queued": 1,
        "retrying": 2,
        "needs_plate": 1,
        "unaccounted": 0,
        "waiting": 4,
        "total": 7,
    }
    assert report.rejections == {"not a decodable image": 1}

    answer = cli(rt, "frames", "account", "--json")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.stdout)["cameras"]["CAM-A"]["retrying"] == 2


def test_a_frame_that_vanished_is_listed_and_mended(rt: Runtime) -> None:
    """A violation frame read before this release, whose plate could not be read, opened no
    case: the account lists it and exits 1; a retry opens the case that was missing."""
    reader = StandIn()
    with session_scope(rt.sessions) as session:
        factories.camera(session, camera_id="CAM-B", violation_codes=["red_light"])
    data = jpeg(11)
    frame_id = push(rt, "CAM-B", data, None)  # the camera's one violation: still a violation
    with session_scope(rt.sessions) as session:
        session.get_one(Frame, frame_id).status = FrameStatus.READ
    answer = cli(rt, "frames", "account")
    assert answer.exit_code == 1
    assert f"unaccounted frame {frame_id}" in answer.stdout

    assert cli(rt, "frames", "retry", "--frame", str(frame_id)).exit_code == 0
    reader.answers[data] = nothing
    ctx = WorkerContext(rt.settings, rt.sessions, rt.evidence, lambda: reader)  # type: ignore[arg-type, return-value]
    assert recognize_frame(ctx, frame_id) == Outcome.READ
    answer = cli(rt, "frames", "account", "--json")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.stdout)["totals"]["needs_plate"] == 1


def test_a_failed_frame_is_retried_with_back_off_and_heals(rt: Runtime) -> None:
    reader = StandIn()
    ctx = WorkerContext(rt.settings, rt.sessions, rt.evidence, lambda: reader)  # type: ignore[arg-type, return-value]
    with session_scope(rt.sessions) as session:
        factories.camera(session, camera_id="CAM-C", violation_codes=["red_light"])
        factories.vehicle(session, "B1234ABC")
    data = jpeg(21)
    frame_id = push(rt, "CAM-C", data, "red_light")
    reader.answers[data] = raising(ConfigError("plate detector not found: x.onnx"))
    assert recognize_frame(ctx, frame_id) == Outcome.FAILED
    with session_scope(rt.sessions) as session:
        frame = session.get_one(Frame, frame_id)
        first_wait = frame.requeue_at - frame.processed_at  # type: ignore[operator]
        failed_at = frame.processed_at
    assert first_wait == timedelta(seconds=rt.settings.requeue_after_seconds)
    assert failed_at is not None
    # Not due yet: the sweep leaves it; due: the sweep queues it again.
    assert sweep_frames(rt.queue, ctx, now=failed_at + first_wait / 2) == 0
    assert sweep_frames(rt.queue, ctx, now=failed_at + first_wait) == 1
    assert recognize_frame(ctx, frame_id) == Outcome.FAILED  # still broken: waits twice as long
    with session_scope(rt.sessions) as session:
        frame = session.get_one(Frame, frame_id)
        assert frame.attempts == 2
        assert frame.requeue_at - frame.processed_at == 2 * first_wait  # type: ignore[operator]
        assert frame.error == "plate detector not found: x.onnx"

    reader.answers[data] = plate("B1234ABC")  # the model file is back
    answer = cli(rt, "frames", "retry", "--failed")
    assert answer.exit_code == 0, answer.output
    assert recognize_frame(ctx, frame_id) == Outcome.READ
    with session_scope(rt.sessions) as session:
        frame = session.get_one(Frame, frame_id)
        assert (frame.status, frame.failure_cause, frame.error) == (FrameStatus.READ, None, None)
        assert session.scalars(select(Frame.id).where(Frame.status == "failed")).all() == []


def test_retry_says_which_frames(rt: Runtime) -> None:
    neither = cli(rt, "frames", "retry")
    assert "--failed, or --frame N" in str(neither.exception)
    missing = cli(rt, "frames", "retry", "--frame", "999")
    assert missing.exit_code == 1
    assert "no frame 999" in str(missing.exception)
