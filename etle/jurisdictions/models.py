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
    # Who issues its letters: the unit, its office address and the signature block. Unset
    # (None): the defaults from settings (`ETLE_ISSUING_UNIT`, ...).
    issuing_unit: Mapped[str | None] = mapped_column(String(200))
    office_address: Mapped[str | None] = mapped_column(String(400))
    signatory_name: Mapped[str | None] = mapped_column(String(200))
    signatory_title: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
