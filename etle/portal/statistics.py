"""Transparency: what the cameras and officers did, in figures that name nobody.

Violations (cases confirmed by an officer, i.e. that became a notice) per violation type, per
camera and per day of capture (in the deployment's zone); the median time from capture to the
first notice; how officers' first reviews went: the share of plate reads confirmed as read,
corrected, rejected or escalated; and, month by month, where every camera frame ended (in a
case, a sighting, a rejection, still waiting, or unaccounted: etle.frames.accounting). No
plate, owner or officer appears; cameras are public places.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.accountability import service_level_stats
from etle.cases.config import ReviewSettings
from etle.cases.models import Case, CaseStatus, ReviewAction, ReviewDecision
from etle.clock import local, utcnow
from etle.frames.accounting import account_frames
from etle.notices.models import Notice
from etle.violations.models import ViolationType

MAX_DAYS = 92
# The decisions of a first review of a read plate, whose shares the page shows.
FIRST_REVIEW_ACTIONS = (
    ReviewAction.CONFIRM,
    ReviewAction.CORRECT,
    ReviewAction.REJECT,
    ReviewAction.ESCALATE,
)


@dataclass(frozen=True, slots=True)
class Count:
    key: str
    label_id: str
    label_en: str
    count: int


@dataclass(frozen=True, slots=True)
class MonthFrames:
    month: str  # YYYY-MM in the deployment's zone
    frames: int
    case: int
    sighting: int
    rejected: int
    waiting: int
    unaccounted: int


@dataclass(frozen=True, slots=True)
class Transparency:
    first_day: date
    last_day: date
    violations: int
    by_violation: list[Count]
    by_camera: list[Count]
    by_day: list[tuple[date, int]]
    notices: int
    median_capture_to_notice_hours: float | None
    reviewed: int
    review_shares: dict[str, float | None]  # confirm / correct / reject / escalate
    frame_months: list[MonthFrames]  # every month the period touches, newest first

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["first_day"] = self.first_day.isoformat()
        body["last_day"] = self.last_day.isoformat()
        body["by_day"] = [{"day": d.isoformat(), "count": n} for d, n in self.by_day]
        return body


def _local_day(session: Session, zone: str) -> ColumnElement[Any]:
    """The capture day in the zone, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(zone, Case.first_captured_at))
    # SQLite stores naive UTC; Indonesia's zones keep one offset all year.
    offset = ZoneInfo(zone).utcoffset(datetime.now(UTC).replace(tzinfo=None)) or timedelta()
    return func.date(Case.first_captured_at, f"{int(offset.total_seconds())} seconds")


def transparency(
    session: Session,
    *,
    settings: ReviewSettings,
    days: int = 30,
    today: date | None = None,
) -> Transparency:
    days = max(1, min(days, MAX_DAYS))
    zone = settings.timezone
    last = today or local(utcnow(), zone).date()
    first = last - timedelta(days=days - 1)
    tz = ZoneInfo(zone)
    since = datetime.combine(first, time.min, tzinfo=tz)
    until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    confirmed = (
        select(Case.id)
        .join(Notice, (Notice.case_id == Case.id) & (Notice.issue == 1))
        .where(
            Case.first_captured_at >= since,
            Case.first_captured_at < until,
            Case.status != CaseStatus.VOID.value,
        )
    )
    in_period = Case.id.in_(confirmed)

    names = {v.code: v for v in session.scalars(select(ViolationType))}
    by_violation = [
        Count(code, names[code].name_id, names[code].name_en, int(n))
        for code, n in session.execute(
            select(Case.violation_code, func.count())
            .where(in_period)
            .group_by(Case.violation_code)
            .order_by(func.count().desc(), Case.violation_code)
        )
    ]
    cameras = {c.id: c for c in session.scalars(select(Camera))}
    by_camera = [
        Count(camera_id, cameras[camera_id].place, cameras[camera_id].place, int(n))
        for camera_id, n in session.execute(
            select(Case.camera_id, func.count())
            .where(in_period)
            .group_by(Case.camera_id)
            .order_by(func.count().desc(), Case.camera_id)
        )
    ]
    day = _local_day(session, zone)
    per_day = {
        str(d): int(n)
        for d, n in session.execute(select(day, func.count()).where(in_period).group_by(day))
    }
    by_day = [
        (first + timedelta(days=i), per_day.get((first + timedelta(days=i)).isoformat(), 0))
        for i in range(days)
    ]
    level = service_level_stats(session, settings=settings, since=since, until=until)
    actions = {
        str(action): int(n)
        for action, n in session.execute(
            select(ReviewDecision.action, func.count())
            .where(
                ReviewDecision.from_status == CaseStatus.PENDING_REVIEW.value,
                ReviewDecision.decided_at >= since,
                ReviewDecision.decided_at < until,
            )
            .group_by(ReviewDecision.action)
        )
    }
    reviewed = sum(actions.values())
    shares = {
        a.value: (round(actions.get(a.value, 0) / reviewed, 4) if reviewed else None)
        for a in FIRST_REVIEW_ACTIONS
    }
    return Transparency(
        first_day=first,
        last_day=last,
        violations=sum(c.count for c in by_violation),
        by_violation=by_violation,
        by_camera=by_camera,
        by_day=by_day,
        notices=level.notices,
        median_capture_to_notice_hours=level.median_hours,
        reviewed=reviewed,
        review_shares=shares,
        frame_months=frame_months(session, first, last, tz),
    )


def frame_months(session: Session, first: date, last: date, tz: ZoneInfo) -> list[MonthFrames]:
    """Where the frames of each month from `first` to `last` ended, newest month first."""
    months = []
    start = first.replace(day=1)
    while start <= last:
        following = (start + timedelta(days=32)).replace(day=1)
        since = datetime.combine(start, time.min, tzinfo=tz)
        until = datetime.combine(following, time.min, tzinfo=tz)
        tally = account_frames(session, since=since, until=until).totals.as_dict()
        months.append(
            MonthFrames(
                month=start.strftime("%Y-%m"),
                frames=tally["total"],
                case=tally["case"],
                sighting=tally["sighting"],
                rejected=tally["rejected"],
                waiting=tally["waiting"],
                unaccounted=tally["unaccounted"],
            )
        )
        start = following
    return months[::-1]
