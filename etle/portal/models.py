from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import utcnow
from etle.db import Base, BigId, UTCDateTime


class ResponseKind(StrEnum):
    DRIVER_SELF = "driver_self"  # "I was driving"
    DRIVER_OTHER = "driver_other"  # "someone else was driving": name, NIK, address
    VEHICLE_SOLD = "vehicle_sold"  # buyer's details; the case moves to the buyer
    NOT_MY_VEHICLE = "not_my_vehicle"  # suspected cloned plate, with a photo of one's own


class CaseResponse(Base):
    """One answer to a notice through the portal. The details (a driver's NIK, a buyer) are
    personal data: they live here, and the audit trail keeps the response id and a hash of them,
    so the record is tamper-evident without the chain holding anyone's NIK for ever."""

    __tablename__ = "case_responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    kind: Mapped[ResponseKind] = mapped_column(String(16))
    driver_name: Mapped[str | None] = mapped_column(String(200))
    driver_nik: Mapped[str | None] = mapped_column(String(16))
    driver_address: Mapped[str | None] = mapped_column(String(400))
    # vehicle sold: the buyer as recorded in the registry, and the day of sale
    buyer_owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    sold_on: Mapped[date | None] = mapped_column(Date)
    # not my vehicle: the owner's photo of their own vehicle, in the evidence store by hash
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_content_type: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(8))  # web | api
    details_sha256: Mapped[str] = mapped_column(String(64))
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScamReport(Base):
    """A citizen's report of a message pretending to be an ETLE notice. Nothing about the
    reporter is asked or kept; what the scammer sent is."""

    __tablename__ = "scam_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms, whatsapp, email, letter, ...
    sender: Mapped[str | None] = mapped_column(String(200))  # the number or address it came from
    link: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="new")
