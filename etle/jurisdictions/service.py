"""Deadlines per jurisdiction, and which camera belongs to which.

A case's deadlines follow its camera: the camera's jurisdiction if it has one, otherwise the
defaults from settings. Every change is audited with before and after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cameras.models import Camera
from etle.cameras.service import get_camera
from etle.config import Settings
from etle.errors import NotFound, ValidationFailed
from etle.jurisdictions.models import Jurisdiction
from etle.officers.access import Permission, require
from etle.officers.models import Officer

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_\-]{0,31}$")
MAX_DAYS = 365


@dataclass(frozen=True, slots=True)
class Deadlines:
    respond_days: int
    pay_days: int
    jurisdiction: str | None = None  # None: the defaults from settings

    def respond_by(self, today: date) -> date:
        return today + timedelta(days=self.respond_days)

    def pay_by(self, today: date) -> date:
        return today + timedelta(days=self.pay_days)


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who a letter comes from: the letterhead's unit and office, and the signature block."""

    unit: str
    office_address: str
    signatory_title: str
    signatory_name: str


ISSUER_FIELDS = ("issuing_unit", "office_address", "signatory_title", "signatory_name")


def default_issuer(settings: Settings) -> Issuer:
    return Issuer(
        settings.issuing_unit,
        settings.issuing_office,
        settings.signatory_title,
        settings.signatory_name,
    )


def issuer_of(jurisdiction: Jurisdiction | None, defaults: Issuer) -> Issuer:
    """The jurisdiction's own issuer, field by field; what it leaves unset, from settings."""
    if jurisdiction is None:
        return defaults
    return Issuer(
        jurisdiction.issuing_unit or defaults.unit,
        jurisdiction.office_address or defaults.office_address,
        jurisdiction.signatory_title or defaults.signatory_title,
        jurisdiction.signatory_name or defaults.signatory_name,
    )


def default_deadlines(settings: Settings) -> Deadlines:
    return Deadlines(settings.respond_days, settings.pay_days)


def deadlines_for(session: Session, camera_id: str, settings: Settings) -> Deadlines:
    code = session.scalar(select(Camera.jurisdiction_code).where(Camera.id == camera_id))
    if code is None:
        return default_deadlines(settings)
    jurisdiction = session.get_one(Jurisdiction, code)
    return Deadlines(jurisdiction.respond_days, jurisdiction.pay_days, jurisdiction.code)


def list_jurisdictions(session: Session) -> list[Jurisdiction]:
    return list(session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)))


def get_jurisdiction(session: Session, code: str) -> Jurisdiction:
    jurisdiction = session.get(Jurisdiction, code)
    if jurisdiction is None:
        raise NotFound(f"no jurisdiction {code!r}")
    return jurisdiction


def _days(value: int, what: str) -> int:
    if not 1 <= value <= MAX_DAYS:
        raise ValidationFailed(f"{what} must be between 1 and {MAX_DAYS} days")
    return value


def set_jurisdiction(
    session: Session,
    *,
    code: str,
    officer: Officer,
    name: str | None = None,
    respond_days: int | None = None,
    pay_days: int | None = None,
    issuer: dict[str, str] | None = None,
) -> tuple[Jurisdiction, bool]:
    """Create a jurisdiction or change some of its fields (administrators only); returns it
    and whether it is new."""
    require(officer, Permission.MANAGE_CATALOGUE)
    actor = officer.actor
    if not _CODE.match(code):
        raise ValidationFailed("jurisdiction code: capitals, digits, '-' or '_' (at most 32)")
    wanted: dict[str, object] = {}
    if name is not None:
        if not name.strip() or len(name) > 200:
            raise ValidationFailed("name must be 1-200 characters")
        wanted["name"] = name.strip()
    if respond_days is not None:
        wanted["respond_days"] = _days(respond_days, "respond_days")
    if pay_days is not None:
        wanted["pay_days"] = _days(pay_days, "pay_days")
    for field, value in (issuer or {}).items():
        if field not in ISSUER_FIELDS:
            raise ValidationFailed(f"unknown issuer field {field!r}")
        limit = 400 if field == "office_address" else 200
        text = " ".join(value.split())
        if len(text) > limit:
            raise ValidationFailed(f"{field} has at most {limit} characters")
        wanted[field] = text or None  # empty: back to the default from settings
    jurisdiction = session.get(Jurisdiction, code)
    if jurisdiction is None:
        missing = [f for f in ("name", "respond_days", "pay_days") if f not in wanted]
        if missing:
            raise ValidationFailed(f"a new jurisdiction needs {', '.join(missing)}")
        jurisdiction = Jurisdiction(code=code, **wanted)
        session.add(jurisdiction)
        session.flush()
        record(
            session,
            actor=actor,
            action="jurisdiction.created",
            entity_type="jurisdiction",
            entity_id=code,
            after=wanted,
        )
        return jurisdiction, True
    before = {f: getattr(jurisdiction, f) for f in wanted if getattr(jurisdiction, f) != wanted[f]}
    if before:
        for field in before:
            setattr(jurisdiction, field, wanted[field])
        session.flush()
        record(
            session,
            actor=actor,
            action="jurisdiction.updated",
            entity_type="jurisdiction",
            entity_id=code,
            before=before,
            after={f: wanted[f] for f in before},
        )
    return jurisdiction, False


def assign_camera(
    session: Session, *, camera_id: str, code: str | None, officer: Officer
) -> Camera:
    """Put a camera in a jurisdiction (None: back to the defaults from settings)."""
    require(officer, Permission.MANAGE_CATALOGUE)
    camera = get_camera(session, camera_id)
    if code is not None:
        get_jurisdiction(session, code)
    if camera.jurisdiction_code == code:
        return camera
    before = camera.jurisdiction_code
    camera.jurisdiction_code = code
    session.flush()
    record(
        session,
        actor=officer.actor,
        action="camera.jurisdiction_changed",
        entity_type="camera",
        entity_id=camera.id,
        before={"jurisdiction": before},
        after={"jurisdiction": code},
    )
    return camera
