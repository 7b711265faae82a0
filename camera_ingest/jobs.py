"""Recognition jobs on the queue; the sweep that re-queues frames whose job was lost or whose
failure is due for a retry; `retry_frames` for an operator who fixed the cause."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from camera_ingest.processing import WorkerContext, recognize_frame
from etle.clock import utcnow
from etle.db import after_commit, session_scope
from etle.errors import Conflict, NotFound
from etle.frames.accounting import is_unaccounted
from etle.frames.models import Frame, FrameStatus
from etle.metrics import RECOGNITION_SECONDS
from etle.queue import JobQueue

RECOGNIZE = "recognize_frame"
# However old a waiting frame is, the sweep sends it again at least this often.
MAX_REQUEUE_WAIT = timedelta(hours=1)
SWEEP_BATCH = 1000


def register_ingest_jobs(queue: JobQueue, ctx: WorkerContext) -> None:
    def recognize(frame_id: int) -> str:
        started = time.perf_counter()
        outcome = "error"  # raised: Huey retries the job
        try:
            outcome = recognize_frame(ctx, frame_id).value
        finally:
            RECOGNITION_SECONDS.labels(outcome).observe(time.perf_counter() - started)
        return outcome

    queue.register(RECOGNIZE, recognize)


def sweep_frames(
    queue: JobQueue,
    ctx: WorkerContext,
    *,
    older_than: timedelta | None = None,
    now: datetime | None = None,
) -> int:
    """Queue again the frames still waiting whose job may have been lost (a crash between
    commit and enqueue, a worker killed mid-job); return how many.

    A frame is due when its `requeue_at` has passed. Each time it is sent again, the next
    `requeue_at` is pushed back by the frame's age (at least `requeue_after_seconds`, at most an
    hour): a job lost to a crash comes back within minutes, while a frame that only waits in a
    long backlog is sent a few times in all, not once per sweep. Processing is idempotent, so a
    frame queued twice is still read once in effect.

    A failed frame (configuration or transient cause) is due at its own `requeue_at`, set by
    its back-off when it failed: it is queued again then, and fails again or heals.

    `older_than` ignores `requeue_at` of queued frames and takes every one received that long
    ago (`etle worker --burst`, when nothing else is running); failed frames still wait for
    their back-off (`etle frames retry` sends them at once).
    """
    now = now or utcnow()
    base = timedelta(seconds=ctx.settings.requeue_after_seconds)
    failed_due = and_(Frame.status == FrameStatus.FAILED, Frame.requeue_at <= now)
    with session_scope(ctx.sessions) as session:
        if older_than is None:
            waiting = and_(Frame.status == FrameStatus.QUEUED, Frame.requeue_at <= now)
        else:
            waiting = and_(
                Frame.status == FrameStatus.QUEUED, Frame.received_at <= now - older_than
            )
        query = select(Frame).where(or_(waiting, failed_due))
        # SKIP LOCKED: two workers sweeping at once take different frames (PostgreSQL; SQLite
        # runs one write transaction at a time anyway).
        query = query.order_by(Frame.id).limit(SWEEP_BATCH).with_for_update(skip_locked=True)
        frames = list(session.scalars(query))
        for frame in frames:
            frame.status = FrameStatus.QUEUED  # a failed frame waits in the queue again
            frame.requeue_at = now + min(max(base, now - frame.received_at), MAX_REQUEUE_WAIT)
        ids = [frame.id for frame in frames]
        _send_after_commit(session, queue, ids)
    return len(ids)


def retry_frames(
    queue: JobQueue,
    ctx: WorkerContext,
    *,
    frame_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Send failed frames to recognition again now (the operator fixed the cause): every
    failed frame, or one frame (failed; rejected, for a decoder fixed since; or read as a
    violation yet in no case, by a release before nothing vanished). Returns their ids."""
    now = now or utcnow()
    with session_scope(ctx.sessions) as session:
        if frame_id is not None:
            frame = session.get(Frame, frame_id, with_for_update=True)
            if frame is None:
                raise NotFound(f"no frame {frame_id}")
            if frame.status == FrameStatus.READ and not is_unaccounted(session, frame):
                raise Conflict(f"frame {frame_id} was read and is accounted for: nothing to retry")
            frames = [frame]
        else:
            frames = list(
                session.scalars(
                    select(Frame)
                    .where(Frame.status == FrameStatus.FAILED)
                    .order_by(Frame.id)
                    .with_for_update(skip_locked=True)
                )
            )
        base = timedelta(seconds=ctx.settings.requeue_after_seconds)
        for frame in frames:
            frame.status = FrameStatus.QUEUED
            frame.requeue_at = now + base
        ids = [frame.id for frame in frames]
        _send_after_commit(session, queue, ids)
    return ids


def _send_after_commit(session: Session, queue: JobQueue, ids: list[int]) -> None:
    def send() -> None:
        for frame_id in ids:
            queue.send(RECOGNIZE, frame_id)

    after_commit(session, send)
