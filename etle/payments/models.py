from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from etle.clock import utcnow
from etle.db import Base, BigId, UTCDateTime


class PaymentStatus(StrEnum):
    ISSUED = "issued"  # the code is out; waiting for the bank
    PAID = "paid"  # the bank called back with the right amount


class Payment(Base):
    """The one payment of a case: its code, the amount due, and the bank transaction that paid
    it. The bank's transaction id is unique: a callback repeated by the bank finds this row."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    # The notice the code was issued under (its language and number go on the receipt).
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    payment_code: Mapped[str] = mapped_column(String(24), unique=True)
    amount_rp: Mapped[int] = mapped_column(Integer)  # whole rupiah, fixed at issue
    status: Mapped[PaymentStatus] = mapped_column(String(16), default=PaymentStatus.ISSUED)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pay_by: Mapped[date | None] = mapped_column(Date)  # None when issued after the deadline
    bank_transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    paid_amount_rp: Mapped[int | None] = mapped_column(Integer)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # as the bank reports it
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when we learnt it
    bank_channel: Mapped[str | None] = mapped_column(String(32))
    # The receipt PDF, rendered once and kept by content hash in the document store.
    receipt_sha256: Mapped[str | None] = mapped_column(String(64))


class PaymentCallback(Base):
    """Every bank callback request accepted (signature and time checked), by its request id:
    the same request played again is recognised and refused. Also the bank's ledger of calls,
    for reconciliation."""

    __tablename__ = "payment_callbacks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    transaction_id: Mapped[str] = mapped_column(String(64), index=True)
    payment_code: Mapped[str] = mapped_column(String(24))
    amount_rp: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # paid (this request paid the case) or duplicate (the transaction was recorded before)
    outcome: Mapped[str] = mapped_column(String(16))
