"""The payment receipt ("tanda terima pembayaran"): a one-page PDF, rendered once when the bank's
payment is recorded and kept by SHA-256 in the document store, like the letters.

Same approach as the letter (`notices.render`): fpdf2's core font, words from editable files
(`notices/templates/<language>/receipt.toml`, overridable in ETLE_TEMPLATES_DIR), and the same
bytes every time for the same payment (the PDF's creation date is the payment time), so a
receipt rendered again can be checked against the hash kept with the payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cameras.models import Camera
from etle.cases.models import Case
from etle.clock import format_local, local
from etle.errors import ConfigError, Conflict
from etle.evidence import BlobStore
from etle.notices.models import Notice
from etle.notices.tokens import VERIFY_PAGE_PATH
from etle.payments.codes import format_code
from etle.payments.models import Payment, PaymentStatus
from etle.plates import format_plate
from etle.violations.models import ViolationType
from notices.letter import rupiah
from notices.render import FONT, LEFT, RIGHT, TOP, latin1, wrap
from notices.wording import LANGUAGES, PACKAGED, _read_toml

RECEIPT_KEYS = (
    "pdf_title",
    "header",
    "subheader",
    "title",
    "row_receipt",
    "row_notice",
    "row_plate",
    "row_violation",
    "row_article",
    "row_time",
    "row_place",
    "row_code",
    "row_amount",
    "row_transaction",
    "row_paid_at",
    "row_status",
    "status_paid",
    "paid_note",
    "verify_note",
)
RECEIPT_ACTOR = "system:receipts"


@dataclass(frozen=True)
class Receipt:
    receipt_number: str
    language: str
    notice_number: str
    verification_code: str
    plate: str
    violation: str
    legal_basis: str
    captured_at_text: str
    place: str
    payment_code: str
    amount_rp: int
    transaction_id: str
    paid_at: datetime  # in the camera's zone
    paid_at_text: str
    verify_page: str


def receipt_words(language: str, override: Path | None = None) -> dict[str, str]:
    language = language if language in LANGUAGES else "id"
    words = _read_toml(PACKAGED / language / "receipt.toml")
    if override is not None and (override / language / "receipt.toml").is_file():
        words.update(_read_toml(override / language / "receipt.toml"))
    missing = [k for k in RECEIPT_KEYS if k not in words]
    if missing:
        raise ConfigError(f"{language}/receipt.toml lacks {', '.join(missing)}")
    return words


def load_receipt(session: Session, payment: Payment, *, portal_url: str) -> Receipt:
    if payment.status != PaymentStatus.PAID or payment.paid_at is None:
        raise Conflict(f"payment {payment.payment_code} is not paid: no receipt yet")
    notice = session.get_one(Notice, payment.notice_id)
    case = session.get_one(Case, payment.case_id)
    camera = session.get_one(Camera, case.camera_id)
    violation = session.get_one(ViolationType, case.violation_code)
    language = notice.language if notice.language in LANGUAGES else "id"
    return Receipt(
        receipt_number=f"KW-{payment.payment_code}",
        language=language,
        notice_number=notice.notice_number,
        verification_code=notice.verification_code,
        plate=format_plate(case.plate),
        violation=violation.name_en if language == "en" else violation.name_id,
        legal_basis=violation.legal_basis,
        captured_at_text=format_local(case.first_captured_at, camera.timezone),
        place=camera.place,
        payment_code=format_code(payment.payment_code),
        amount_rp=payment.paid_amount_rp or payment.amount_rp,
        transaction_id=payment.bank_transaction_id or "",
        paid_at=local(payment.paid_at, camera.timezone),
        paid_at_text=format_local(payment.paid_at, camera.timezone),
        verify_page=f"{portal_url.rstrip('/')}{VERIFY_PAGE_PATH}",
    )


def render_receipt(receipt: Receipt, words: dict[str, str]) -> bytes:
    w = {k: latin1(v) for k, v in words.items()}
    pdf = FPDF(format="A4")
    pdf.set_creation_date(receipt.paid_at)
    pdf.set_title(w["pdf_title"])
    pdf.set_author(w["header"])
    pdf.set_lang(receipt.language)
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.add_page()
    width = 210.0 - LEFT - RIGHT
    for text, size, style, height in (
        (w["header"], 12.0, "B", 6.0),
        (w["subheader"], 10.0, "", 5.0),
    ):
        pdf.set_font(FONT, style, size)
        pdf.cell(0, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.line(LEFT, pdf.get_y() + 2, LEFT + width, pdf.get_y() + 2)
    pdf.ln(6)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, w["title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    rows = [
        (w["row_receipt"], receipt.receipt_number),
        (w["row_notice"], receipt.notice_number),
        (w["row_plate"], receipt.plate),
        (w["row_violation"], receipt.violation),
        (w["row_article"], receipt.legal_basis),
        (w["row_time"], receipt.captured_at_text),
        (w["row_place"], receipt.place),
        (w["row_code"], receipt.payment_code),
        (w["row_amount"], rupiah(receipt.amount_rp)),
        (w["row_transaction"], receipt.transaction_id),
        (w["row_paid_at"], receipt.paid_at_text),
        (w["row_status"], w["status_paid"]),
    ]
    label_w = 55.0
    for label, value in rows:
        pdf.set_font(FONT, "", 10)
        pdf.cell(label_w, 7, label, border=1)
        size = 10.0
        pdf.set_font(FONT, "B", size)
        value = latin1(value)
        while size > 6 and pdf.get_string_width(value) > width - label_w - 2:
            size -= 0.5
            pdf.set_font(FONT, "B", size)
        pdf.cell(width - label_w, 7, value, border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)
    pdf.set_font(FONT, "", 10)
    verify = w["verify_note"].format(
        verify_page=receipt.verify_page, verification_code=receipt.verification_code
    )
    for paragraph in (w["paid_note"], verify):
        for line in wrap(pdf, paragraph, width):
            pdf.cell(width, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    return bytes(pdf.output())


def issue_receipt(
    session: Session,
    documents: BlobStore,
    payment: Payment,
    *,
    portal_url: str,
    templates_dir: Path | None = None,
) -> str:
    """Render the receipt of a paid payment once and keep it by hash; the hash if it exists."""
    if payment.receipt_sha256 is not None:
        return payment.receipt_sha256
    receipt = load_receipt(session, payment, portal_url=portal_url)
    data = render_receipt(receipt, receipt_words(receipt.language, templates_dir))
    digest = documents.put(data)
    payment.receipt_sha256 = digest
    session.flush()
    record(
        session,
        actor=RECEIPT_ACTOR,
        action="payment.receipt_issued",
        entity_type="case",
        entity_id=payment.case_id,
        after={"payment_id": payment.id, "receipt_sha256": digest},
    )
    return digest
