from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import utcnow
from etle.db import Base, BigId, JsonDoc, UTCDateTime


class FrameStatus(StrEnum):
    """Where a stored frame stands. Every frame ends in a case, a sighting or a rejection, or
    still waits (queued, failed and due for a retry, a case that needs a plate): nothing
    vanishes (etle.frames.accounting)."""

    QUEUED = "queued"  # stored; a recognition job is (or will be) on the queue
    READ = "read"  # recognition done, plate reads and cases written
    # The last attempt failed for a cause that can heal (configuration, transient): retried
    # with back-off at `requeue_at`, or at once by `etle frames retry`.
    FAILED = "failed"
    REJECTED = "rejected"  # the image itself cannot be read (input): final, reason in `error`


class FailureCause(StrEnum):
    """Why recognition failed, which decides whether it is tried again."""

    CONFIGURATION = "configuration"  # models missing or unreadable, evidence store misplaced
    INPUT = "input"  # the image cannot be decoded: trying again changes nothing
    TRANSIENT = "transient"  # database, queue or registry service unavailable for a while


RETRYABLE_CAUSES = (FailureCause.CONFIGURATION, FailureCause.TRANSIENT)


class Frame(Base):
    __tablename__ = "frames"
    __table_args__ = (
        # Repeats are judged within one camera: the same bytes from the same camera are the
        # frame it resent. Another camera sending the same bytes gets a frame of its own
        # (flagged `image_reused`) and learns nothing about the first one.
        UniqueConstraint("camera_id", "sha256"),
        # A camera's counter restarts after a reboot: the same sequence with other bytes is a
        # new frame (flagged `sequence_reused`), so this index is not unique.
        Index("ix_frames_camera_id_sequence", "camera_id", "sequence"),
        # Camera health: the newest frame and the frames of the last hour, per camera.
        Index("ix_frames_camera_id_received_at", "camera_id", "received_at"),
        # The sweep: frames still waiting whose job may have been lost, or due for a retry.
        Index("ix_frames_status_requeue_at", "status", "requeue_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Indexed by (camera_id, sha256), (camera_id, sequence) and (camera_id, received_at) above.
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    # Content address of the evidence file: the same image twice from one camera is one frame.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sequence: Mapped[int | None] = mapped_column(BigId)
    violation_code: Mapped[str | None] = mapped_column(ForeignKey("violation_types.code"))
    measured_speed_kmh: Mapped[float | None] = mapped_column(Float)
    # Plate box supplied by the camera, [x1, y1, x2, y2] in pixels; recognition reads it first.
    plate_box_hint: Mapped[list[int] | None] = mapped_column(JsonDoc)
    # Vehicle class the camera classified (etle.plates.VehicleClass), when it says.
    vehicle_class: Mapped[str | None] = mapped_column(String(32))
    # Indexed by (status, requeue_at) above.
    status: Mapped[FrameStatus] = mapped_column(String(16), default=FrameStatus.QUEUED)
    needs_review_reason: Mapped[str | None] = mapped_column(String(200))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While queued: when the sweep may queue the job again if the frame is still waiting (a job
    # lost to a crash). Pushed further back each time, so a long backlog is not re-queued over
    # and over (see camera_ingest.jobs.sweep_frames). While failed: when it is tried again.
    requeue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    failure_cause: Mapped[FailureCause | None] = mapped_column(String(16))
    # Failed attempts so far: the retry back-off doubles with each.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # This camera sent the same sequence number before with other bytes: its counter restarted.
    sequence_reused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Another camera sent these very bytes before: a replayed or misrouted image.
    image_reused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ReadDecision(StrEnum):
    ACCEPT = "accept"  # safe to put in front of an officer prefilled
    REVIEW = "review"  # the officer must read the plate
    UNREADABLE = "unreadable"  # partial or illegible plate: never becomes a notice by itself


class PlateRead(Base):
    __tablename__ = "plate_reads"
    __table_args__ = (UniqueConstraint("frame_id", "index"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    frame_id: Mapped[int] = mapped_column(ForeignKey("frames.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    box: Mapped[list[int]] = mapped_column(JsonDoc)
    text: Mapped[str] = mapped_column(String(16), index=True)  # sightings by plate (clones)
    confidence: Mapped[float] = mapped_column(Float)
    decision: Mapped[ReadDecision] = mapped_column(String(16))
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    slot_confidence: Mapped[list[float]] = mapped_column(JsonDoc, default=list)
    model: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
