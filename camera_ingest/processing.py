"""The recognition job: one stored frame in, plate reads and cases out.

At-least-once delivery, exactly-once effects: the job first checks (without holding a lock)
whether the frame still waits, runs the slow recognition outside any transaction, then locks
the frame row and writes only if no other run got there first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from camera_ingest.config import IngestSettings
from camera_ingest.recognition.detector import Box, iou
from camera_ingest.recognition.pipeline import FrameResult, Recognizer
from etle.cameras.models import Camera
from etle.cases.cloning import flag_clones
from etle.cases.matching import match_plate
from etle.cases.models import CaseFlag
from etle.cases.service import open_or_join
from etle.clock import local, utcnow
from etle.db import session_scope
from etle.errors import EtleError, EvidenceTampered, NotFound
from etle.evidence import BlobStore
from etle.frames.models import Frame, FrameStatus, PlateRead, ReadDecision
from etle.plates import VehicleClass
from etle.registry.lookup import registry_for

log = logging.getLogger(__name__)
WORKER_ACTOR = "system:recognition"


class Outcome(StrEnum):
    READ = "read"
    ALREADY_DONE = "already_done"
    MISSING = "missing"
    FAILED = "failed"


@dataclass
class WorkerContext:
    settings: IngestSettings
    sessions: sessionmaker[Session]
    store: BlobStore
    load_recognizer: Callable[[], Recognizer]


def recognize_frame(ctx: WorkerContext, frame_id: int) -> Outcome:
    with session_scope(ctx.sessions) as session:
        frame = session.get(Frame, frame_id)
        if frame is None:
            return Outcome.MISSING
        if frame.status != FrameStatus.QUEUED:
            return Outcome.ALREADY_DONE
        digest, hint = frame.sha256, frame.plate_box_hint
    try:
        data = ctx.store.get(digest)
    except (EvidenceTampered, NotFound) as exc:
        log.error("frame %s: evidence unusable: %s", frame_id, exc.message)
        _mark_failed(ctx, frame_id, exc.message)
        return Outcome.FAILED
    hints: list[Box] | None = None
    if hint:
        hints = [(float(hint[0]), float(hint[1]), float(hint[2]), float(hint[3]))]
    try:
        result = ctx.load_recognizer().recognize_bytes(data, hints)
    except EtleError as exc:
        _mark_failed(ctx, frame_id, exc.message)
        return Outcome.FAILED
    with session_scope(ctx.sessions) as session:
        frame = session.get(Frame, frame_id, with_for_update=True, populate_existing=True)
        if frame is None or frame.status != FrameStatus.QUEUED:
            return Outcome.ALREADY_DONE
        save_reads(session, frame, result, ctx.settings, model=ctx.load_recognizer().model_name)
    return Outcome.READ


def save_reads(
    session: Session, frame: Frame, result: FrameResult, settings: IngestSettings, *, model: str
) -> list[PlateRead]:
    reads = [
        PlateRead(
            frame_id=frame.id,
            index=i,
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
    violator = _violator(reads, frame.plate_box_hint)
    # A frame without a violation is a sighting: its reads are kept (for cloned-plate checks)
    # but it opens no case. An unreadable plate never opens one either.
    if (
        violation is not None
        and violator is not None
        and violator.decision != ReadDecision.UNREADABLE
    ):
        extra: list[CaseFlag] = []
        if violator.decision == ReadDecision.REVIEW:
            extra.append(CaseFlag.READ_NEEDS_REVIEW)
        if frame.plate_box_hint is None and len(reads) > 1:
            extra.append(CaseFlag.MULTIPLE_PLATES)
        if frame.needs_review_reason == "clock_skew":
            extra.append(CaseFlag.CLOCK_SKEW)
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
    session.flush()
    return reads


def _violator(reads: list[PlateRead], hint: list[int] | None) -> PlateRead | None:
    """The read that stands for the violating vehicle: the camera's box if it sent one,
    otherwise the largest (nearest) plate."""
    if not reads:
        return None
    if hint is not None:
        hint_box = (float(hint[0]), float(hint[1]), float(hint[2]), float(hint[3]))
        return max(reads, key=lambda r: iou(hint_box, tuple(r.box)))  # type: ignore[arg-type]
    return max(reads, key=lambda r: (r.box[2] - r.box[0]) * (r.box[3] - r.box[1]))


def _mark_failed(ctx: WorkerContext, frame_id: int, error: str) -> None:
    with session_scope(ctx.sessions) as session:
        frame = session.get(Frame, frame_id, with_for_update=True)
        if frame is not None and frame.status == FrameStatus.QUEUED:
            frame.status = FrameStatus.FAILED
            frame.error = error[:500]
            frame.processed_at = utcnow()
