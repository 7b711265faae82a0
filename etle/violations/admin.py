"""Editing the violation catalogue: administrators only, every change audited before/after.

Codes are never deleted (cases and frames refer to them); a code that should no longer be
reported is deactivated, which makes cameras' new frames with it fail validation.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.errors import ValidationFailed
from etle.officers.access import Permission, require
from etle.officers.models import Officer
from etle.violations.models import ViolationType

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_FINE_RP = 100_000_000  # far above any fine in UU 22/2009; catches a typo'd extra zero
FIELDS = ("name_id", "name_en", "legal_basis", "max_fine_rp", "active")


def list_violations(session: Session, *, include_inactive: bool = True) -> list[ViolationType]:
    query = select(ViolationType).order_by(ViolationType.code)
    if not include_inactive:
        query = query.where(ViolationType.active.is_(True))
    return list(session.scalars(query))


def as_dict(violation: ViolationType) -> dict[str, Any]:
    return {"code": violation.code, **{f: getattr(violation, f) for f in FIELDS}}


def _checked(changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if value is None:
            continue
        if field in ("name_id", "name_en", "legal_basis"):
            text = str(value).strip()
            if not text or len(text) > 200:
                raise ValidationFailed(f"{field} must be 1-200 characters")
            clean[field] = text
        elif field == "max_fine_rp":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationFailed("max_fine_rp is whole rupiah")
            if not 0 < value <= MAX_FINE_RP:
                raise ValidationFailed(f"max_fine_rp must be between 1 and {MAX_FINE_RP:,}")
            clean[field] = value
        elif field == "active":
            clean[field] = bool(value)
        else:
            raise ValidationFailed(f"unknown field {field!r}")
    return clean


def set_violation(
    session: Session,
    *,
    code: str,
    officer: Officer,
    name_id: str | None = None,
    name_en: str | None = None,
    legal_basis: str | None = None,
    max_fine_rp: int | None = None,
    active: bool | None = None,
) -> tuple[ViolationType, bool]:
    """Create a violation type or change some of its fields (administrators only).

    Returns the row and whether anything changed. Nothing is written when nothing differs.
    """
    require(officer, Permission.MANAGE_CATALOGUE)
    changes = _checked(
        {
            "name_id": name_id,
            "name_en": name_en,
            "legal_basis": legal_basis,
            "max_fine_rp": max_fine_rp,
            "active": active,
        }
    )
    violation = session.get(ViolationType, code)
    if violation is None:
        if not _CODE.match(code):
            raise ValidationFailed("code: lower-case letters, digits and '_' (at most 32)")
        missing = [f for f in FIELDS if f != "active" and f not in changes]
        if missing:
            raise ValidationFailed(f"a new violation type needs {', '.join(missing)}")
        violation = ViolationType(code=code, active=changes.pop("active", True), **changes)
        session.add(violation)
        session.flush()
        record(
            session,
            actor=officer.actor,
            action="catalogue.create",
            entity_type="violation_type",
            entity_id=code,
            after=as_dict(violation),
        )
        return violation, True
    differ = {f: v for f, v in changes.items() if getattr(violation, f) != v}
    if not differ:
        return violation, False
    before = {f: getattr(violation, f) for f in differ}
    for field, value in differ.items():
        setattr(violation, field, value)
    session.flush()
    record(
        session,
        actor=officer.actor,
        action="catalogue.update",
        entity_type="violation_type",
        entity_id=code,
        before=before,
        after=differ,
    )
    return violation, True
