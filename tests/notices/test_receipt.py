"""The payment receipt: rendered once, kept by hash, the same bytes if rendered again, in the
notice's language."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from api.settings import AppSettings
from etle.cases.models import Case
from etle.errors import Conflict
from etle.evidence import LocalBlobStore
from etle.notices.models import Notice
from etle.payments.service import BankPayment, issue_payment_code, record_bank_payment
from notices.receipt import issue_receipt, load_receipt, receipt_words, render_receipt
from tests.portal_fixtures import sent


def _paid(session: Session, settings: AppSettings, notice: Notice):  # type: ignore[no-untyped-def]
    case = session.get_one(Case, notice.case_id)
    payment = issue_payment_code(session, case=case, notice=notice, settings=settings, actor="t")
    record_bank_payment(
        session,
        BankPayment(
            "BNI-42",
            payment.payment_code,
            payment.amount_rp,
            datetime(2026, 11, 25, 3, 15, tzinfo=UTC),
            "teller",
        ),
        request_id="req-receipt-1",
    )
    return payment


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_receipt_is_rendered_once_and_kept_by_hash(
    session: Session, settings: AppSettings, notice: Notice, tmp_path: object
) -> None:
    documents = LocalBlobStore(settings.data_dir / "documents")
    payment = _paid(session, settings, notice)
    digest = issue_receipt(session, documents, payment, portal_url="https://etle.example.id")
    assert payment.receipt_sha256 == digest
    assert issue_receipt(session, documents, payment, portal_url="https://x.example") == digest
    data = documents.get(digest)
    again = render_receipt(
        load_receipt(session, payment, portal_url="https://etle.example.id"), receipt_words("id")
    )
    assert again == data  # the same bytes: the hash kept with the payment can be re-checked
    text = _text(data)
    for expected in (
        notice.notice_number,
        "Rp 500.000",
        "BNI-42",
        "25-11-2026 10:15:00 WIB",
        "LUNAS",
        notice.verification_code,
        "https://etle.example.id/verifikasi",
    ):
        assert expected in text


def test_an_english_notice_gets_an_english_receipt(
    session: Session, settings: AppSettings, store: LocalBlobStore
) -> None:
    notice = sent(session, store, settings, language="en")
    payment = _paid(session, settings, notice)
    receipt = load_receipt(session, payment, portal_url="https://etle.example.id")
    text = _text(render_receipt(receipt, receipt_words(receipt.language)))
    assert "RECEIPT" in text
    assert "PAID" in text
    assert "Running a red light" in text
    assert "lampu merah" not in text


def test_no_receipt_before_the_bank_has_paid(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    case = session.get_one(Case, notice.case_id)
    payment = issue_payment_code(session, case=case, notice=notice, settings=settings, actor="t")
    with pytest.raises(Conflict):
        load_receipt(session, payment, portal_url="https://etle.example.id")
