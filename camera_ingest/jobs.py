"""Recognition jobs on the queue, and the sweep that re-queues frames whose job was lost."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import select

from camera_ingest.processing import WorkerContext, recognize_frame
from etle.clock import utcnow
from etle.db import after_commit, session_scope
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

    `older_than` ignores `requeue_at` and takes every frame received that long ago (`etle worker
    --burst`, when nothing else is running).
    """
    now = now or utcnow()
    base = timedelta(seconds=ctx.settings.requeue_after_seconds)
    with session_scope(ctx.sessions) as session:
        query = select(Frame).where(Frame.status == FrameStatus.QUEUED)
        if older_than is None:
            query = query.where(Frame.requeue_at <= now)
        else:
            query = query.where(Frame.received_at <= now - older_than)
        # SKIP LOCKED: two workers sweeping at once take different frames (PostgreSQL; SQLite
        # runs one write transaction at a time anyway).
        query = query.order_by(Frame.id).limit(SWEEP_BATCH).with_for_update(skip_locked=True)
        frames = list(session.scalars(query))
        for frame in frames:
            frame.requeue_at = now + min(max(base, now - frame.received_at), MAX_REQUEUE_WAIT)
        ids = [frame.id for frame in frames]

        def send() -> None:
            for frame_id in ids:
                queue.send(RECOGNIZE, frame_id)

        after_commit(session, send)
    return len(ids)
