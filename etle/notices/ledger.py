"""The delivery ledger: every change of a delivery's state, in the caller's transaction.

One `Delivery` row per notice and channel is the outbox the dispatcher works from. Its life:

    pending ──sent──▶ sent ──webhook──▶ delivered
       │                │ └─letter came back──▶ returned
       │                └─webhook "failed"──▶ failed
       └─permanent failure / retries used up──▶ failed

A delivery leaves `pending` once (the `status == pending` check happens under a row lock), so a
second dispatcher, a replayed webhook or a job run twice changes nothing. When a channel is
lost (failed, returned) the notice is handed to its other channels; when none is left the
notice is flagged for an officer. Every step is in the audit chain; the first channel that
sends moves the case from `confirmed` to `notice_sent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.models import Case, CaseStatus
from etle.cases.transitions import transition
from etle.clock import utcnow
from etle.errors import Conflict, NotFound
from etle.notices.models import (
    BatchStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    Notice,
    PostBatch,
)

LIVE = (DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


def locked(session: Session, delivery_id: int) -> Delivery | None:
    """The delivery, re-read under a row lock (PostgreSQL; SQLite locks at BEGIN)."""
    return session.get(Delivery, delivery_id, with_for_update=True, populate_existing=True)


def locked_many(session: Session, delivery_ids: list[int]) -> dict[int, Delivery]:
    """Several deliveries re-read under row locks in one statement, by id."""
    if not delivery_ids:
        return {}
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.id.in_(delivery_ids))
        .order_by(Delivery.id)  # one lock order for everyone: no deadlock between dispatchers
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {d.id: d for d in rows}


def claim(
    session: Session, delivery_id: int, *, worker: str, lease_seconds: float
) -> Delivery | None:
    """Take a pending delivery for `lease_seconds`; None if it is done or someone holds it."""
    delivery = locked(session, delivery_id)
    if delivery is None:
        return None
    return claim_locked(session, delivery, worker=worker, lease_seconds=lease_seconds)


def claim_locked(
    session: Session, delivery: Delivery, *, worker: str, lease_seconds: float
) -> Delivery | None:
    """`claim` for a delivery the caller has just re-read under a row lock."""
    now = utcnow()
    if delivery.status != DeliveryStatus.PENDING:
        return None
    held = delivery.claimed_until is not None and delivery.claimed_until > now
    if held and delivery.claimed_by != worker:
        return None
    delivery.claimed_by = worker
    delivery.claimed_until = now + timedelta(seconds=lease_seconds)
    session.flush()
    return delivery


def release(session: Session, delivery_id: int) -> None:
    delivery = locked(session, delivery_id)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING:
        delivery.claimed_by = None
        delivery.claimed_until = None


def _audit(session: Session, notice: Notice, delivery: Delivery, action: str, **after: Any) -> None:
    record(
        session,
        actor=after.pop("actor"),
        action=action,
        entity_type="case",
        entity_id=notice.case_id,
        after={"notice_number": notice.notice_number, "channel": delivery.channel, **after},
    )


def mark_sent(
    session: Session,
    delivery_id: int,
    *,
    provider_ref: str,
    actor: str,
    batch_id: int | None = None,
) -> bool:
    """Record that the provider accepted the delivery; False if it was no longer pending."""
    delivery = locked(session, delivery_id)
    if delivery is None:
        return False
    return mark_locked_sent(
        session, delivery, provider_ref=provider_ref, actor=actor, batch_id=batch_id
    )


def mark_locked_sent(
    session: Session,
    delivery: Delivery,
    *,
    provider_ref: str,
    actor: str,
    batch_id: int | None = None,
) -> bool:
    """`mark_sent` for a delivery the caller has just re-read under a row lock (`locked_many`)."""
    if delivery.status != DeliveryStatus.PENDING:
        return False
    delivery.status = DeliveryStatus.SENT
    delivery.attempts += 1
    delivery.provider_ref = provider_ref[:200]
    delivery.last_error = None
    delivery.sent_at = utcnow()
    delivery.claimed_by = delivery.claimed_until = delivery.next_attempt_at = None
    delivery.batch_id = batch_id
    notice = session.get_one(Notice, delivery.notice_id)
    _audit(session, notice, delivery, "delivery.sent", provider_ref=provider_ref, actor=actor)
    case = session.get_one(Case, notice.case_id)
    if case.status == CaseStatus.CONFIRMED:
        transition(
            session,
            case,
            CaseStatus.NOTICE_SENT,
            actor=actor,
            details={"notice_number": notice.notice_number, "channel": delivery.channel},
        )
    session.flush()
    return True


def mark_failed(session: Session, delivery_id: int, *, error: str, actor: str) -> bool:
    """A permanent failure (before or after sending); the other channels take over."""
    delivery = locked(session, delivery_id)
    if delivery is None or delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.SENT):
        return False
    was_pending = delivery.status == DeliveryStatus.PENDING
    delivery.status = DeliveryStatus.FAILED
    delivery.attempts += 1 if was_pending else 0
    delivery.last_error = error[:500]
    delivery.claimed_by = delivery.claimed_until = delivery.next_attempt_at = None
    notice = session.get_one(Notice, delivery.notice_id)
    _audit(session, notice, delivery, "delivery.failed", error=error[:500], actor=actor)
    channel_lost(session, notice, delivery, actor=actor)
    session.flush()
    return True


@dataclass(frozen=True, slots=True)
class Retry:
    attempt: int
    delay_seconds: float | None  # None: retries used up, the delivery failed


def note_temporary_failure(
    session: Session,
    delivery_id: int,
    *,
    error: str,
    actor: str,
    max_attempts: int,
    base_delay: float,
) -> Retry | None:
    """Count a temporary failure and choose when to try again (doubling, capped at 6 hours);
    the last allowed attempt turns it into a permanent failure."""
    delivery = locked(session, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    if delivery.attempts + 1 >= max_attempts:
        mark_failed(
            session,
            delivery_id,
            error=f"gave up after {delivery.attempts + 1} attempts: {error}",
            actor=actor,
        )
        return Retry(delivery.attempts, None)
    delivery.attempts += 1
    delivery.last_error = error[:500]
    delay = min(base_delay * 2 ** (delivery.attempts - 1), 6 * 3600.0)
    delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    delivery.claimed_by = delivery.claimed_until = None
    session.flush()
    return Retry(delivery.attempts, delay)


def mark_delivered(session: Session, delivery: Delivery, *, at: datetime, actor: str) -> bool:
    if delivery.status != DeliveryStatus.SENT:
        return False
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = at
    notice = session.get_one(Notice, delivery.notice_id)
    _audit(session, notice, delivery, "delivery.delivered", actor=actor)
    session.flush()
    return True


def mark_returned(session: Session, notice_number: str, *, reason: str, actor: str) -> Delivery:
    """A letter came back (unknown address, refused): the other channels take over."""
    notice = session.scalar(select(Notice).where(Notice.notice_number == notice_number.strip()))
    if notice is None:
        raise NotFound(f"no notice {notice_number}")
    delivery = session.scalar(
        select(Delivery)
        .where(Delivery.notice_id == notice.id, Delivery.channel == Channel.POST)
        .with_for_update()
    )
    if delivery is None:
        raise NotFound(f"notice {notice_number} was not sent by post")
    if delivery.status not in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED):
        raise Conflict(
            f"the letter of notice {notice_number} is {delivery.status}, not sent: "
            "only a letter that went out can come back"
        )
    delivery.status = DeliveryStatus.RETURNED
    delivery.returned_at = utcnow()
    delivery.last_error = f"returned: {reason}"[:500]
    _audit(session, notice, delivery, "delivery.returned", reason=reason, actor=actor)
    channel_lost(session, notice, delivery, actor=actor)
    session.flush()
    return delivery


def channel_lost(session: Session, notice: Notice, lost: Delivery, *, actor: str) -> None:
    """Hand the notice to its other channels: those still waiting go out at once (any backoff
    is lifted); if no channel is left that can reach the recipient, flag it for an officer."""
    others = list(
        session.scalars(
            select(Delivery).where(Delivery.notice_id == notice.id, Delivery.id != lost.id)
        )
    )
    live = [d for d in others if d.status in LIVE]
    for delivery in live:
        if delivery.status == DeliveryStatus.PENDING:
            delivery.next_attempt_at = None
    if live:
        record(
            session,
            actor=actor,
            action="notice.rerouted",
            entity_type="case",
            entity_id=notice.case_id,
            after={
                "notice_number": notice.notice_number,
                "lost": lost.channel,
                "remaining": {d.channel: d.status for d in live},
            },
        )
        return
    notice.attention = (
        f"no channel reaches the recipient: {lost.channel} {lost.status}"
        + (f" ({lost.last_error})" if lost.last_error else "")
    )[:200]
    notice.attention_at = utcnow()
    record(
        session,
        actor=actor,
        action="notice.unreachable",
        entity_type="case",
        entity_id=notice.case_id,
        after={"notice_number": notice.notice_number, "attention": notice.attention},
    )


def hand_over(session: Session, name: str, *, actor: str) -> PostBatch:
    batch = session.scalar(select(PostBatch).where(PostBatch.name == name).with_for_update())
    if batch is None:
        raise NotFound(f"no post batch {name}")
    if batch.status != BatchStatus.EXPORTED:
        raise Conflict(f"post batch {name} is already {batch.status}")
    batch.status = BatchStatus.HANDED_OVER
    batch.handed_over_at = utcnow()
    batch.handed_over_by = actor
    record(
        session,
        actor=actor,
        action="post_batch.handed_over",
        entity_type="post_batch",
        entity_id=batch.id,
        after={"name": name, "letters": batch.letters},
    )
    session.flush()
    return batch


@dataclass
class LedgerStatus:
    deliveries: dict[str, dict[str, int]] = field(default_factory=dict)
    waiting_retry: int = 0
    notices: int = 0
    needs_attention: int = 0
    batches: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "deliveries": self.deliveries,
            "waiting_retry": self.waiting_retry,
            "notices": self.notices,
            "needs_attention": self.needs_attention,
            "post_batches": self.batches,
        }


def ledger_status(session: Session) -> LedgerStatus:
    status = LedgerStatus()
    for channel in Channel:
        status.deliveries[channel.value] = {s.value: 0 for s in DeliveryStatus}
    for channel, state, count in session.execute(
        select(Delivery.channel, Delivery.status, func.count()).group_by(
            Delivery.channel, Delivery.status
        )
    ).all():
        status.deliveries.setdefault(str(channel), {})[str(state)] = int(count)
    status.waiting_retry = (
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at.is_not(None))
        )
        or 0
    )
    status.notices = session.scalar(select(func.count()).select_from(Notice)) or 0
    status.needs_attention = (
        session.scalar(
            select(func.count()).select_from(Notice).where(Notice.attention.is_not(None))
        )
        or 0
    )
    status.batches = {s.value: 0 for s in BatchStatus}
    for batch_state, count in session.execute(
        select(PostBatch.status, func.count()).group_by(PostBatch.status)
    ).all():
        status.batches[str(batch_state)] = int(count)
    return status


def due_deliveries(
    session: Session,
    channels: tuple[Channel, ...],
    *,
    now: datetime | None = None,
    created_before: datetime | None = None,
    limit: int | None = None,
    skip_locked: bool = False,
) -> list[int]:
    """Pending deliveries a dispatcher may take now: not held by a live claim, not backing off."""
    now = now or utcnow()
    query = select(Delivery.id).where(
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.channel.in_([c.value for c in channels]),
        (Delivery.claimed_until.is_(None)) | (Delivery.claimed_until < now),
        (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now),
    )
    if created_before is not None:
        query = query.where(Delivery.created_at < created_before)
    query = query.order_by(Delivery.id)
    if limit is not None:
        query = query.limit(limit)
    if skip_locked:  # PostgreSQL: rows another dispatcher is claiming right now are left to it
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))
