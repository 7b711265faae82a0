from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import utcnow
from etle.db import Base, BigId, JsonDoc, UTCDateTime


class CaseStatus(StrEnum):
    CAPTURED = "captured"
    # No plate was found or none could be read: an officer marks and keys it, or rejects.
    NEEDS_PLATE = "needs_plate"
    PENDING_REVIEW = "pending_review"
    # A corrected or keyed plate awaits a second officer.
    PENDING_SECOND_REVIEW = "pending_second_review"
    ESCALATED = "escalated"  # handed to a supervisor
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    NOTICE_SENT = "notice_sent"
    OWNER_RESPONDED = "owner_responded"
    PAYMENT_ISSUED = "payment_issued"
    OVERDUE = "overdue"
    REGISTRATION_BLOCKED = "registration_blocked"
    PAID = "paid"
    CLOSED = "closed"
    VOID = "void"


class CaseFlag(StrEnum):
    PLATE_NOT_REGISTERED = "plate_not_registered"
    REGISTRATION_EXPIRED = "registration_expired"
    CLASS_MISMATCH = "class_mismatch"  # registry class does not fit the number range
    SUSPECTED_CLONE = "suspected_clone"
    READ_NEEDS_REVIEW = "read_needs_review"  # the reader was not sure of the plate
    LOOKALIKE_CANDIDATES = "lookalike_candidates"
    CLOCK_SKEW = "clock_skew"  # camera clock far from ours: check the time
    MULTIPLE_PLATES = "multiple_plates"  # no plate box from the camera, several plates seen
    NO_PLATE_FOUND = "no_plate_found"  # the detector found no plate: an officer marks it
    PLATE_UNREADABLE = "plate_unreadable"  # a plate was found but could not be read
    DUPLICATE_IMAGE = "duplicate_image"  # another camera sent these very bytes before


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[CaseStatus] = mapped_column(String(32), index=True)
    # Canonical, as read, corrected or keyed; NO_PLATE ("") while the case needs a plate.
    plate: Mapped[str] = mapped_column(String(16), index=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), index=True)
    violation_code: Mapped[str] = mapped_column(ForeignKey("violation_types.code"))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True)
    first_captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The evidence shown on the notice, and its hash, kept with the case (invariant 1).
    evidence_frame_id: Mapped[int] = mapped_column(ForeignKey("frames.id"))
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    plate_read_id: Mapped[int | None] = mapped_column(ForeignKey("plate_reads.id"))
    flags: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    # Registered plates the read could also be (look-alikes, reader alternatives): for the
    # officer to choose from, never chosen silently.
    match_candidates: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    # What each flag is based on (e.g. the sightings behind suspected_clone), for the officer.
    flag_details: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    # The deadline now running: respond by (notice sent), pay by (payment issued). Local date.
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic lock: two concurrent changes to one case cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The review lease: the one officer who may decide the case until the lease expires, when
    # the case returns to the queue by itself (no sweep needed: claims skip expired leases).
    lease_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), index=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}
    # The review queue walks waiting cases by status, oldest capture first.
    __table_args__ = (Index("ix_cases_queue", "status", "first_captured_at"),)


# The plate of a case opened without one (needs_plate), until an officer keys it.
NO_PLATE = ""


class CaseFrame(Base):
    """Every frame that belongs to a case; a frame joins at most one case per plate read.
    A frame whose plate could not be read belongs to its case without a read until an officer
    keys one."""

    __tablename__ = "case_frames"
    __table_args__ = (UniqueConstraint("plate_read_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    frame_id: Mapped[int] = mapped_column(ForeignKey("frames.id"), index=True)
    plate_read_id: Mapped[int | None] = mapped_column(ForeignKey("plate_reads.id"))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewAction(StrEnum):
    CONFIRM = "confirm"
    CORRECT = "correct"
    REJECT = "reject"
    ESCALATE = "escalate"
    KEY = "key"  # a case that needs a plate: the officer marks the plate's box and keys it


class RejectReason(StrEnum):
    UNREADABLE = "unreadable"
    NO_VIOLATION = "no_violation"
    EMERGENCY_VEHICLE = "emergency_vehicle"
    DUPLICATE = "duplicate"
    SUSPECTED_CLONED_PLATE = "suspected_cloned_plate"
    # A case that needs a plate: why no plate can be keyed.
    NO_VEHICLE = "no_vehicle"
    PLATE_NOT_VISIBLE = "plate_not_visible"
    # Covered or removed: itself the invalid_plate violation where the camera may report it.
    PLATE_COVERED = "plate_covered"
    OTHER = "other"  # needs a text


class ReviewDecision(Base):
    """One officer's decision on a case: the record accountability statistics are built on."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    action: Mapped[ReviewAction] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_text: Mapped[str | None] = mapped_column(String(500))
    corrected_plate: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The case's status when decided (pending_review, pending_second_review, escalated): tells
    # a first decision from a second confirmation or an escalation outcome.
    from_status: Mapped[str | None] = mapped_column(String(32))
    plate_before: Mapped[str | None] = mapped_column(String(16))
    # When the officer's lease began: time per decision is decided_at - claimed_at.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
