"""The confirmation letter ("surat konfirmasi") as an A4 PDF, in the notice's language.

Pure Python (fpdf2 with its built-in Helvetica), so no system libraries are needed. The words
come from the templates (`notices.wording`); where each part sits is decided here. The same
letter renders to the same bytes: its creation date is the notice's issue time.

Speed matters (tens of thousands of letters a day), so the costly steps of the obvious way are
avoided without changing what the letter shows:
* the evidence photo is embedded as the camera's JPEG bytes (no decode, no re-encode), and the
  enlarged plate is the same image object drawn again, scaled and clipped to the plate, so the
  plate crop costs nothing and is the evidence's own pixels;
* lines are broken here, word by word, instead of by fpdf2's character-by-character
  `multi_cell`;
* the QR code goes in as a tiny greyscale image built straight from segno's module matrix,
  with a fixed mask pattern.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from notices.letter import Letter, rupiah
from notices.wording import Wording, long_date

LEFT, RIGHT, TOP = 18.0, 18.0, 12.0
CONTENT_W = 210.0 - LEFT - RIGHT
PHOTO_W = 100.0
CROP_X, CROP_W, CROP_MAX_H = 124.0, 68.0, 34.0
# Around the reader's box, which is tight on the characters: an Indonesian plate carries its
# validity date (`08.29`) under the number, so the enlarged plate reaches further down than up.
CROP_MARGIN_X, CROP_MARGIN_TOP, CROP_MARGIN_BOTTOM = 0.12, 0.25, 0.75
QR_SIZE = 32.0
SIGNATURE_W = 62.0  # the signature block, right of the verification text
QR_MASK = 4  # what segno's own scoring picks for 187 of 200 sample verification URLs
FONT = "Helvetica"


@lru_cache(maxsize=1)
def default_wording() -> Wording:
    return Wording()


def latin1(text: str) -> str:
    """fpdf2's core fonts cover Latin-1 only: accents beyond it lose their mark, anything else
    becomes `?`, so an unusual character in a name can never stop a letter."""
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


QR_PIXELS_PER_MODULE = 4


def qr_image(url: str) -> Image.Image:
    """The QR code as a greyscale image, 4 pixels per module (plus a 2-module quiet zone).

    Why 4 and not 1: a viewer that enlarges a one-pixel-per-module image smooths the module
    edges, and about one letter in ten then failed to scan from the rendered PDF (OpenCV's
    detector, 200 sample tokens); with 4 pixels per module, about one in two hundred."""
    # A fixed mask pattern: choosing the "best" of eight by the standard's penalty score was
    # the largest single cost of a letter, and any mask decodes the same.
    qr = segno.make(url, error="m", mask=QR_MASK)
    border = 2
    matrix = qr.matrix
    n = len(matrix) + 2 * border
    light = bytes([255]) * n
    rows = [light] * border
    for row in matrix:
        rows.append(bytes([255]) * border + bytes(0 if v else 255 for v in row) + light[:border])
    rows.extend([light] * border)
    image = Image.frombytes("L", (n, n), b"".join(rows))
    size = n * QR_PIXELS_PER_MODULE
    return image.resize((size, size), Image.Resampling.NEAREST)


def text_width(pdf: FPDF, text: str) -> float:
    """Width in mm with the current core font: fpdf2's own `get_string_width` copies the
    graphics state on every call, which made measuring words most of the rendering time."""
    widths: dict[str, float] = pdf.current_font.cw  # type: ignore[union-attr,assignment]
    return float(sum(widths[c] for c in text) * pdf.font_size_pt * 0.001 / pdf.k)


_GLUE = "\x00"  # a space that never breaks a line (measured as a space, written as one)


def wrap(pdf: FPDF, text: str, width: float, keep: tuple[str, ...] = ()) -> list[str]:
    """Greedy line breaking at spaces with the current font; explicit newlines are kept, and
    the phrases in `keep` (a plate number: `B 1234 ABC`, never `B 1234` / `ABC`) are never
    broken."""
    for phrase in keep:
        if phrase:
            text = text.replace(phrase, phrase.replace(" ", _GLUE))
    space = text_width(pdf, " ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for word in paragraph.split(" "):
            word = word.replace(_GLUE, " ")
            w = text_width(pdf, word)
            while w > width and len(word) > 1:  # a word wider than the line: cut it
                cut = len(word)
                while cut > 1 and text_width(pdf, word[:cut]) > width:
                    cut = cut * 3 // 4
                if line:
                    lines.append(" ".join(line))
                    line, used = [], 0.0
                lines.append(word[:cut])
                word = word[cut:]
                w = text_width(pdf, word)
            if line and used + space + w > width:
                lines.append(" ".join(line))
                line, used = [], 0.0
            used += (space if line else 0.0) + w
            line.append(word)
        lines.append(" ".join(line))
    return lines


def _paragraph(
    pdf: FPDF, text: str, *, x: float, width: float, height: float, keep: tuple[str, ...] = ()
) -> None:
    for line in wrap(pdf, text, width, keep):
        pdf.set_x(x)
        pdf.cell(width, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _line(pdf: FPDF, text: str, *, size: float, height: float, style: str = "") -> None:
    pdf.set_font(FONT, style, size)
    pdf.cell(0, height, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_letter(letter: Letter, wording: Wording | None = None) -> bytes:
    words = {k: latin1(v) for k, v in (wording or default_wording()).letter(letter).items()}
    pdf = FPDF(format="A4")
    pdf.set_creation_date(letter.issued_at)
    pdf.set_title(words["pdf_title"])
    pdf.set_author(words["pdf_author"])
    pdf.set_lang("en" if letter.language == "en" else "id")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.add_page()

    issuer = letter.issuer
    plate = (latin1(letter.plate),)  # never broken across lines
    _line(pdf, words["header"], size=12, height=6, style="B")
    if issuer.unit:
        _line(pdf, latin1(issuer.unit.upper()), size=10.5, height=5, style="B")
    if issuer.office_address:
        _line(pdf, latin1(issuer.office_address), size=8, height=4)
    _line(pdf, words["subheader"], size=9, height=4.5)
    pdf.line(LEFT, pdf.get_y() + 1.5, LEFT + CONTENT_W, pdf.get_y() + 1.5)
    pdf.ln(4)
    _line(pdf, words["title"], size=13, height=7, style="B")
    _line(pdf, words["number_line"], size=10, height=5)
    pdf.ln(3)

    pdf.set_font(FONT, "", 10)
    _paragraph(pdf, words["date_line"], x=LEFT, width=CONTENT_W, height=5)
    _paragraph(pdf, words["to"], x=LEFT, width=CONTENT_W, height=5)
    pdf.set_font(FONT, "B", 10)
    _paragraph(pdf, latin1(letter.recipient_name), x=LEFT, width=CONTENT_W, height=5)
    pdf.set_font(FONT, "", 10)
    address = letter.recipient_address
    if letter.recipient_postcode:
        address = f"{address} {letter.recipient_postcode}"
    _paragraph(pdf, latin1(address), x=LEFT, width=CONTENT_W, height=5)
    pdf.ln(2)
    _paragraph(pdf, words["intro"], x=LEFT, width=CONTENT_W, height=5, keep=plate)
    pdf.ln(2)
    _table(pdf, letter, words)
    pdf.ln(3)
    _photos(pdf, letter, words)

    pdf.set_font(FONT, "B", 10)
    _paragraph(pdf, words["respond_title"], x=LEFT, width=CONTENT_W, height=6)
    pdf.set_font(FONT, "", 10)
    _paragraph(pdf, words["respond"], x=LEFT, width=CONTENT_W, height=5, keep=plate)
    pdf.ln(2)

    top = pdf.get_y()
    if top + QR_SIZE > 297 - 12:  # keep the QR block whole
        pdf.add_page()
        top = pdf.get_y()
    pdf.image(qr_image(letter.verify_url), x=LEFT, y=top, w=QR_SIZE, h=QR_SIZE)
    text_x = LEFT + QR_SIZE + 4
    text_w = CONTENT_W - QR_SIZE - 4 - SIGNATURE_W - 4
    pdf.set_xy(text_x, top)
    pdf.set_font(FONT, "B", 10)
    _paragraph(pdf, words["verify_title"], x=text_x, width=text_w, height=5.5)
    pdf.set_font(FONT, "", 8)
    _paragraph(pdf, words["verify"], x=text_x, width=text_w, height=3.6)
    _signature(pdf, letter, words, top)
    return bytes(pdf.output())


def _signature(pdf: FPDF, letter: Letter, words: dict[str, str], top: float) -> None:
    """The signature block, right of the verification text: the title from the jurisdiction's
    settings, a note that the letter is electronic (checked by its code, not by ink), the
    signatory's name."""
    x = LEFT + CONTENT_W - SIGNATURE_W
    issuer = letter.issuer
    pdf.set_xy(x, top)
    pdf.set_font(FONT, "", 9)
    _paragraph(pdf, latin1(issuer.signatory_title), x=x, width=SIGNATURE_W, height=4.5)
    if issuer.unit:
        _paragraph(pdf, latin1(issuer.unit), x=x, width=SIGNATURE_W, height=4.5)
    pdf.ln(2)
    pdf.set_font(FONT, "I", 7)
    _paragraph(pdf, words["signature_note"], x=x, width=SIGNATURE_W, height=3.3)
    pdf.ln(2)
    if issuer.signatory_name:
        pdf.set_font(FONT, "BU", 9.5)
        _paragraph(pdf, latin1(issuer.signatory_name), x=x, width=SIGNATURE_W, height=5)


def _table(pdf: FPDF, letter: Letter, words: dict[str, str]) -> None:
    language = "en" if letter.language == "en" else "id"
    rows = [
        (words["row_plate"], letter.plate),
        (words["row_time"], letter.captured_at_text),
        (words["row_place"], letter.place),
        (words["row_camera"], letter.camera_id),
        (words["row_violation"], letter.violation_en if language == "en" else letter.violation_id),
        *(
            [(words["row_speed"], words["speed_value"])]
            if letter.measured_speed_kmh is not None
            else []
        ),
        (words["row_article"], letter.legal_basis),
        (words["row_fine"], rupiah(letter.max_fine_rp)),
        (words["row_deadline"], long_date(letter.respond_by, language)),
    ]
    label_w = 55.0
    value_w = CONTENT_W - label_w
    for label, value in rows:
        value = latin1(value)
        pdf.set_font(FONT, "", 10)
        pdf.cell(label_w, 6, label, border=1)
        size = 10.0
        pdf.set_font(FONT, "B", size)
        while size > 6 and text_width(pdf, value) > value_w - 2:
            size -= 0.5  # a long place name shrinks to fit its cell rather than spill
            pdf.set_font(FONT, "B", size)
        pdf.cell(value_w, 6, value, border=1, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def plate_crop(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The part of the evidence shown enlarged: the reader's box with margins, more below than
    above (the validity date line under the number), kept inside the picture."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (
        max(0, round(x1 - w * CROP_MARGIN_X)),
        max(0, round(y1 - h * CROP_MARGIN_TOP)),
        min(size[0], round(x2 + w * CROP_MARGIN_X)),
        min(size[1], round(y2 + h * CROP_MARGIN_BOTTOM)),
    )


def _photos(pdf: FPDF, letter: Letter, words: dict[str, str]) -> None:
    width_px, height_px = letter.evidence_size
    photo_h = PHOTO_W * height_px / width_px
    top = pdf.get_y()
    if top + photo_h + 6 > 297 - 15:
        pdf.add_page()
        top = pdf.get_y()
    pdf.image(letter.evidence_jpeg, x=LEFT, y=top, w=PHOTO_W, h=photo_h)
    if letter.plate_box is not None:
        cx1, cy1, cx2, cy2 = plate_crop(letter.plate_box, letter.evidence_size)
        if cx2 > cx1 and cy2 > cy1:
            scale = min(CROP_W / (cx2 - cx1), CROP_MAX_H / (cy2 - cy1))  # mm per pixel
            crop_w, crop_h = (cx2 - cx1) * scale, (cy2 - cy1) * scale
            # The same image object as the photo, drawn larger and clipped to the plate.
            with pdf.rect_clip(CROP_X, top, crop_w, crop_h):
                pdf.image(
                    letter.evidence_jpeg,
                    x=CROP_X - cx1 * scale,
                    y=top - cy1 * scale,
                    w=width_px * scale,
                    h=height_px * scale,
                )
            pdf.rect(CROP_X, top, crop_w, crop_h)
            pdf.set_font(FONT, "", 8)
            pdf.set_xy(CROP_X, top + crop_h + 1)
            for line in wrap(pdf, words["plate_caption"], CROP_W):
                pdf.set_x(CROP_X)
                pdf.cell(CROP_W, 4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(top + photo_h + 2)
    pdf.set_font(FONT, "", 7)
    pdf.cell(0, 4, words["evidence_line"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
