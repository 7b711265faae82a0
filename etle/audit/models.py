from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from etle.db import Base, BigId, JsonDoc, UTCDateTime


class AuditEvent(Base):
    """One change. `hash` covers every other column and the previous event's hash, so editing,
    deleting or inserting an event breaks the chain from that point on."""

    __tablename__ = "audit_events"
    # A case's own events (the portal's public timeline, investigations) without a full scan.
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))  # officer:budi, camera:CAM-1, system:worker
    action: Mapped[str] = mapped_column(String(64))  # case.transition, catalogue.update, ...
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
