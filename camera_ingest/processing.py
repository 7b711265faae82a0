"""The recognition job: one stored frame in, plate reads and cases out.

At-least-once delivery, exactly-once effects: the job first checks (without holding a lock)
whether the frame still waits, runs the slow recognition outside any transaction, then locks
the frame row and writes only if no other run got there first.

Nothing vanishes (invariant 8): a violation frame whose plate was not found or not read opens
a case that needs a plate (etle.cases.manual_read), and a failure records its cause. A cause
that can heal (configuration: models missing; transient: database, queue, registry) is retried
with back-off (camera_ingest.jobs.sweep_frames); an image that cannot be decoded (input) is a
rejection with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from camera_ingest.config import IngestSettings
from camera_ingest.recognition.detector import Box, iou
from camera_ingest.recognition.pipeline import FrameResult, Recognizer
from etle.cameras.models import Camera
from etle.cases.cloning import flag_clones
from etle.cases.manual_read import open_without_plate
from etle.cases.matching import match_plate
from etle.cases.models import CaseFlag
from etle.cases.opening import open_or_join
from etle.clock import local, utcnow
from etle.db import session_scope
from etle.errors import (
    EtleError,
    EvidenceTampered,
    NotFound,
    ServiceUnavailable,
    UnsupportedMedia,
    ValidationFailed,
)
from etle.evidence import BlobStore
from etle.frames.models import FailureCause, Frame, FrameStatus, PlateRead, ReadDecision
from etle.plates import VehicleClass
from etle.registry.backend import registry_for

log = logging.getLogger(__name__)
WORKER_ACTOR = "system:recognition"
# However often a frame failed, it is tried again at least this often.
MAX_RETRY_WAIT = timedelta(hours=1)


class Outcome(StrEnum):
    READ = "read"
    ALREADY_DONE = "already_done"
    MISSING = "missing"
    FAILED = "failed"  # retried later (configuration, transient)
    REJECTED = "rejected"  # the image cannot be read (input)


@dataclass
class WorkerContext:
    settings: IngestSettings
    sessions: sessionmaker[Session]
    store: BlobStore
    load_recognizer: Callable[[], Recognizer]


def failure_cause(exc: BaseException) -> FailureCause:
    """Which kind of failure this is: it decides whether the frame is tried again."""
    if isinstance(exc, ValidationFailed | UnsupportedMedia):
        return FailureCause.INPUT  # the image itself: trying again changes nothing
    if isinstance(exc, ServiceUnavailable | DBAPIError | OSError):
        return FailureCause.TRANSIENT
    # Models missing or unreadable (ConfigError, or the runtime refusing a damaged file),
    # evidence missing or altered in the store, anything else unexpected: it heals once
    # someone fixes the setup, and until then the frame waits in plain sight.
    return FailureCause.CONFIGURATION


def recognize_frame(ctx: WorkerContext, frame_id: int) -> Outcome:
    with session_scope(ctx.sessions) as session:
        frame = session.get(Frame, frame_id)
        if frame is None:
            return Outcome.MISSING
        if frame.status != FrameStatus.QUEUED:
            return Outcome.ALREADY_DONE
        digest, hint = frame.sha256, frame.plate_box_hint
    hints: list[Box] | None = None
    if hint:
        hints = [(float(hint[0]), float(hint[1]), float(hint[2]), float(hint[3]))]
    try:
        data = ctx.store.get(digest)
        recognizer = ctx.load_recognizer()
        result = recognizer.recognize_bytes(data, hints)
    except (EvidenceTampered, NotFound) as exc:
        return _failed(ctx, frame_id, FailureCause.CONFIGURATION, exc)
    except Exception as exc:  # every failure is recorded with its cause, none is lost
        return _failed(ctx, frame_id, failure_cause(exc), exc)
    try:
        with session_scope(ctx.sessions) as session:
            frame = session.get(Frame, frame_id, with_for_update=True, populate_existing=True)
            if frame is None or frame.status != FrameStatus.QUEUED:
                return Outcome.ALREADY_DONE
            save_reads(session, frame, result, ctx.settings, model=recognizer.model_name)
    except Exception as exc:  # registry service down, a poison value: the frame waits
        return _failed(ctx, frame_id, failure_cause(exc), exc)
    return Outcome.READ


def save_reads(
    session: Session, frame: Frame, result: FrameResult, settings: IngestSettings, *, model: str
) -> list[PlateRead]:
    # A frame read again (`etle frames retry --frame N`) keeps its earlier reads.
    start = session.scalar(
        select(func.coalesce(func.max(PlateRead.index) + 1, 0)).where(
            PlateRead.frame_id == frame.id
        )
    )
    reads = [
        PlateRead(
            frame_id=frame.id,
            index=int(start or 0) + i,
            box=list(p.box),
            text=p.text,
            confidence=p.confidence,
            decision=p.decision,
            candidates=[{"text": c.text, "p": round(c.p, 4)} for c in p.candidates],
            slot_confidence=p.slot_confidence,
            model=model,
        )
        for i, p in enumerate(result.plates)
    ]
    session.add_all(reads)
    session.flush()
    camera = session.get_one(Camera, frame.camera_id)
    violation = frame.violation_code or (
        camera.violation_codes[0] if len(camera.violation_codes) == 1 else None
    )
    # A frame without a violation is a sighting: its reads are kept (for cloned-plate checks)
    # but it opens no case.
    if violation is not None:
        _open_case(session, frame, camera, reads, result, violation, settings)
    # Every confident read, violation or not, is a sighting: checked against the plate's other
    # sightings for a cloned plate.
    for read in reads:
        flag_clones(
            session,
            frame=frame,
            camera=camera,
            read=read,
            max_speed_kmh=settings.clone_max_speed_kmh,
            actor=WORKER_ACTOR,
        )
    frame.status = FrameStatus.READ
    frame.processed_at = utcnow()
    frame.failure_cause = None
    frame.error = None
    session.flush()
    return reads


def _open_case(
    session: Session,
    frame: Frame,
    camera: Camera,
    reads: list[PlateRead],
    result: FrameResult,
    violation: str,
    settings: IngestSettings,
) -> None:
    extra: list[CaseFlag] = []
    if frame.needs_review_reason == "clock_skew":
        extra.append(CaseFlag.CLOCK_SKEW)
    if frame.image_reused:
        extra.append(CaseFlag.DUPLICATE_IMAGE)
    violator = _violator(reads, frame.plate_box_hint)
    if violator is None or violator.decision == ReadDecision.UNREADABLE:
        # No plate, or the violating vehicle's plate cannot be read: an officer reads it. The
        # nearest plate's box comes first among those offered.
        unread = sorted(reads, key=lambda r: r is not violator)
        open_without_plate(
            session,
            frame=frame,
            violation_code=violation,
            reads=unread,
            weak_boxes=result.weak_boxes,
            extra_flags=extra,
            actor=WORKER_ACTOR,
        )
        return
    if violator.decision == ReadDecision.REVIEW:
        extra.append(CaseFlag.READ_NEEDS_REVIEW)
    if frame.plate_box_hint is None and len(reads) > 1:
        extra.append(CaseFlag.MULTIPLE_PLATES)
    match = match_plate(
        registry_for(session, settings),
        plate=violator.text,
        alternatives=violator.candidates,
        on=local(frame.captured_at, camera.timezone).date(),
        reported_class=VehicleClass(frame.vehicle_class) if frame.vehicle_class else None,
    )
    open_or_join(
        session,
        frame=frame,
        read=violator,
        violation_code=violation,
        match=match,
        extra_flags=extra,
        window_seconds=settings.case_window_seconds,
        actor=WORKER_ACTOR,
    )


def _violator(reads: list[PlateRead], hint: list[int] | None) -> PlateRead | None:
    """The read that stands for the violating vehicle: the camera's box if it sent one,
    otherwise the largest (nearest) plate."""
    if not reads:
        return None
    if hint is not None:
        hint_box = (float(hint[0]), float(hint[1]), float(hint[2]), float(hint[3]))
        return max(reads, key=lambda r: iou(hint_box, tuple(r.box)))  # type: ignore[arg-type]
    return max(reads, key=lambda r: (r.box[2] - r.box[0]) * (r.box[3] - r.box[1]))


def _failed(ctx: WorkerContext, frame_id: int, cause: FailureCause, exc: BaseException) -> Outcome:
    """Record the failure and its cause. Input failures are final (rejected, with the reason);
    the others wait for a retry, each twice as far off as the one before (at most an hour).
    When even that cannot be written (the database is down), the error goes up: the queue
    retries the job, and the sweep sends the still-queued frame again later."""
    message = exc.message if isinstance(exc, EtleError) else f"{type(exc).__name__}: {exc}"
    log.error("frame %s: %s failure: %s", frame_id, cause.value, message)
    now = utcnow()
    with session_scope(ctx.sessions) as session:
        frame = session.get(Frame, frame_id, with_for_update=True, populate_existing=True)
        if frame is None or frame.status != FrameStatus.QUEUED:
            return Outcome.ALREADY_DONE
        frame.attempts = (frame.attempts or 0) + 1
        frame.failure_cause = cause
        frame.error = message[:500]
        frame.processed_at = now
        if cause is FailureCause.INPUT:
            frame.status = FrameStatus.REJECTED
            frame.requeue_at = None
            return Outcome.REJECTED
        frame.status = FrameStatus.FAILED
        base = timedelta(seconds=ctx.settings.requeue_after_seconds)
        frame.requeue_at = now + min(base * 2 ** (frame.attempts - 1), MAX_RETRY_WAIT)
    return Outcome.FAILED
