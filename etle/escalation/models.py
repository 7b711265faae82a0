from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import utcnow
from etle.db import Base, BigId, UTCDateTime


class RegistrationBlock(Base):
    """A request to the registration office to block a vehicle's registration (STNK) because
    of one unpaid case; lifted when that case is paid or voided. A vehicle stays blocked while
    any of its blocks is active."""

    __tablename__ = "registration_blocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    blocked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The day whose block list first carried it (set by the job that writes the list).
    listed_on: Mapped[date | None] = mapped_column(Date)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lift_reason: Mapped[str | None] = mapped_column(String(32))  # paid, void, ...
    lift_listed_on: Mapped[date | None] = mapped_column(Date)
