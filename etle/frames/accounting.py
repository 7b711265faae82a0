"""Frame accounting: where every stored frame ended (invariant 8, nothing vanishes).

Each frame is in exactly one of

* **case**: it belongs to a case an officer sees or saw (whatever the officer decided);
* **sighting**: no violation was reported with it; its reads serve the cloned-plate checks;
* **rejected**: its image cannot be read at all (the reason is kept);
* **waiting**: *queued* for recognition, *retrying* after a failure that can heal, or in a case
  that *needs a plate* read by an officer.

Anything else is **unaccounted**, a fault to investigate: `etle frames account` lists those
frames and exits 1. The figures come from the frames, case_frames and cases tables alone, so
they also check that the recognition job did what it says.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.models import Case, CaseFrame, CaseStatus
from etle.frames.models import Frame, FrameStatus

# Unaccounted frames listed at most (the count is always complete).
LIST_LIMIT = 1000


class Ending(StrEnum):
    CASE = "case"
    SIGHTING = "sighting"
    REJECTED = "rejected"
    QUEUED = "queued"
    RETRYING = "retrying"
    NEEDS_PLATE = "needs_plate"
    UNACCOUNTED = "unaccounted"


WAITING = (Ending.QUEUED, Ending.RETRYING, Ending.NEEDS_PLATE)


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        body = {ending.value: self.counts[ending.value] for ending in Ending}
        body["waiting"] = sum(self.counts[e.value] for e in WAITING)
        body["total"] = self.total
        return body


@dataclass(frozen=True, slots=True)
class UnaccountedFrame:
    frame_id: int
    camera_id: str
    status: str
    violation_code: str | None
    received_at: datetime


@dataclass
class FrameAccount:
    since: datetime | None
    until: datetime | None
    by_camera: dict[str, Tally]
    unaccounted: list[UnaccountedFrame]
    rejections: dict[str, int]  # reason (the recorded error) -> frames

    @property
    def totals(self) -> Tally:
        total = Tally()
        for tally in self.by_camera.values():
            total.counts.update(tally.counts)
        return total

    @property
    def ok(self) -> bool:
        return self.totals.counts[Ending.UNACCOUNTED.value] == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "ok": self.ok,
            "totals": self.totals.as_dict(),
            "cameras": {camera: tally.as_dict() for camera, tally in self.by_camera.items()},
            "rejections": self.rejections,
            "unaccounted": [
                {**asdict(f), "received_at": f.received_at.isoformat()} for f in self.unaccounted
            ],
        }


def _case_state() -> ColumnElement[Any]:
    """Per frame: NULL when it belongs to no case, 1 when its only cases need a plate, else 0."""
    return (
        select(func.min(case((Case.status == CaseStatus.NEEDS_PLATE.value, 1), else_=0)))
        .select_from(CaseFrame)
        .join(Case, Case.id == CaseFrame.case_id)
        .where(CaseFrame.frame_id == Frame.id)
        .correlate(Frame)
        .scalar_subquery()
    )


def _in_period(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions = []
    if since is not None:
        conditions.append(Frame.received_at >= since)
    if until is not None:
        conditions.append(Frame.received_at < until)
    return conditions


def single_violation_cameras(session: Session) -> set[str]:
    """Cameras that report one violation only: their frames are violations even when the frame
    does not name it (camera_ingest.processing does the same)."""
    return {c.id for c in session.scalars(select(Camera)) if len(c.violation_codes) == 1}


def ending(
    status: str, violation_code: str | None, case_state: int | None, single_violation: bool
) -> Ending:
    if case_state is not None:
        return Ending.NEEDS_PLATE if case_state == 1 else Ending.CASE
    if status == FrameStatus.QUEUED:
        return Ending.QUEUED
    if status == FrameStatus.FAILED:
        return Ending.RETRYING
    if status == FrameStatus.REJECTED:
        return Ending.REJECTED
    if status == FrameStatus.READ and violation_code is None and not single_violation:
        return Ending.SIGHTING
    # Read as a violation but in no case, or a status no code writes: it vanished.
    return Ending.UNACCOUNTED


def account_frames(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> FrameAccount:
    """Every frame received in [since, until) (all when unset), by camera and ending."""
    single = single_violation_cameras(session)
    frames = (
        select(
            Frame.camera_id,
            Frame.status,
            Frame.violation_code.is_(None).label("no_violation"),
            _case_state().label("case_state"),
        )
        .where(*_in_period(since, until))
        .subquery()
    )
    grouped = select(
        frames.c.camera_id,
        frames.c.status,
        frames.c.no_violation,
        frames.c.case_state,
        func.count(),
    ).group_by(frames.c.camera_id, frames.c.status, frames.c.no_violation, frames.c.case_state)
    by_camera: dict[str, Tally] = {}
    for camera_id, status, without, case_state, count in session.execute(grouped):
        code = None if without else "?"
        end = ending(status, code, case_state, camera_id in single)
        by_camera.setdefault(camera_id, Tally()).counts[end.value] += int(count)
    rejections = {
        str(error or "unknown"): int(count)
        for error, count in session.execute(
            select(Frame.error, func.count())
            .where(Frame.status == FrameStatus.REJECTED, *_in_period(since, until))
            .group_by(Frame.error)
        )
    }
    return FrameAccount(
        since=since,
        until=until,
        by_camera=dict(sorted(by_camera.items())),
        unaccounted=_unaccounted(session, since, until, single)
        if any(t.counts[Ending.UNACCOUNTED.value] for t in by_camera.values())
        else [],
        rejections=rejections,
    )


def _unaccounted(
    session: Session, since: datetime | None, until: datetime | None, single: set[str]
) -> list[UnaccountedFrame]:
    known = [s.value for s in FrameStatus if s != FrameStatus.READ]
    violation = or_(Frame.violation_code.is_not(None), Frame.camera_id.in_(sorted(single)))
    query = (
        select(Frame.id, Frame.camera_id, Frame.status, Frame.violation_code, Frame.received_at)
        .where(
            _case_state().is_(None),
            or_(
                and_(Frame.status == FrameStatus.READ, violation),
                Frame.status.not_in([FrameStatus.READ.value, *known]),
            ),
            *_in_period(since, until),
        )
        .order_by(Frame.id)
        .limit(LIST_LIMIT)
    )
    return [UnaccountedFrame(*row) for row in session.execute(query)]


def is_unaccounted(session: Session, frame: Frame) -> bool:
    in_case = session.scalar(
        select(CaseFrame.case_id).where(CaseFrame.frame_id == frame.id).limit(1)
    )
    single = frame.camera_id in single_violation_cameras(session)
    state = None if in_case is None else 0
    return ending(frame.status, frame.violation_code, state, single) is Ending.UNACCOUNTED


@dataclass(frozen=True, slots=True)
class Failure:
    cause: str
    frames: int
    latest_error: str

    def describe(self) -> str:
        return f"{self.frames} frame(s) not read ({self.cause}): {self.latest_error}"


def failures(session: Session, *, rejected_since: datetime | None = None) -> list[Failure]:
    """Frames whose recognition failed, by cause, with the newest error: every frame waiting
    for a retry, and the frames rejected since `rejected_since` (None: none of them)."""
    waiting = Frame.status == FrameStatus.FAILED
    if rejected_since is not None:
        waiting = or_(
            waiting,
            and_(Frame.status == FrameStatus.REJECTED, Frame.processed_at >= rejected_since),
        )
    out = []
    for cause, count, newest in session.execute(
        select(Frame.failure_cause, func.count(), func.max(Frame.id))
        .where(waiting)
        .group_by(Frame.failure_cause)
        .order_by(Frame.failure_cause)
    ):
        error = session.scalar(select(Frame.error).where(Frame.id == newest))
        out.append(Failure(str(cause or "unknown"), int(count), error or "no error recorded"))
    return out
