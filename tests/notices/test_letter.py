import io
from datetime import UTC, date, datetime
from email import message_from_bytes, policy

import pypdf
from PIL import Image

from notices.channels.base import Outgoing
from notices.channels.email import build_email
from notices.letter import Letter, rupiah
from notices.render import default_wording, render_letter


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 90)).save(out, format="JPEG")
    return out.getvalue()


LETTER = Letter(
    notice_number="26110000000114",
    verification_code="ABCDEF2345",
    verify_token="ABCDEF2345.gz1.AAAAAAAAAAAAAAAA",
    language="id",
    issued_at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
    respond_by=date(2026, 11, 30),
    recipient_name="Budi Santoso",
    recipient_address="Jl. Kebon Sirih 12, Jakarta",
    recipient_postcode="10340",
    recipient_email="budi@example.id",
    recipient_phone="+62812",
    plate="B 1234 ABC",
    captured_at_text="20-11-2026 07:15:04 WIB",
    place="Jl. M.H. Thamrin",
    camera_id="CAM-1",
    violation_id="Melanggar lampu lalu lintas (lampu merah)",
    violation_en="Running a red light",
    legal_basis="UU 22/2009 Pasal 287 ayat (2)",
    max_fine_rp=500_000,
    portal_url="https://etle.example.id",
    evidence_jpeg=_jpeg(1600, 900),
    evidence_size=(1600, 900),
    plate_box=(700, 600, 900, 660),
    evidence_sha256="a" * 64,
)


def test_letter_pdf_shows_plate_number_article_and_deadline() -> None:
    text = pypdf.PdfReader(io.BytesIO(render_letter(LETTER))).pages[0].extract_text()
    for expected in (
        "B 1234 ABC",
        "26110000000114",
        "Pasal 287 ayat (2)",
        "30 November 2026",
        "Rp 500.000",
        "ABCDEF2345",
    ):
        assert expected in text


def test_rendering_is_repeatable() -> None:
    assert render_letter(LETTER) == render_letter(LETTER)


def test_email_carries_text_html_and_the_pdf() -> None:
    pdf = render_letter(LETTER)
    raw = bytes(
        build_email(
            Outgoing(LETTER, pdf, "26110000000114-email"),
            sender="ETLE <noreply@etle.example.id>",
            wording=default_wording(),
        )
    )
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["To"] == "Budi Santoso <budi@example.id>"
    assert "26110000000114-email" in parsed["Message-ID"]
    attachments = list(parsed.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_content() == pdf
    assert parsed.get_body(("html",)) is not None


def test_rupiah_uses_dots_for_thousands() -> None:
    assert rupiah(750_000) == "Rp 750.000"


def test_a_plate_number_is_never_broken_across_two_lines() -> None:
    from fpdf import FPDF

    from notices.render import text_width, wrap

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)
    text = "1. Buka https://etle.example.id/tilang lalu masukkan nomor polisi B 1234 ABC."
    # A width that ends the line right after "B 1234": the greedy breaker alone splits it.
    width = text_width(pdf, text.split(" ABC")[0]) + 1
    assert any(line.endswith("B 1234") for line in wrap(pdf, text, width))
    lines = wrap(pdf, text, width, keep=("B 1234 ABC",))
    assert not any(line.endswith("B 1234") for line in lines)
    assert any("B 1234 ABC" in line for line in lines)
    assert " ".join(lines) == text  # the words themselves are unchanged


def test_the_enlarged_plate_reaches_below_the_box_to_the_date_line() -> None:
    from notices.render import plate_crop

    box = (795, 692, 1125, 805)  # the reader's box: the characters, not the date under them
    x1, y1, x2, y2 = plate_crop(box, (1920, 1080))
    height = box[3] - box[1]
    assert y2 - box[3] >= 0.7 * height  # the date line sits about half a box below
    assert box[1] - y1 < y2 - box[3]
    assert (x1, x2) == (755, 1165)
    assert plate_crop((1800, 1000, 1915, 1075), (1920, 1080))[2:] == (1920, 1080)  # inside
