from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import utcnow
from etle.db import Base, UTCDateTime


class Jurisdiction(Base):
    """A police unit whose cameras share deadlines. A camera without one uses the defaults
    from settings (`ETLE_RESPOND_DAYS`, `ETLE_PAY_DAYS`)."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)  # e.g. POLDA-METRO-JAYA
    name: Mapped[str] = mapped_column(String(200))
    # Days the owner has to respond to (confirm) a notice, then to pay once a payment is issued.
    respond_days: Mapped[int] = mapped_column(Integer)
    pay_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
