from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import DEFAULT_ZONE, utcnow
from etle.db import Base, JsonDoc, UTCDateTime


class CameraStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    road: Mapped[str] = mapped_column(String(200), default="")
    direction: Mapped[str] = mapped_column(String(50), default="")
    speed_limit_kmh: Mapped[int | None] = mapped_column(Integer)
    # Violation codes this camera is certified to report (e.g. a red-light camera cannot
    # report speeding).
    violation_codes: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    status: Mapped[CameraStatus] = mapped_column(String(16), default=CameraStatus.ACTIVE)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_ZONE)
    # Deadlines of its cases come from here; none: the defaults from settings.
    jurisdiction_code: Mapped[str | None] = mapped_column(
        ForeignKey("jurisdictions.code"), index=True
    )
    # SHA-256 of the bearer token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    token_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def place(self) -> str:
        return ", ".join(part for part in (self.road, self.address) if part) or self.name
