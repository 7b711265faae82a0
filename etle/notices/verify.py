"""Is this notice genuine? The answer the portal gives for a verification code or QR token.

Fake ETLE messages are a known fraud: a citizen holding a letter, an email or a message checks
it here. The answer names only what is printed on the genuine notice and is not personal (notice
number, plate, violation, place, dates) so the citizen can compare it with what they hold; never
the owner's name, address or contacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.models import Case
from etle.clock import local
from etle.notices.models import Notice
from etle.notices.tokens import read_token, sign_token
from etle.plates import format_plate
from etle.violations.models import ViolationType


def token_for(notice: Notice, key: bytes, *, valid_days: int, zone: str) -> str:
    """The notice's QR token: valid `valid_days` from the day of issue (same every render)."""
    issued_on = local(notice.issued_at, zone).date()
    return sign_token(notice.verification_code, issued_on + timedelta(days=valid_days), key)


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class Verification:
    genuine: bool
    # Why not: unknown_code (no notice has it), bad_signature (a forged or altered QR),
    # expired (a genuine QR past its date: enter the code by hand instead).
    reason: str | None = None
    notice_number: str | None = None
    plate: str | None = None
    violation_id: str | None = None
    violation_en: str | None = None
    place: str | None = None
    captured_on: date | None = None
    issued_on: date | None = None
    respond_by: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "genuine": self.genuine,
            "reason": self.reason,
            "notice": None
            if not self.genuine
            else {
                "notice_number": self.notice_number,
                "plate": self.plate,
                "violation": {"id": self.violation_id, "en": self.violation_en},
                "place": self.place,
                "captured_on": self.captured_on,
                "issued_on": self.issued_on,
                "respond_by": self.respond_by,
            },
        }


def verify_code(session: Session, code: str) -> Verification:
    notice = session.scalar(
        select(Notice).where(Notice.verification_code == normalise_code(code)[:16])
    )
    if notice is None:
        return Verification(genuine=False, reason="unknown_code")
    case = session.get_one(Case, notice.case_id)
    camera = session.get_one(Camera, case.camera_id)
    violation = session.get_one(ViolationType, case.violation_code)
    return Verification(
        genuine=True,
        notice_number=notice.notice_number,
        plate=format_plate(case.plate),
        violation_id=violation.name_id,
        violation_en=violation.name_en,
        place=camera.place,
        captured_on=local(case.first_captured_at, camera.timezone).date(),
        issued_on=local(notice.issued_at, camera.timezone).date(),
        respond_by=notice.respond_by,
    )


def verify_token(session: Session, token: str, *, key: bytes, today: date) -> Verification:
    reading = read_token(token, key)
    if reading is None:
        return Verification(genuine=False, reason="bad_signature")
    if reading.expired(today):
        return Verification(genuine=False, reason="expired")
    return verify_code(session, reading.code)
