"""Answers to a notice from the portal, each audited and each moving the case through the
lifecycle (`etle.cases.transitions`):

* **I was driving** / **someone else was driving** (name, NIK, address): notice_sent →
  owner_responded → payment_issued; the payment code and amount come back at once.
* **The vehicle was sold** (buyer, day of sale): the sale goes into the registry and the case
  moves to the buyer with a fresh notice (`etle.cases.responses.respond_vehicle_sold`).
* **This is not my vehicle** (suspected cloned plate, with a photo of the owner's own vehicle,
  already checked and stored in the evidence store by the caller): the case is flagged
  suspected_clone and goes back to a supervisor (owner_responded → escalated).

Every answer is a `CaseResponse` row plus a `portal.response` audit event naming the notice,
the channel, a keyed hash of the client address and a SHA-256 of the details (so the stored
details are tamper-evident while the chain holds no NIK).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from etle.audit.chain import jsonable, record
from etle.cameras.models import Camera
from etle.cases.flags import add_flags
from etle.cases.models import CaseFlag, CaseStatus
from etle.cases.responses import OwnerResponse, record_owner_response, respond_vehicle_sold
from etle.cases.transitions import transition
from etle.clock import local, utcnow
from etle.errors import Conflict, ValidationFailed
from etle.notices.models import Notice
from etle.payments.config import PaymentSettings
from etle.payments.models import Payment
from etle.payments.service import issue_payment_code
from etle.portal.models import CaseResponse, ResponseKind
from etle.portal.view import Opened
from etle.registry.rows import (
    OwnerDetails,
    normalise_phone,
    split_address,
    validate_email,
    validate_nik,
    validate_postcode,
)


class PortalInputError(ValidationFailed):
    """A form field a citizen must fix; `detail` names the field and a code the pages word."""

    def __init__(self, message: str, *, field: str, code: str) -> None:
        super().__init__(message, detail={"field": field, "code": code})


class NotOpenForAnswers(Conflict):
    error = "already_answered"


@dataclass(frozen=True, slots=True)
class Citizen:
    """Who answered, as far as the audit trail needs: the channel and a keyed hash of the
    client address (enough to link answers from one place, not to name anyone)."""

    channel: str  # web | api
    client: str


def actor_for(notice: Notice) -> str:
    return f"citizen:notice:{notice.notice_number}"


def _text(value: str | None, *, field: str, low: int, high: int, code: str) -> str:
    text = " ".join((value or "").split())
    if not low <= len(text) <= high:
        raise PortalInputError(
            f"{field} must be {low} to {high} characters", field=field, code=code
        )
    return text


def _nik(value: str | None, field: str = "nik") -> str:
    try:
        return validate_nik((value or "").strip())
    except ValidationFailed as exc:
        raise PortalInputError(exc.message, field=field, code="nik_invalid") from exc


@dataclass(frozen=True, slots=True)
class Driver:
    name: str
    nik: str
    address: str

    @classmethod
    def checked(cls, name: str | None, nik: str | None, address: str | None) -> Driver:
        return cls(
            name=_text(name, field="name", low=2, high=200, code="name_invalid"),
            nik=_nik(nik),
            address=_text(address, field="address", low=5, high=400, code="address_invalid"),
        )


def buyer_details(
    *,
    name: str | None,
    nik: str | None,
    address: str | None,
    postcode: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> OwnerDetails:
    """The buyer, validated like a registry row (NIK required here: it identifies the buyer)."""
    fields: dict[str, Any] = {}
    for field, value, check in (
        ("postcode", postcode, validate_postcode),
        ("phone", phone, normalise_phone),
        ("email", email, validate_email),
    ):
        value = (value or "").strip()
        try:
            fields[field] = check(value) if value else None
        except ValidationFailed as exc:
            raise PortalInputError(exc.message, field=field, code=f"{field}_invalid") from exc
    line = _text(address, field="buyer_address", low=5, high=400, code="address_invalid")
    street, district, city = split_address(line)
    return OwnerDetails(
        name=_text(name, field="buyer_name", low=2, high=200, code="name_invalid"),
        nik=_nik(nik, "buyer_nik"),
        address=line,
        postcode=fields["postcode"] or "",
        email=fields["email"],
        phone=fields["phone"],
        street=street[:200],
        district=district[:100],
        city=city[:100],
    )


def _open_for_answers(opened: Opened) -> None:
    if opened.transferred or CaseStatus(opened.case.status) is not CaseStatus.NOTICE_SENT:
        raise NotOpenForAnswers(
            "this notice has been answered already or is no longer open for answers",
            detail={"code": "already_answered"},
        )


def _digest(details: dict[str, Any]) -> str:
    canonical = json.dumps(jsonable(details), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _keep(
    session: Session,
    opened: Opened,
    kind: ResponseKind,
    citizen: Citizen,
    details: dict[str, Any],
    **columns: Any,
) -> CaseResponse:
    row = CaseResponse(
        case_id=opened.case.id,
        notice_id=opened.notice.id,
        kind=kind,
        channel=citizen.channel,
        details_sha256=_digest({"kind": kind.value, **details}),
        responded_at=utcnow(),
        **columns,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor_for(opened.notice),
        action="portal.response",
        entity_type="case",
        entity_id=opened.case.id,
        after={
            "response_id": row.id,
            "kind": kind.value,
            "notice_number": opened.notice.notice_number,
            "channel": citizen.channel,
            "client": citizen.client,
            "details_sha256": row.details_sha256,
        },
    )
    return row


def respond_driver(
    session: Session,
    *,
    opened: Opened,
    driver: Driver | None,
    citizen: Citizen,
    settings: PaymentSettings,
) -> Payment:
    """The owner drove (`driver` None) or names who did; the payment code follows at once."""
    _open_for_answers(opened)
    if driver is None:
        row = _keep(session, opened, ResponseKind.DRIVER_SELF, citizen, {})
    else:
        row = _keep(
            session,
            opened,
            ResponseKind.DRIVER_OTHER,
            citizen,
            {"name": driver.name, "nik": driver.nik, "address": driver.address},
            driver_name=driver.name,
            driver_nik=driver.nik,
            driver_address=driver.address,
        )
    actor = actor_for(opened.notice)
    record_owner_response(
        session,
        case=opened.case,
        response=OwnerResponse.DRIVER_NAMED,
        actor=actor,
        details={"response_id": row.id, "driver": "owner" if driver is None else "other"},
    )
    return issue_payment_code(
        session, case=opened.case, notice=opened.notice, settings=settings, actor=actor
    )


def respond_sold(
    session: Session,
    *,
    opened: Opened,
    buyer: OwnerDetails,
    sold_on: date,
    citizen: Citizen,
    settings: PaymentSettings,
) -> Notice:
    """The vehicle was sold before the violation: the buyer gets a fresh notice."""
    _open_for_answers(opened)
    case = opened.case
    zone = session.get_one(Camera, case.camera_id).timezone
    if sold_on > local(utcnow(), zone).date():
        raise PortalInputError("the day of sale is in the future", field="sold_on", code="sold_on")
    if sold_on > local(case.first_captured_at, zone).date():
        raise PortalInputError(
            "the vehicle was sold after the violation: the owner at the time remains responsible",
            field="sold_on",
            code="sold_after_violation",
        )
    details = {"buyer": buyer._asdict(), "sold_on": sold_on}
    row = _keep(session, opened, ResponseKind.VEHICLE_SOLD, citizen, details, sold_on=sold_on)
    notice = respond_vehicle_sold(
        session,
        case=case,
        buyer=buyer,
        sold_on=sold_on,
        actor=actor_for(opened.notice),
        settings=settings,
    )
    row.buyer_owner_id = case.owner_id
    session.flush()
    return notice


def respond_not_mine(
    session: Session,
    *,
    opened: Opened,
    photo_sha256: str,
    content_type: str,
    note: str | None,
    citizen: Citizen,
) -> CaseResponse:
    """Suspected cloned plate: the owner's photo of their own vehicle (already checked like a
    camera frame and stored by hash) goes with the case back to a supervisor."""
    _open_for_answers(opened)
    case = opened.case
    text = " ".join((note or "").split()) or None
    if text is not None and len(text) > 500:
        raise PortalInputError("the note has at most 500 characters", field="note", code="note")
    row = _keep(
        session,
        opened,
        ResponseKind.NOT_MY_VEHICLE,
        citizen,
        {"photo_sha256": photo_sha256, "note": text},
        photo_sha256=photo_sha256,
        photo_content_type=content_type,
        note=text,
    )
    actor = actor_for(opened.notice)
    record_owner_response(
        session,
        case=case,
        response=OwnerResponse.DISPUTED,
        actor=actor,
        details={"response_id": row.id, "dispute": "not_my_vehicle"},
    )
    add_flags(
        session,
        case,
        [CaseFlag.SUSPECTED_CLONE],
        actor=actor,
        details={
            CaseFlag.SUSPECTED_CLONE: {
                "source": "owner_report",
                "response_id": row.id,
                "owner_photo_sha256": photo_sha256,
            }
        },
    )
    transition(
        session,
        case,
        CaseStatus.ESCALATED,
        actor=actor,
        reason="owner reports a cloned plate: not my vehicle",
        details={"response_id": row.id},
    )
    case.due_on = None  # no deadline runs while a supervisor looks at it
    session.flush()
    return row
