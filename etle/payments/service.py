"""Issuing a payment code, and recording the bank's payment.

`issue_payment_code` gives a case its one payment: on a case waiting for an answer it also moves
the case to payment_issued (`etle.cases.lifecycle.issue_payment`, with the jurisdiction's pay-by
date); a case already overdue or blocked keeps its status (the lifecycle lets those be paid
directly, which lifts the block). `record_bank_payment` applies a signed bank callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.lifecycle import issue_payment, mark_paid
from etle.cases.models import Case, CaseStatus
from etle.clock import utcnow
from etle.errors import Conflict, ValidationFailed
from etle.notices.models import Notice
from etle.payments.codes import is_well_formed_code, payment_code
from etle.payments.config import PaymentSettings
from etle.payments.errors import (
    AlreadyPaid,
    AmountMismatch,
    NotPayable,
    ReplayedRequest,
    TransactionReused,
    UnknownPaymentCode,
)
from etle.payments.models import Payment, PaymentCallback, PaymentStatus
from etle.violations.models import ViolationType

BANK_ACTOR = "bank:callback"
# Statuses a payment code can be issued in without a transition: past the deadline already.
LATE = (CaseStatus.OVERDUE, CaseStatus.REGISTRATION_BLOCKED)
ANSWERED = (CaseStatus.NOTICE_SENT, CaseStatus.OWNER_RESPONDED)
PAYABLE = (CaseStatus.PAYMENT_ISSUED, *LATE)


def payment_of(session: Session, case_id: int) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.case_id == case_id))


def issue_payment_code(
    session: Session, *, case: Case, notice: Notice, settings: PaymentSettings, actor: str
) -> Payment:
    """The case's payment (the existing one if it has one)."""
    existing = payment_of(session, case.id)
    if existing is not None:
        return existing
    status = CaseStatus(case.status)
    amount = session.get_one(ViolationType, case.violation_code).max_fine_rp
    if status in ANSWERED:
        pay_by = issue_payment(
            session, case=case, actor=actor, settings=settings, details={"amount_rp": amount}
        )
    elif status in LATE:
        pay_by = None
    else:
        raise Conflict(f"case {case.id} is {status.value}: no payment can be issued")
    payment = Payment(
        case_id=case.id,
        notice_id=notice.id,
        payment_code=payment_code(settings.payment_code_prefix, case.id),
        amount_rp=amount,
        issued_at=utcnow(),
        pay_by=pay_by,
    )
    session.add(payment)
    session.flush()
    record(
        session,
        actor=actor,
        action="payment.issued",
        entity_type="case",
        entity_id=case.id,
        after={
            "payment_id": payment.id,
            "payment_code": payment.payment_code,
            "amount_rp": amount,
            "pay_by": pay_by,
            "notice_number": notice.notice_number,
        },
    )
    return payment


@dataclass(frozen=True, slots=True)
class BankPayment:
    transaction_id: str
    payment_code: str
    amount_rp: int
    paid_at: datetime
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    payment: Payment
    case: Case
    duplicate: bool  # this transaction was recorded before: nothing changed now
    lifted_blocks: list[int]


def record_bank_payment(session: Session, paid: BankPayment, *, request_id: str) -> Recorded:
    """Apply one signed callback. Idempotent by `transaction_id`: the same transaction again
    answers as the first time and changes nothing; anything inconsistent is refused whole."""
    if not is_well_formed_code(paid.payment_code):
        raise UnknownPaymentCode(
            f"payment code {paid.payment_code!r} is not one of ours (its check digit is wrong)"
        )
    if paid.amount_rp <= 0:
        raise ValidationFailed("amount_rp must be a positive whole number of rupiah")
    _remember_request(session, request_id, paid)

    earlier = session.scalar(
        select(Payment).where(Payment.bank_transaction_id == paid.transaction_id)
    )
    if earlier is not None:
        return _repeat(session, earlier, paid, request_id)

    payment = session.scalar(
        select(Payment)
        .where(Payment.payment_code == paid.payment_code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise UnknownPaymentCode(f"no payment has the code {paid.payment_code}")
    if payment.bank_transaction_id == paid.transaction_id:
        # The same transaction, sent again while the first was being applied: the lookup
        # above ran before that one committed, and the row lock waited for it (PostgreSQL).
        # Asked again under the lock, it is a repeat: answered as the first, never "refund".
        return _repeat(session, payment, paid, request_id)
    if payment.status == PaymentStatus.PAID:
        raise AlreadyPaid(
            f"payment code {paid.payment_code} was already paid by another transaction: "
            "refund this one",
            detail={"paid_by_transaction": payment.bank_transaction_id},
        )
    if paid.amount_rp != payment.amount_rp:
        raise AmountMismatch(
            f"amount {paid.amount_rp} does not match the {payment.amount_rp} due on "
            f"{paid.payment_code}: nothing was recorded",
            detail={"expected_rp": payment.amount_rp, "received_rp": paid.amount_rp},
        )
    case = session.get_one(Case, payment.case_id, with_for_update=True)
    if CaseStatus(case.status) not in PAYABLE:
        raise NotPayable(
            f"the case of payment code {paid.payment_code} is {case.status}: it cannot be paid; "
            "refund this transaction",
            detail={"case_status": case.status},
        )
    lifted = mark_paid(
        session,
        case=case,
        actor=BANK_ACTOR,
        payment_ref=paid.transaction_id,
        amount_rp=paid.amount_rp,
    )
    payment.status = PaymentStatus.PAID
    payment.bank_transaction_id = paid.transaction_id
    payment.paid_amount_rp = paid.amount_rp
    payment.paid_at = paid.paid_at
    payment.recorded_at = utcnow()
    payment.bank_channel = paid.channel
    session.flush()
    record(
        session,
        actor=BANK_ACTOR,
        action="payment.received",
        entity_type="case",
        entity_id=case.id,
        after={
            "payment_id": payment.id,
            "payment_code": payment.payment_code,
            "transaction_id": paid.transaction_id,
            "amount_rp": paid.amount_rp,
            "paid_at": paid.paid_at,
            "request_id": request_id,
            "blocks_lifted": lifted,
        },
    )
    _set_outcome(session, request_id, "paid")
    return Recorded(payment, case, False, lifted)


def _repeat(session: Session, earlier: Payment, paid: BankPayment, request_id: str) -> Recorded:
    """A transaction recorded before: the first answer again, or a refusal if this one claims
    another code or amount under the same transaction id."""
    if earlier.payment_code != paid.payment_code or earlier.paid_amount_rp != paid.amount_rp:
        raise TransactionReused(
            f"transaction {paid.transaction_id} was already recorded for another payment "
            "code or amount",
            detail={"transaction_id": paid.transaction_id},
        )
    _set_outcome(session, request_id, "duplicate")
    return Recorded(earlier, session.get_one(Case, earlier.case_id), True, [])


def _remember_request(session: Session, request_id: str, paid: BankPayment) -> None:
    try:
        with session.begin_nested():
            session.add(
                PaymentCallback(
                    request_id=request_id,
                    transaction_id=paid.transaction_id,
                    payment_code=paid.payment_code,
                    amount_rp=paid.amount_rp,
                    outcome="received",
                )
            )
    except IntegrityError as exc:
        raise ReplayedRequest(
            f"request {request_id} was received before: a replayed request is refused "
            "(send a new X-ETLE-Request-Id with every request, retries included)",
        ) from exc


def _set_outcome(session: Session, request_id: str, outcome: str) -> None:
    row = session.scalar(select(PaymentCallback).where(PaymentCallback.request_id == request_id))
    if row is not None:
        row.outcome = outcome
        session.flush()
