"""Payment codes and the bank's payment, as services: one code per case, paid once per bank
transaction, anything inconsistent refused whole."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.settings import AppSettings
from etle.audit.models import AuditEvent
from etle.cases.models import Case, CaseStatus
from etle.escalation.models import RegistrationBlock
from etle.escalation.service import escalate
from etle.notices.models import Notice
from etle.payments import errors
from etle.payments.codes import format_code, is_well_formed_code, payment_code
from etle.payments.models import Payment, PaymentCallback, PaymentStatus
from etle.payments.service import BankPayment, issue_payment_code, record_bank_payment

PAID_AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_a_payment_code_carries_a_check_digit_that_catches_a_typo() -> None:
    code = payment_code("80777", 1234)
    assert code.startswith("807770000001234")
    assert len(code) == 16
    assert is_well_formed_code(code)
    for i in range(len(code)):
        typo = code[:i] + str((int(code[i]) + 1) % 10) + code[i + 1 :]
        assert not is_well_formed_code(typo)
    assert format_code(code) == "8077 7000 0001 234" + code[-1]


def _issue(session: Session, notice: Notice, settings: AppSettings) -> Payment:
    case = session.get_one(Case, notice.case_id)
    return issue_payment_code(session, case=case, notice=notice, settings=settings, actor="t")


def _pay(
    session: Session,
    payment: Payment,
    *,
    tx: str = "BRI-1",
    amount: int | None = None,
    request: str = "req-0000001",
) -> object:
    return record_bank_payment(
        session,
        BankPayment(
            tx,
            payment.payment_code,
            payment.amount_rp if amount is None else amount,
            PAID_AT,
            "ATM",
        ),
        request_id=request,
    )


def test_issuing_moves_the_case_to_payment_issued_once(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    payment = _issue(session, notice, settings)
    case = session.get_one(Case, notice.case_id)
    assert case.status == CaseStatus.PAYMENT_ISSUED
    assert payment.amount_rp == 500_000
    assert payment.pay_by is not None
    assert case.due_on == payment.pay_by
    assert _issue(session, notice, settings).id == payment.id  # the same code again
    assert session.scalar(select(func.count()).select_from(Payment)) == 1


def test_the_bank_payment_marks_the_case_paid_and_a_repeat_changes_nothing(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    payment = _issue(session, notice, settings)
    first = _pay(session, payment)
    assert not first.duplicate  # type: ignore[attr-defined]
    case = session.get_one(Case, notice.case_id)
    assert case.status == CaseStatus.PAID
    assert (payment.status, payment.bank_transaction_id, payment.paid_amount_rp) == (
        PaymentStatus.PAID,
        "BRI-1",
        500_000,
    )
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    again = _pay(session, payment, request="req-0000002")  # the bank retried
    assert again.duplicate  # type: ignore[attr-defined]
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
    outcomes = session.scalars(select(PaymentCallback.outcome).order_by(PaymentCallback.id)).all()
    assert outcomes == ["paid", "duplicate"]


def test_a_replayed_request_is_refused(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    payment = _issue(session, notice, settings)
    _pay(session, payment, request="req-replayed")
    with pytest.raises(errors.ReplayedRequest):
        _pay(session, payment, request="req-replayed")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"amount": 499_999}, errors.AmountMismatch),
        ({"amount": 5_000_000}, errors.AmountMismatch),
    ],
)
def test_a_wrong_amount_is_refused_and_nothing_changes(
    session: Session, settings: AppSettings, notice: Notice, change: dict[str, int], error: type
) -> None:
    payment = _issue(session, notice, settings)
    with pytest.raises(error) as caught:
        _pay(session, payment, **change)  # type: ignore[arg-type]
    assert caught.value.detail == {"expected_rp": 500_000, "received_rp": change["amount"]}
    assert session.get_one(Case, notice.case_id).status == CaseStatus.PAYMENT_ISSUED
    assert payment.status == PaymentStatus.ISSUED
    assert payment.bank_transaction_id is None


def test_unknown_codes_reused_transactions_and_double_payments_are_refused(
    session: Session, settings: AppSettings, notice: Notice, store: object
) -> None:
    payment = _issue(session, notice, settings)
    with pytest.raises(errors.UnknownPaymentCode):  # check digit wrong
        record_bank_payment(
            session,
            BankPayment(
                "X",
                payment.payment_code[:-1] + "0"
                if payment.payment_code[-1] != "0"
                else payment.payment_code[:-1] + "1",
                500_000,
                PAID_AT,
            ),
            request_id="req-a0000001",
        )
    with pytest.raises(errors.UnknownPaymentCode):  # well-formed, not ours
        record_bank_payment(
            session,
            BankPayment("X", payment_code("80777", 987654), 500_000, PAID_AT),
            request_id="req-a0000002",
        )
    _pay(session, payment, tx="BRI-7", request="req-a0000003")
    with pytest.raises(errors.AlreadyPaid) as caught:  # the citizen paid twice
        _pay(session, payment, tx="BRI-8", request="req-a0000004")
    assert caught.value.detail == {"paid_by_transaction": "BRI-7"}
    with pytest.raises(errors.TransactionReused):  # same bank id, other amount
        _pay(session, payment, tx="BRI-7", amount=400_000, request="req-a0000005")


def test_paying_an_overdue_blocked_case_lifts_the_block(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    case = session.get_one(Case, notice.case_id)
    escalate(session, today=date(2027, 1, 31))  # past respond-by: overdue, then blocked
    assert case.status == CaseStatus.REGISTRATION_BLOCKED
    payment = _issue(session, notice, settings)  # late: no transition, no pay-by
    assert payment.pay_by is None
    assert case.status == CaseStatus.REGISTRATION_BLOCKED
    recorded = _pay(session, payment)
    assert case.status == CaseStatus.PAID
    block = session.scalars(
        select(RegistrationBlock).where(RegistrationBlock.case_id == case.id)
    ).one()
    assert block.lifted_at is not None
    assert block.lift_reason == "paid"
    assert recorded.lifted_blocks == [block.id]  # type: ignore[attr-defined]


def test_a_voided_case_cannot_be_paid(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    from etle.cases.lifecycle import void_case
    from etle.officers.models import Role
    from tests import factories

    payment = _issue(session, notice, settings)
    case = session.get_one(Case, notice.case_id)
    void_case(
        session,
        case=case,
        officer=factories.officer(session, role=Role.SUPERVISOR),
        reason="wrong camera clock",
    )
    with pytest.raises(errors.NotPayable):
        _pay(session, payment)
