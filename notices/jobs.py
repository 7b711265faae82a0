"""Dispatch jobs on the queue, how they get there, and the sweep over the delivery ledger.

A job is queued for every new email or message delivery as soon as the transaction that wrote
it (the officer's confirmation) commits; a temporary failure queues it again after its backoff
delay; and the sweep queues whatever is due but has no job (a worker killed mid-job, a crash
between commit and enqueue). Jobs may run twice: the ledger's claim makes the second a no-op.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from etle.clock import utcnow
from etle.db import after_commit, session_scope
from etle.notices import ledger
from etle.notices.models import Channel, Delivery, DeliveryStatus
from etle.queue import JobQueue
from notices.dispatch import ELECTRONIC, DispatchContext, dispatch_delivery, portal_refusal

log = logging.getLogger(__name__)

DISPATCH = "dispatch_delivery"


def register_notice_jobs(queue: JobQueue, ctx: DispatchContext) -> None:
    def dispatch(delivery_id: int) -> str:
        return dispatch_delivery(ctx, delivery_id).value

    # No queue-level retries: the ledger counts attempts and schedules the next one with
    # exponential backoff (ETLE_DISPATCH_RETRY_SECONDS, ETLE_DISPATCH_MAX_ATTEMPTS).
    queue.register(DISPATCH, dispatch, retries=0)
    ctx.retry_later = lambda delivery_id, delay: queue.send_in(delay, DISPATCH, delivery_id)


def enqueue_on_commit(sessions: sessionmaker[Session], queue: JobQueue) -> None:
    """Queue a dispatch job for each email/message delivery once its transaction commits."""

    @event.listens_for(sessions, "pending_to_persistent")
    def _new_row(session: Session, instance: Any) -> None:
        if (
            isinstance(instance, Delivery)
            and instance.channel in (Channel.EMAIL, Channel.MESSAGE)
            and instance.status == DeliveryStatus.PENDING
        ):
            delivery_id = instance.id
            after_commit(session, lambda: queue.send(DISPATCH, delivery_id))


def queue_pending(session: Session, queue: JobQueue, *, older_than: timedelta | None = None) -> int:
    """Send a job for every email or message delivery that is due (post goes out in batches)."""
    created_before = utcnow() - older_than if older_than else None
    ids = ledger.due_deliveries(session, ELECTRONIC, created_before=created_before)
    for delivery_id in ids:
        queue.send(DISPATCH, delivery_id)
    return len(ids)


def sweep_deliveries(
    queue: JobQueue, ctx: DispatchContext, *, older_than: timedelta = timedelta(minutes=1)
) -> int:
    refusal = portal_refusal(ctx)
    if refusal is not None:  # jobs would only fail: say why, once a sweep, and wait
        log.warning("%s", refusal)
        return 0
    with session_scope(ctx.sessions) as session:
        return queue_pending(session, queue, older_than=older_than)
