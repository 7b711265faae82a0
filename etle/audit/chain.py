"""Writing and verifying the hash chain.

Each event's hash is SHA-256 over a canonical JSON of its fields and the previous event's hash.
Events are numbered without gaps. `verify` walks the chain and names the first event that was
edited (its hash no longer matches its content), deleted (a gap in the numbers) or inserted out
of place (its `prev_hash` does not match its predecessor). Deleting the newest events leaves no
gap; publishing the chain head each day (`digest`) closes that hole.

Appends are serialised: on PostgreSQL by a transaction-scoped advisory lock, on SQLite by the
write lock every transaction takes at BEGIN (see etle.db). Either is held until the transaction
ends, so within one transaction the head cannot move under us: the first append reads it (and
takes the lock), later appends in the same transaction continue from the event just written
(a dispatcher marking fifty deliveries sent writes a hundred events in one transaction). The
remembered head is forgotten whenever a transaction or savepoint ends, committed or not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session, SessionTransaction

from etle.audit.models import AuditEvent
from etle.clock import utcnow
from etle.db import lock_key

GENESIS = "0" * 64
_CHAIN_LOCK = 0x45544C45  # "ETLE": advisory lock key for appends on PostgreSQL
_HEAD = "etle_audit_head"  # session.info: (seq, hash) of this transaction's last append


def jsonable(value: Any) -> Any:
    """Values as they will read back from a JSON column, so the hash is stable."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def event_hash(event: AuditEvent) -> str:
    body = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the change)."""
    head: tuple[int, str] | None = session.info.get(_HEAD)
    if head is None:
        head = _read_head(session)
    event = AuditEvent(
        seq=head[0] + 1,
        # Microseconds dropped: every backend stores whole seconds the same way.
        occurred_at=utcnow().replace(microsecond=0),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        prev_hash=head[1],
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    session.info[_HEAD] = (event.seq, event.hash)
    return event


def _read_head(session: Session) -> tuple[int, str]:
    """Take the append lock and read the chain's head (the first append of a transaction)."""
    lock_key(session, _CHAIN_LOCK)
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, _transaction: SessionTransaction) -> None:
    # Any end (commit, rollback, a savepoint released or rolled back): the next append reads
    # the head again under the lock, so a rolled-back event is never chained to.
    session.info.pop(_HEAD, None)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(session: Session) -> Verdict:
    events = session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    )
    try:
        return _walk(events)
    finally:
        events.close()  # a server-side cursor stays open if the walk stops early


def _walk(events: Iterable[AuditEvent]) -> Verdict:
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for event in events:
        checked += 1
        if event.seq != expected_seq:
            return Verdict(
                False,
                checked,
                expected_seq - 1,
                prev_hash,
                expected_seq,
                f"event {expected_seq} is missing (deleted); next is {event.seq}",
            )
        if event.prev_hash != prev_hash:
            return Verdict(
                False,
                checked,
                event.seq - 1,
                prev_hash,
                event.seq,
                f"event {event.seq} does not follow event {event.seq - 1} "
                "(inserted out of place, or its predecessor was replaced)",
            )
        if event_hash(event) != event.hash:
            return Verdict(
                False,
                checked,
                event.seq - 1,
                prev_hash,
                event.seq,
                f"event {event.seq} was edited after it was written",
            )
        prev_hash, expected_seq = event.hash, event.seq + 1
    return Verdict(True, checked, expected_seq - 1, prev_hash)
