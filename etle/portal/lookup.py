"""Finding a notice without letting anyone find someone else's.

Two ways in, each with a second factor: the notice number and the plate (both on the letter), or
the plate and the last five characters of the chassis number (VIN, on the owner's STNK). Never
by plate alone, and no query lists notices beyond the ones the factors open.

A miss answers the same whatever its reason: no such notice, a wrong plate, a wrong VIN, a
vehicle without notices. Every path runs the same statements: one indexed query that returns
the stored value or nothing, and a constant-time comparison against it (or against a dummy), so
the two kinds of miss cannot be told apart by their answer or their timing. Misses count against
the client address and against the plate asked about (`etle.ratelimit`). Past the address's
limit every lookup from there is refused until the window has passed. Past the plate's limit
(everyone's misses together: guessing one car's notice numbers from many machines) the plate's
notices open only with the letter's verification code as well, which no one can guess: the
guessing stops, and the owner, who holds the letter, is never locked out (docs/portal.md).

Malformed input (a notice number whose check digit is wrong, a plate that is no plate) is
refused before any of this: that reveals nothing about anyone's notices.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etle.cases.models import Case
from etle.errors import EtleError, NotFound, ValidationFailed
from etle.notices.models import Notice
from etle.notices.service import is_well_formed_notice_number
from etle.notices.verify import normalise_code
from etle.plates import normalise_plate
from etle.portal.config import PortalSettings
from etle.ratelimit import Purpose, Rule, note, refusal, subject_key
from etle.registry.models import Vehicle

_VIN_TAIL = re.compile(r"^[A-HJ-NPR-Z0-9]{5}$")
_CODE = re.compile(r"^[A-Z0-9]{10}$")
# Compared against when nothing was found, so a miss costs what a wrong factor costs.
_DUMMY = "\x00" * 16
NOT_FOUND_MESSAGE = "no notice matches these details; check the notice number and the plate"


class NoMatch(NotFound):
    """The one answer for every miss: the same status, error code and words."""

    def __init__(self) -> None:
        super().__init__(NOT_FOUND_MESSAGE)


@dataclass(frozen=True, slots=True)
class LookupResult:
    cases: list[tuple[int, int]]  # (case id, owner id) the factors open
    refusal: EtleError | None

    def granted(self) -> list[tuple[int, int]]:
        """The cases, or the refusal raised: call after the attempt has been committed."""
        if self.refusal is not None:
            raise self.refusal
        return self.cases


PLATE_GUARDED = "plate_guarded"


def lookup_rule(settings: PortalSettings) -> Rule:
    return Rule(
        purpose=Purpose.LOOKUP,
        window_seconds=settings.portal_window_seconds,
        per_address=settings.portal_max_failures_per_address,
        per_subject=settings.portal_max_failures_per_plate,
        subject_window_seconds=settings.portal_plate_window_seconds,
        subject_refusal="too many wrong attempts for this plate: add the verification code "
        "printed on the letter (10 characters) to open the notice",
        subject_refusal_code=PLATE_GUARDED,
    )


def clean_code(value: str) -> str:
    code = normalise_code(value)
    if not _CODE.match(code):
        raise ValidationFailed(
            "the verification code is the 10 letters and digits printed on the letter",
            detail={"field": "code", "code": "code_invalid"},
        )
    return code


def clean_notice_number(value: str) -> str:
    number = "".join(ch for ch in value if not ch.isspace() and ch != "-")
    if len(number) > 32 or not is_well_formed_notice_number(number):
        raise ValidationFailed(
            "this is not a notice number: check the digits (the last one is a check digit)",
            detail={"field": "notice_number", "code": "notice_number_invalid"},
        )
    return number


def clean_plate(value: str) -> str:
    try:
        return normalise_plate(value[:20])
    except ValidationFailed as exc:
        raise ValidationFailed(
            "this is not a plate number (e.g. B 1234 ABC)",
            detail={"field": "plate", "code": "plate_invalid"},
        ) from exc


def clean_vin_tail(value: str) -> str:
    tail = value.strip().upper()
    if not _VIN_TAIL.match(tail):
        raise ValidationFailed(
            "give the last 5 characters of the chassis number (VIN), letters and digits",
            detail={"field": "vin", "code": "vin_invalid"},
        )
    return tail


def _same(given: str, stored: str | None) -> bool:
    # Both sides always compared, the dummy when nothing was stored: one cost for every miss.
    return hmac.compare_digest(given.encode(), (stored or _DUMMY).encode()) and stored is not None


def by_notice(
    session: Session,
    *,
    notice_number: str,
    plate: str,
    address: str,
    settings: PortalSettings,
    key: bytes,
    code: str = "",
) -> LookupResult:
    """Notice number + plate, and the letter's verification code when given. Never raises for
    a miss: the attempt must be committed even when refused, so the caller commits, then calls
    `LookupResult.granted()`.

    With the code the plate's own limit does not apply (only the address's): the code is what
    an attacker cannot guess, so misses about the plate cannot lock its owner out. A coded miss
    counts against the address only, and looks like every other miss."""
    number, wanted = clean_notice_number(notice_number), clean_plate(plate)
    given = clean_code(code) if code.strip() else ""
    rule, subject = lookup_rule(settings), subject_key(key, wanted)
    if given:
        rule, subject = replace(rule, per_subject=None), ""
    refused = refusal(session, rule, address=address, subject=subject)
    if refused is not None:
        return LookupResult([], refused)
    row = session.execute(
        select(Notice.case_id, Notice.owner_id, Case.plate, Notice.verification_code)
        .join(Case, Case.id == Notice.case_id)
        .where(Notice.notice_number == number)
    ).first()
    ok = _same(wanted, row.plate if row is not None else None)
    if given:  # both compared, always: a wrong code and a wrong plate cost the same
        ok = _same(given, row.verification_code if row is not None else None) & ok
    note(session, rule, address=address, subject=subject, succeeded=ok)
    if not ok or row is None:
        return LookupResult([], NoMatch())
    return LookupResult([(row.case_id, row.owner_id)], None)


def by_vin(
    session: Session,
    *,
    plate: str,
    vin_tail: str,
    address: str,
    settings: PortalSettings,
    key: bytes,
) -> LookupResult:
    """Plate + last five of the VIN: the vehicle's notices addressed to its current owner."""
    wanted, tail = clean_plate(plate), clean_vin_tail(vin_tail)
    rule, subject = lookup_rule(settings), subject_key(key, wanted)
    refused = refusal(session, rule, address=address, subject=subject)
    if refused is not None:
        return LookupResult([], refused)
    row = session.execute(
        select(Vehicle.id, Vehicle.owner_id, Vehicle.vin).where(Vehicle.plate == wanted)
    ).first()
    stored_tail = row.vin[-5:] if row is not None and row.vin else None
    ok = _same(tail, stored_tail)
    cases: list[tuple[int, int]] = []
    if ok and row is not None:
        newest = (
            select(Notice.case_id, func.max(Notice.issue).label("issue"))
            .join(Case, Case.id == Notice.case_id)
            .where(Case.vehicle_id == row.id)
            .group_by(Notice.case_id)
            .subquery()
        )
        cases = [
            (case_id, row.owner_id)
            for case_id in session.scalars(
                select(Notice.case_id)
                .join(
                    newest,
                    (newest.c.case_id == Notice.case_id) & (newest.c.issue == Notice.issue),
                )
                .where(Notice.owner_id == row.owner_id)
                .order_by(Notice.case_id.desc())
            )
        ]
    # A vehicle without notices answers like a miss: there is nothing to open either way.
    note(session, rule, address=address, subject=subject, succeeded=bool(cases))
    if not cases:
        return LookupResult([], NoMatch())
    return LookupResult(cases, None)
