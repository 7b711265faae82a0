"""Everything a notice says, gathered once from the database (and the verified evidence).

Renderers and channels work from a `Letter`, never from the database, so they are pure and
tested directly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.models import Case
from etle.clock import format_local, local
from etle.evidence import BlobStore
from etle.frames.models import PlateRead
from etle.jurisdictions.models import Jurisdiction
from etle.jurisdictions.service import Issuer, issuer_of
from etle.notices.models import Notice
from etle.notices.tokens import VERIFY_PAGE_PATH, verification_url
from etle.notices.verify import token_for
from etle.plates import format_plate
from etle.violations.models import ViolationType

# Evidence photos up to this size (the usual 1080p/2 MP roadside frame) go into the letter as
# the camera's own JPEG bytes: nothing is decoded or re-encoded, and the picture in the letter is
# the evidence file itself. Larger frames are reduced to it once.
LETTER_IMAGE_MAX_SIDE = 2048
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Letter:
    notice_number: str
    verification_code: str
    verify_token: str
    language: str  # "id" or "en"
    issued_at: datetime
    respond_by: date
    recipient_name: str
    recipient_address: str
    recipient_postcode: str
    recipient_email: str | None
    recipient_phone: str | None
    plate: str  # formatted for people: B 1234 ABC
    captured_at_text: str  # 20-11-2026 07:15:04 WIB
    place: str
    camera_id: str
    violation_id: str
    violation_en: str
    legal_basis: str
    max_fine_rp: int
    portal_url: str
    evidence_jpeg: bytes
    evidence_size: tuple[int, int]  # pixels of evidence_jpeg
    plate_box: Box | None  # the plate in evidence_jpeg's pixels, shown enlarged
    evidence_sha256: str
    # The address in the parts a postal service's import expects (the print batch manifest).
    recipient_street: str = ""
    recipient_district: str = ""
    recipient_city: str = ""
    # Speeding: what was measured and the limit, as kept on the notice; None otherwise.
    measured_speed_kmh: float | None = None
    speed_limit_kmh: int | None = None
    issuer: Issuer = field(default_factory=lambda: Issuer("", "", "", ""))

    @property
    def verify_url(self) -> str:
        """What the QR code opens: the portal's verification page with the signed token."""
        return verification_url(self.portal_url, self.verify_token)

    @property
    def verify_page(self) -> str:
        return f"{self.portal_url}{VERIFY_PAGE_PATH}"

    @property
    def lookup_url(self) -> str:
        return f"{self.portal_url}/tilang"


def rupiah(amount: int) -> str:
    """`Rp 500.000`: Indonesian thousands separator."""
    return "Rp " + f"{amount:,}".replace(",", ".")


@dataclass(frozen=True, slots=True)
class LetterRows:
    """The rows a letter is made from, read in a transaction and used after it ends."""

    notice: Notice
    case: Case
    camera: Camera
    violation: ViolationType
    read: PlateRead | None
    jurisdiction: Jurisdiction | None = None


def letter_rows(session: Session, notices: list[Notice]) -> list[LetterRows]:
    """The rows of several letters in five queries (one per table) instead of five per letter."""
    cases = {
        c.id: c
        for c in session.scalars(select(Case).where(Case.id.in_({n.case_id for n in notices})))
    }
    wanted_cameras = {c.camera_id for c in cases.values()}
    cameras = {
        c.id: c for c in session.scalars(select(Camera).where(Camera.id.in_(wanted_cameras)))
    }
    codes = {c.violation_code for c in cases.values()}
    violations = {
        v.code: v
        for v in session.scalars(select(ViolationType).where(ViolationType.code.in_(codes)))
    }
    read_ids = {c.plate_read_id for c in cases.values() if c.plate_read_id}
    reads = (
        {r.id: r for r in session.scalars(select(PlateRead).where(PlateRead.id.in_(read_ids)))}
        if read_ids
        else {}
    )
    codes_wanted = {c.jurisdiction_code for c in cameras.values() if c.jurisdiction_code}
    jurisdictions = (
        {
            j.code: j
            for j in session.scalars(
                select(Jurisdiction).where(Jurisdiction.code.in_(codes_wanted))
            )
        }
        if codes_wanted
        else {}
    )
    rows = []
    for notice in notices:
        case = cases[notice.case_id]
        camera = cameras[case.camera_id]
        rows.append(
            LetterRows(
                notice=notice,
                case=case,
                camera=camera,
                violation=violations[case.violation_code],
                read=reads.get(case.plate_read_id) if case.plate_read_id else None,
                jurisdiction=jurisdictions.get(camera.jurisdiction_code or ""),
            )
        )
    return rows


def load_letter(
    session: Session,
    store: BlobStore,
    notice: Notice,
    *,
    portal_url: str,
    signing_key: bytes,
    token_days: int,
    issuer: Issuer,
) -> Letter:
    case = session.get_one(Case, notice.case_id)
    camera = session.get_one(Camera, case.camera_id)
    rows = LetterRows(
        notice=notice,
        case=case,
        camera=camera,
        violation=session.get_one(ViolationType, case.violation_code),
        read=session.get(PlateRead, case.plate_read_id) if case.plate_read_id else None,
        jurisdiction=session.get(Jurisdiction, camera.jurisdiction_code)
        if camera.jurisdiction_code
        else None,
    )
    return letter_from_rows(
        rows,
        store,
        portal_url=portal_url,
        signing_key=signing_key,
        token_days=token_days,
        issuer=issuer,
    )


def letter_from_rows(
    rows: LetterRows,
    store: BlobStore,
    *,
    portal_url: str,
    signing_key: bytes,
    token_days: int,
    issuer: Issuer,
) -> Letter:
    """The letter from its rows and its evidence, read and verified now (no database needed).

    `issuer` is the default from settings; the camera's jurisdiction overrides it field by
    field."""
    notice, case, camera, violation, read = (
        rows.notice,
        rows.case,
        rows.camera,
        rows.violation,
        rows.read,
    )
    evidence = store.get(case.evidence_sha256)  # verifies the hash (invariant 1)
    image, size, scale = letter_image(evidence)
    box = None
    if read is not None and len(read.box) == 4:
        x1, y1, x2, y2 = (round(v * scale) for v in read.box)
        box = (x1, y1, x2, y2)
    return Letter(
        notice_number=notice.notice_number,
        verification_code=notice.verification_code,
        verify_token=token_for(notice, signing_key, valid_days=token_days, zone=camera.timezone),
        language=notice.language,
        issued_at=local(notice.issued_at, camera.timezone),
        respond_by=notice.respond_by,
        recipient_name=notice.recipient_name,
        recipient_address=notice.recipient_address,
        recipient_postcode=notice.recipient_postcode,
        recipient_email=notice.recipient_email,
        recipient_phone=notice.recipient_phone,
        plate=format_plate(case.plate),
        captured_at_text=format_local(case.first_captured_at, camera.timezone),
        place=camera.place,
        camera_id=camera.id,
        violation_id=violation.name_id,
        violation_en=violation.name_en,
        legal_basis=violation.legal_basis,
        max_fine_rp=violation.max_fine_rp,
        portal_url=portal_url,
        evidence_jpeg=image,
        evidence_size=size,
        plate_box=box,
        evidence_sha256=case.evidence_sha256,
        recipient_street=notice.recipient_street,
        recipient_district=notice.recipient_district,
        recipient_city=notice.recipient_city,
        measured_speed_kmh=notice.measured_speed_kmh,
        speed_limit_kmh=notice.speed_limit_kmh,
        issuer=issuer_of(rows.jurisdiction, issuer),
    )


def letter_image(data: bytes) -> tuple[bytes, tuple[int, int], float]:
    """The evidence as a JPEG for the letter, its size, and its scale against the original."""
    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        original = image.size
        if (
            image.format == "JPEG"
            and image.mode in ("RGB", "L")
            and max(original) <= LETTER_IMAGE_MAX_SIDE
        ):
            return data, original, 1.0
        # draft() lets libjpeg decode a big JPEG at 1/2, 1/4 ... of its size directly.
        image.draft("RGB", (LETTER_IMAGE_MAX_SIDE, LETTER_IMAGE_MAX_SIDE))
        rgb = image.convert("RGB")
        rgb.thumbnail((LETTER_IMAGE_MAX_SIDE, LETTER_IMAGE_MAX_SIDE))
        out = io.BytesIO()
        rgb.save(out, format="JPEG", quality=85)
        return out.getvalue(), rgb.size, rgb.size[0] / original[0]
