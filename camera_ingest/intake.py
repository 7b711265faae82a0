"""Frame intake: the one path every frame takes, whether pushed over HTTP, dropped in a folder
or sampled from a stream.

    authenticate camera · validate metadata and image · store evidence (write-once, by hash)
    · insert the frame row · queue the recognition job after the transaction commits

A repeat (the same bytes from the same camera) returns the first frame, once the camera has
been found allowed to report the frame's violation: a camera never learns anything about
another camera's frames. The same sequence number with other bytes is a new frame (the
camera's counter restarted after a reboot): stored and flagged `sequence_reused`. The same
bytes from another camera are a new frame too, flagged `image_reused` for the officer.
Everything is checked before anything is written, so a rejected frame stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Insert, Row, Select, bindparam, exists, null, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from camera_ingest.config import IngestSettings
from camera_ingest.images import check_image
from etle.cameras.models import Camera, CameraStatus
from etle.cameras.service import hash_token, is_camera_token
from etle.clock import utcnow
from etle.db import after_commit
from etle.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from etle.evidence import BlobStore, sha256_hex
from etle.frames.models import Frame, FrameStatus
from etle.plates import VehicleClass
from etle.violations.catalogue import get_violation
from etle.violations.models import ViolationType

# Capture times outside this window are refused: a camera clock reset to its factory date, or
# values no date arithmetic can hold (year 1, year 9999). Within it, a time far from the
# arrival only flags the frame (clock_skew) for the officer.
EARLIEST_CAPTURE = datetime(2010, 1, 1, tzinfo=UTC)
MAX_CAPTURE_AHEAD = timedelta(days=1)


class FrameMetadata(BaseModel):
    """What a camera says about a frame (the `metadata` JSON of the push API)."""

    model_config = ConfigDict(extra="forbid")

    captured_at: datetime = Field(
        description="ISO 8601 with a time zone, e.g. 2026-11-20T07:15:04+07:00"
    )
    violation: str | None = Field(default=None, max_length=32, description="violation code")
    measured_speed_kmh: float | None = Field(default=None, ge=0, le=400)
    sequence: int | None = Field(default=None, ge=0, le=2**62, description="camera frame counter")
    box: list[int] | None = Field(
        default=None, min_length=4, max_length=4, description="plate box [x1, y1, x2, y2] in pixels"
    )
    vehicle_class: VehicleClass | None = Field(
        default=None, description="the kind of vehicle the camera classified, if it does"
    )

    @field_validator("captured_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("captured_at must carry a time zone (ISO 8601 with offset, +07:00)")
        # Compared before any conversion: converting year 9999 to UTC overflows.
        if not EARLIEST_CAPTURE <= value <= utcnow() + MAX_CAPTURE_AHEAD:
            raise ValueError(
                "captured_at must lie between 2010-01-01 and one day from now: check the "
                "camera's clock"
            )
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _box_ordered(self) -> FrameMetadata:
        if self.box is not None:
            x1, y1, x2, y2 = self.box
            if min(self.box) < 0 or x2 <= x1 or y2 <= y1:
                raise ValueError("box must be [x1, y1, x2, y2] with x1 < x2 and y1 < y2")
        return self


# Metadata is a handful of fields; anything larger is refused before it is parsed.
MAX_METADATA_BYTES = 16 * 1024


def parse_metadata(raw: str | bytes) -> FrameMetadata:
    """The camera's metadata JSON, or ValidationFailed listing every problem in it."""
    if len(raw) > MAX_METADATA_BYTES:
        raise ValidationFailed(f"metadata is larger than {MAX_METADATA_BYTES} bytes")
    try:
        return FrameMetadata.model_validate_json(raw)
    except ValidationError as exc:
        problems = [
            {
                "field": ".".join(str(part) for part in error["loc"]) or "metadata",
                "problem": error["msg"],
            }
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailed("metadata is not valid", detail=problems) from exc


@dataclass(frozen=True, slots=True)
class IntakeResult:
    frame_id: int
    duplicate: bool
    status: str


def ingest_frame(
    session: Session,
    *,
    camera: Camera,
    data: bytes,
    metadata: FrameMetadata,
    store: BlobStore,
    settings: IngestSettings,
    enqueue: Callable[[int], None],
) -> IntakeResult:
    if camera.status != CameraStatus.ACTIVE:
        raise Unauthorized("camera is disabled")
    if metadata.violation is not None:
        _check_may_report(camera.id, camera.violation_codes, metadata.violation)
        get_violation(session, metadata.violation)
    digest = sha256_hex(data)
    existing = _find_duplicate(session, camera.id, digest)
    if existing is not None:
        return existing
    sequence_used = metadata.sequence is not None and bool(
        session.scalar(
            select(
                exists().where(Frame.camera_id == camera.id, Frame.sequence == metadata.sequence)
            )
        )
    )
    elsewhere = bool(
        session.scalar(select(exists().where(Frame.sha256 == digest, Frame.camera_id != camera.id)))
    )
    return _store_new_frame(
        session,
        camera_id=camera.id,
        data=data,
        digest=digest,
        metadata=metadata,
        store=store,
        settings=settings,
        enqueue=enqueue,
        sequence_reused=sequence_used,
        image_reused=elsewhere,
    )


def ingest_pushed_frame(
    session: Session,
    *,
    token: str,
    data: bytes,
    metadata: FrameMetadata,
    store: BlobStore,
    settings: IngestSettings,
    enqueue: Callable[[int], None],
) -> IntakeResult:
    """`ingest_frame` for a camera known only by its token (the push API), with the same checks
    in the same order; the camera, a repeat of this frame, the sequence and image seen before
    and the violation type are read in one statement instead of five (the push API's hottest
    path: every frame takes it)."""
    if not is_camera_token(token):
        raise Unauthorized("not a camera token")
    digest = sha256_hex(data)
    gate = _gate(session, hash_token(token), digest, metadata)
    if gate is None or gate.camera_status != CameraStatus.ACTIVE:
        raise Unauthorized("unknown or disabled camera")
    if metadata.violation is not None:
        _check_may_report(gate.camera_id, gate.violation_codes, metadata.violation)
        if not gate.violation_active:
            raise NotFound(f"unknown violation type {metadata.violation!r}")
    if gate.frame_id is not None:
        return IntakeResult(gate.frame_id, True, gate.frame_status)
    return _store_new_frame(
        session,
        camera_id=gate.camera_id,
        data=data,
        digest=digest,
        metadata=metadata,
        store=store,
        settings=settings,
        enqueue=enqueue,
        sequence_reused=bool(gate.sequence_used),
        image_reused=bool(gate.image_elsewhere),
    )


def _check_may_report(camera_id: str, allowed: list[str], violation: str) -> None:
    if violation not in allowed:
        raise ValidationFailed(
            f"camera {camera_id} may not report violation {violation!r}",
            detail={"allowed": allowed},
        )


def _gate(
    session: Session, token_hash: str, digest: str, metadata: FrameMetadata
) -> Row[Any] | None:
    """The camera holding this token (None: unknown token), whether the frame's violation type
    is active, this camera's frame with the same bytes (a repeat), whether this camera used the
    sequence number before, and whether another camera sent the same bytes."""
    statement = _gate_statement(metadata.sequence is not None, metadata.violation is not None)
    parameters = {
        "token_hash": token_hash,
        "digest": digest,
        "sequence": metadata.sequence,
        "violation": metadata.violation,
    }
    return session.connection().execute(statement, parameters).first()


@lru_cache(maxsize=4)
def _gate_statement(by_sequence: bool, with_violation: bool) -> Select[Any]:
    # Built once with bound parameters: constructing the statement per request was a tenth of
    # the request's Python time.
    own = (Frame.camera_id == Camera.id) & (Frame.sha256 == bindparam("digest"))
    sequence_used = (
        exists()
        .where(Frame.camera_id == Camera.id, Frame.sequence == bindparam("sequence"))
        .correlate(Camera)
        if by_sequence
        else null()
    )
    elsewhere = (
        exists()
        .where(Frame.sha256 == bindparam("digest"), Frame.camera_id != Camera.id)
        .correlate(Camera)
    )
    violation_active = (
        select(ViolationType.active)
        .where(ViolationType.code == bindparam("violation"))
        .scalar_subquery()
        if with_violation
        else null()
    )
    return select(
        Camera.id.label("camera_id"),
        Camera.status.label("camera_status"),
        Camera.violation_codes,
        violation_active.label("violation_active"),
        select(Frame.id).where(own).correlate(Camera).scalar_subquery().label("frame_id"),
        select(Frame.status).where(own).correlate(Camera).scalar_subquery().label("frame_status"),
        sequence_used.label("sequence_used"),
        elsewhere.label("image_elsewhere"),
    ).where(Camera.token_hash == bindparam("token_hash"))


def _store_new_frame(
    session: Session,
    *,
    camera_id: str,
    data: bytes,
    digest: str,
    metadata: FrameMetadata,
    store: BlobStore,
    settings: IngestSettings,
    enqueue: Callable[[int], None],
    sequence_reused: bool,
    image_reused: bool,
) -> IntakeResult:
    image = check_image(
        data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels
    )
    if metadata.box is not None and (
        metadata.box[2] > image.width or metadata.box[3] > image.height
    ):
        raise ValidationFailed("box lies outside the image")

    received_at = utcnow()
    skew = abs(received_at - metadata.captured_at)
    # Evidence first: a row never points at a missing file. A file without a row (the insert
    # failed) is harmless: the same bytes map to the same file next time.
    store.put(data, digest=digest)
    frame = dict(
        camera_id=camera_id,
        sha256=digest,
        content_type=image.content_type,
        size_bytes=len(data),
        width=image.width,
        height=image.height,
        captured_at=metadata.captured_at,
        received_at=received_at,
        sequence=metadata.sequence,
        violation_code=metadata.violation,
        measured_speed_kmh=metadata.measured_speed_kmh,
        plate_box_hint=metadata.box,
        vehicle_class=metadata.vehicle_class.value if metadata.vehicle_class else None,
        needs_review_reason=(
            "clock_skew" if skew > timedelta(seconds=settings.clock_skew_seconds) else None
        ),
        requeue_at=received_at + timedelta(seconds=settings.requeue_after_seconds),
        status=FrameStatus.QUEUED,
        sequence_reused=sequence_reused,
        image_reused=image_reused,
    )
    frame_id = _insert_unless_duplicate(session, frame)
    if frame_id is None:
        # The same frame arrived twice at once and the other request won the insert.
        existing = _find_duplicate(session, camera_id, digest)
        if existing is None:
            raise Conflict("the frame could not be stored; send it again")
        return existing
    after_commit(session, lambda: enqueue(frame_id))
    return IntakeResult(frame_id, False, FrameStatus.QUEUED)


def _insert_unless_duplicate(session: Session, values: dict[str, Any]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: one round trip, no savepoint; None when
    this camera's frame with the same hash is already there."""
    statement = _insert_statement(session.get_bind().dialect.name, tuple(values))
    # Core execution on the session's connection (same transaction): the ORM layer adds ~0.3 ms
    # of CPU per statement, and this is the hottest write of the system.
    frame_id: int | None = session.connection().execute(statement, values).scalar()
    return frame_id


@lru_cache(maxsize=8)
def _insert_statement(dialect: str, columns: tuple[str, ...]) -> Insert:
    # Built once with bound parameters (a statement built from the values on every request
    # cost more Python time than executing it).
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = Frame.__table__
    return (
        insert(Frame)
        .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
        .on_conflict_do_nothing()
        .returning(Frame.id)
    )


def _find_duplicate(session: Session, camera_id: str, digest: str) -> IntakeResult | None:
    row = (
        session.connection()
        .execute(
            select(Frame.id, Frame.status).where(
                Frame.camera_id == camera_id, Frame.sha256 == digest
            )
        )
        .first()
    )
    return IntakeResult(row.id, True, row.status) if row is not None else None
