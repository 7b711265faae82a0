from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import utcnow
from etle.db import Base, BigId, UTCDateTime


class Channel(StrEnum):
    POST = "post"
    EMAIL = "email"
    MESSAGE = "message"  # SMS or WhatsApp, by the gateway configured


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for the dispatcher
    SENT = "sent"  # handed to the channel (file written, SMTP accepted, gateway 2xx)
    DELIVERED = "delivered"  # the channel confirmed delivery (gateway webhook)
    FAILED = "failed"  # permanent failure; other channels take over
    RETURNED = "returned"  # letter came back


class BatchStatus(StrEnum):
    EXPORTED = "exported"  # files written, letters not yet with the postal service
    HANDED_OVER = "handed_over"  # the postal service took the batch


class PostBatch(Base):
    """One print batch: a folder of letters, its manifest and checksums, and where it is."""

    __tablename__ = "post_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[BatchStatus] = mapped_column(String(16), default=BatchStatus.EXPORTED)
    letters: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the batch's SHA256SUMS file: names the exact content handed to the printer.
    sums_sha256: Mapped[str] = mapped_column(String(64))
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    exported_by: Mapped[str] = mapped_column(String(100))
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_by: Mapped[str | None] = mapped_column(String(100))


class WebhookEvent(Base):
    """Every delivery-status event a gateway sent us, once: a replayed event is recognised."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("case_id", "issue"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_number: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # 1 for the first notice of a case; a sale reported by the owner issues the next one.
    issue: Mapped[int] = mapped_column(Integer, default=1)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    # Recipient as of issue time: the letter must match what was sent even if the registry
    # changes later.
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_address: Mapped[str] = mapped_column(String(400))
    recipient_street: Mapped[str] = mapped_column(String(200), default="")
    recipient_district: Mapped[str] = mapped_column(String(100), default="")
    recipient_city: Mapped[str] = mapped_column(String(100), default="")
    recipient_postcode: Mapped[str] = mapped_column(String(10), default="")
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    recipient_phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2), default="id")
    # A speeding notice states what was measured against what limit, as of issue time
    # (etle.cases.speeding refuses to confirm one without both); None for other violations.
    measured_speed_kmh: Mapped[float | None] = mapped_column(Float)
    speed_limit_kmh: Mapped[int | None] = mapped_column(Integer)
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    respond_by: Mapped[date] = mapped_column(Date)
    # The rendered letter is kept by content hash, rendered once (invariant 1).
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when no channel can reach the recipient any more (every delivery failed or came
    # back): an officer must act (a new address, a visit). Listed by `etle notices status`.
    attention: Mapped[str | None] = mapped_column(String(200))
    attention_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("notice_id", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    channel: Mapped[Channel] = mapped_column(String(16))
    # Sent with every provider call, so a resend after a crash is recognised as the same.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        String(16), default=DeliveryStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A dispatcher takes a delivery for a while before calling the provider, so two workers
    # (or a job queued twice by the sweep) never send it both; a crashed worker's claim lapses.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After a temporary failure: not before this time (exponential backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("post_batches.id"), index=True)
