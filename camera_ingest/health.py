"""Camera health: is each camera sending, how much, and can its clock be trusted?

A camera is unhealthy when it is active and has sent nothing for `camera_silent_minutes` (or
never sent anything), when a frame of the last hour had a capture time further than
`clock_skew_seconds` from its arrival (each such frame is already marked for review at intake),
or when its frame counter restarted in the last hour (a reboot: sequence numbers it had used
before came again with new images, each stored as a new frame).
Every figure comes from the frames table through the (camera_id, received_at) index: one short
index range per camera, so the page stays quick with thousands of cameras.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from camera_ingest.config import IngestSettings
from etle.cameras.models import Camera, CameraStatus
from etle.clock import utcnow
from etle.frames.models import Frame

CLOCK_SKEW = "clock_skew"


@dataclass
class CameraHealth:
    camera_id: str
    name: str
    status: str
    last_frame_at: datetime | None
    frames_last_hour: int
    skewed_last_hour: int
    # Capture time minus arrival time of the newest skewed frame, in seconds (negative: the
    # camera's clock is behind).
    latest_skew_seconds: float | None
    # Frames of the last hour whose sequence number the camera had used before.
    reused_sequences_last_hour: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "name": self.name,
            "status": self.status,
            "healthy": self.healthy,
            "last_frame_at": self.last_frame_at.isoformat() if self.last_frame_at else None,
            "frames_last_hour": self.frames_last_hour,
            "skewed_last_hour": self.skewed_last_hour,
            "latest_skew_seconds": self.latest_skew_seconds,
            "reused_sequences_last_hour": self.reused_sequences_last_hour,
            "problems": self.problems,
        }


def camera_health(
    session: Session, settings: IngestSettings, *, now: datetime | None = None
) -> list[CameraHealth]:
    """Health of every camera, ordered by id (disabled cameras have no problems)."""
    now = now or utcnow()
    hour_ago = now - timedelta(hours=1)
    silent_after = timedelta(minutes=settings.camera_silent_minutes)
    of_camera = Frame.camera_id == Camera.id
    recent = of_camera & (Frame.received_at >= hour_ago)
    skewed = recent & (Frame.needs_review_reason == CLOCK_SKEW)
    restarted = recent & Frame.sequence_reused
    rows = session.execute(
        select(
            Camera.id,
            Camera.name,
            Camera.status,
            select(func.max(Frame.received_at)).where(of_camera).scalar_subquery(),
            select(func.count()).select_from(Frame).where(recent).scalar_subquery(),
            select(func.count()).select_from(Frame).where(skewed).scalar_subquery(),
            select(func.count()).select_from(Frame).where(restarted).scalar_subquery(),
        ).order_by(Camera.id)
    ).all()
    report = []
    for camera_id, name, status, last_frame_at, per_hour, skew_count, reused in rows:
        health = CameraHealth(
            camera_id, name, status, last_frame_at, per_hour, skew_count, None, reused
        )
        if skew_count:
            health.latest_skew_seconds = _latest_skew(session, camera_id, hour_ago)
        if status == CameraStatus.ACTIVE:
            health.problems = _problems(health, now, silent_after)
        report.append(health)
    return report


def _problems(health: CameraHealth, now: datetime, silent_after: timedelta) -> list[str]:
    problems = []
    if health.last_frame_at is None:
        problems.append("no frame received yet")
    elif now - health.last_frame_at > silent_after:
        minutes = int((now - health.last_frame_at).total_seconds() // 60)
        problems.append(f"silent for {minutes} min")
    if health.skewed_last_hour:
        skew = health.latest_skew_seconds or 0.0
        direction = "ahead" if skew > 0 else "behind"
        problems.append(
            f"clock {direction} by {abs(skew):.0f} s "
            f"({_frames(health.skewed_last_hour)} in the last hour marked for review)"
        )
    if health.reused_sequences_last_hour:
        problems.append(
            f"frame counter restarted: {_frames(health.reused_sequences_last_hour)} in the last "
            "hour reused a sequence number (a reboot?); each was stored as a new frame"
        )
    return problems


def _latest_skew(session: Session, camera_id: str, since: datetime) -> float | None:
    row = session.execute(
        select(Frame.captured_at, Frame.received_at)
        .where(
            Frame.camera_id == camera_id,
            Frame.received_at >= since,
            Frame.needs_review_reason == CLOCK_SKEW,
        )
        .order_by(Frame.received_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    captured_at: datetime = row.captured_at
    received_at: datetime = row.received_at
    return (captured_at - received_at).total_seconds()


def _frames(count: int) -> str:
    return f"{count} frame" if count == 1 else f"{count} frames"
