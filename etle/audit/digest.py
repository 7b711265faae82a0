"""The chain head as a small document to publish: a digest.

The chain alone shows an edit, a deletion in the middle or an insertion, but not the newest
events being cut off (what is left is still a valid chain), nor the whole chain being rewritten
and re-hashed by someone with database access. A digest published elsewhere each day (a notice
board, a newspaper, another agency's archive) closes both holes: `verify_with_digests` checks
that every published head is still in the chain, unchanged.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import GENESIS, Verdict, verify
from etle.audit.models import AuditEvent
from etle.clock import utcnow
from etle.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Digest:
    seq: int  # the newest event's number (0: an empty chain)
    hash: str  # its hash, which covers every event before it
    occurred_at: str | None  # when that event was written (ISO 8601, UTC)
    exported_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"format": "etle-audit-digest/1", **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"


def head_digest(session: Session, *, now: datetime | None = None) -> Digest:
    head = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
    exported = (now or utcnow()).replace(microsecond=0).isoformat()
    if head is None:
        return Digest(0, GENESIS, None, exported)
    return Digest(head.seq, head.hash, head.occurred_at.isoformat(), exported)


def load_digest(path: Path) -> Digest:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return Digest(
            seq=int(body["seq"]),
            hash=str(body["hash"]),
            occurred_at=body.get("occurred_at"),
            exported_at=str(body.get("exported_at", "")),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed(f"{path}: not an audit digest ({exc})") from exc


def verify_with_digests(session: Session, digests: list[Digest]) -> Verdict:
    """The chain's own check, then each published head: still there, still the same."""
    verdict = verify(session)
    if not verdict.ok:
        return verdict
    for digest in sorted(digests, key=lambda d: d.seq):
        if digest.seq == 0:
            continue
        if digest.seq > verdict.head_seq:
            return Verdict(
                False,
                verdict.checked,
                verdict.head_seq,
                verdict.head_hash,
                verdict.head_seq + 1,
                f"events {verdict.head_seq + 1} to {digest.seq} are missing (deleted): the digest "
                f"exported {digest.exported_at} ends at event {digest.seq}, the chain at "
                f"{verdict.head_seq}",
            )
        stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == digest.seq))
        if stored != digest.hash:
            return Verdict(
                False,
                verdict.checked,
                verdict.head_seq,
                verdict.head_hash,
                digest.seq,
                f"event {digest.seq} no longer has the hash published in the digest exported "
                f"{digest.exported_at}: the chain up to it was rewritten",
            )
    return verdict
