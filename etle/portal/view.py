"""What the public notice page shows, and nothing more.

Think of someone who found the letter in the street: they learn what the letter already says
about the violation (plate, time, place, violation, amount) and the case's progress, but the
owner's and any named driver's names only masked (`B*** S******`), and never an address, a NIK,
a phone number or an email. Other vehicles' plates are blurred on the photo (`photo.py`).

The case is seen through one owner (the one the grant names): a case that moved to a buyer is
shown to the seller as "passed to the new owner", and its timeline stops there; the buyer's
timeline starts at the buyer's own notice. Officers' names, internal review steps and reasons
never appear: the timeline has public steps only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.models import AuditEvent
from etle.cameras.models import Camera
from etle.cases.models import Case, CaseStatus
from etle.clock import format_local, zone_label
from etle.notices.models import Notice
from etle.payments.codes import format_code
from etle.payments.models import Payment, PaymentStatus
from etle.payments.service import LATE, payment_of
from etle.plates import format_plate
from etle.portal.grants import Grant
from etle.portal.lookup import NoMatch
from etle.portal.models import CaseResponse, ResponseKind
from etle.registry.models import Vehicle
from etle.violations.models import ViolationType

S = CaseStatus
# Public status of a case, by its lifecycle status.
PUBLIC_STATUS: dict[CaseStatus, str] = {
    S.CAPTURED: "under_review",
    S.PENDING_REVIEW: "under_review",
    S.PENDING_SECOND_REVIEW: "under_review",
    S.ESCALATED: "under_review",
    S.CONFIRMED: "under_review",
    S.NOTICE_SENT: "awaiting_response",
    S.OWNER_RESPONDED: "response_received",
    S.PAYMENT_ISSUED: "awaiting_payment",
    S.OVERDUE: "overdue",
    S.REGISTRATION_BLOCKED: "registration_blocked",
    S.PAID: "paid",
    S.CLOSED: "paid",
    S.REJECTED: "cancelled",
    S.VOID: "cancelled",
}
# Timeline steps, by the status a transition reached; internal review steps are left out.
TIMELINE_STEP: dict[str, str] = {
    S.CONFIRMED: "confirmed",
    S.NOTICE_SENT: "notice_sent",
    S.OWNER_RESPONDED: "response_received",
    S.ESCALATED: "under_review",
    S.PAYMENT_ISSUED: "payment_issued",
    S.OVERDUE: "overdue",
    S.REGISTRATION_BLOCKED: "registration_blocked",
    S.PAID: "paid",
    S.CLOSED: "closed",
    S.REJECTED: "cancelled",
    S.VOID: "cancelled",
}


def mask_name(name: str) -> str:
    """`Budi Santoso` → `B*** S******`: enough for the owner to recognise, little for others."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())


@dataclass(frozen=True, slots=True)
class Opened:
    """A case as one owner may see it."""

    case: Case
    notice: Notice  # the notice shown: the case's current one, or this owner's last one
    owner_id: int
    transferred: bool  # the case moved to another owner since


def current_notice(session: Session, case_id: int) -> Notice:
    """The case's newest notice (a sale or a rejected dispute issues another)."""
    notice = session.scalars(
        select(Notice).where(Notice.case_id == case_id).order_by(Notice.issue.desc()).limit(1)
    ).first()
    if notice is None:
        raise NoMatch()
    return notice


def open_notice(session: Session, grant: Grant, notice_number: str) -> Opened:
    """The case behind `notice_number`, if the grant opens it; the same miss as a lookup if not
    (a grant never tells whether another notice number exists)."""
    asked = session.scalar(select(Notice).where(Notice.notice_number == notice_number))
    owner_id = grant.owner_for(asked.case_id) if asked is not None else None
    if asked is None or owner_id is None:
        raise NoMatch()
    case = session.get_one(Case, asked.case_id)
    current = current_notice(session, case.id)
    if current.owner_id == owner_id:
        return Opened(case, current, owner_id, transferred=False)
    own = session.scalars(
        select(Notice)
        .where(Notice.case_id == case.id, Notice.owner_id == owner_id)
        .order_by(Notice.issue.desc())
        .limit(1)
    ).first()
    if own is None:  # a grant for an owner this case never addressed (a sale since lookup)
        raise NoMatch()
    return Opened(case, own, owner_id, transferred=True)


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    at: datetime
    at_text: str


@dataclass(frozen=True, slots=True)
class PaymentView:
    code: str
    code_display: str
    amount_rp: int
    pay_by: date | None
    paid: bool
    paid_at_text: str | None
    transaction_id: str | None
    receipt: bool


@dataclass(frozen=True, slots=True)
class ResponseView:
    kind: str
    at_text: str
    driver: str | None  # masked


@dataclass(frozen=True, slots=True)
class NoticeView:
    notice_number: str
    transferred: bool
    status: str  # public status key (PUBLIC_STATUS), or "transferred"
    plate: str
    vehicle: str
    addressed_to: str  # masked
    captured_at: datetime
    captured_at_text: str
    zone: str
    place: str
    camera: str
    violation_id: str
    violation_en: str
    legal_basis: str
    amount_rp: int
    issued_at: datetime
    respond_by: date
    can_respond: bool
    can_dispute: bool
    can_pay_late: bool
    has_plate_crop: bool
    evidence_sha256: str
    payment: PaymentView | None
    response: ResponseView | None
    timeline: list[Step] = field(default_factory=list)
    # Speeding: what the camera measured and the limit, as on the letter; None otherwise.
    measured_speed_kmh: float | None = None
    speed_limit_kmh: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "notice_number": self.notice_number,
            "status": self.status,
            "transferred": self.transferred,
            "plate": self.plate,
            "vehicle": self.vehicle,
            "addressed_to": self.addressed_to,
            "captured_at": self.captured_at.isoformat(),
            "captured_at_local": self.captured_at_text,
            "place": self.place,
            "camera": self.camera,
            "violation": {"id": self.violation_id, "en": self.violation_en},
            "legal_basis": self.legal_basis,
            "measured_speed_kmh": self.measured_speed_kmh,
            "speed_limit_kmh": self.speed_limit_kmh,
            "amount_rp": self.amount_rp,
            "issued_at": self.issued_at.isoformat(),
            "respond_by": self.respond_by.isoformat(),
            "can_respond": self.can_respond,
            "can_dispute": self.can_dispute,
            "can_pay_late": self.can_pay_late,
            "evidence_sha256": self.evidence_sha256,
            "payment": None
            if self.payment is None
            else {
                "payment_code": self.payment.code,
                "amount_rp": self.payment.amount_rp,
                "pay_by": self.payment.pay_by.isoformat() if self.payment.pay_by else None,
                "paid": self.payment.paid,
                "paid_at_local": self.payment.paid_at_text,
                "receipt": self.payment.receipt,
            },
            "response": None
            if self.response is None
            else {"kind": self.response.kind, "at_local": self.response.at_text},
            "timeline": [{"step": s.key, "at": s.at.isoformat()} for s in self.timeline],
        }


def build_view(session: Session, opened: Opened) -> NoticeView:
    case, notice = opened.case, opened.notice
    camera = session.get_one(Camera, case.camera_id)
    violation = session.get_one(ViolationType, case.violation_code)
    vehicle = session.get(Vehicle, case.vehicle_id) if case.vehicle_id else None
    payment = None if opened.transferred else payment_of(session, case.id)
    response = _response(session, opened, camera.timezone)
    status = CaseStatus(case.status)
    disputed_before = session.scalar(
        select(CaseResponse.id).where(
            CaseResponse.case_id == case.id,
            CaseResponse.kind == ResponseKind.NOT_MY_VEHICLE.value,
        )
    )
    open_for_answer = not opened.transferred and status is S.NOTICE_SENT
    return NoticeView(
        notice_number=notice.notice_number,
        transferred=opened.transferred,
        status="transferred" if opened.transferred else PUBLIC_STATUS[status],
        plate=format_plate(case.plate),
        vehicle=", ".join(
            part for part in (vehicle.brand, vehicle.model, vehicle.colour) if vehicle and part
        )
        if vehicle
        else "",
        addressed_to=mask_name(notice.recipient_name),
        captured_at=case.first_captured_at,
        captured_at_text=format_local(case.first_captured_at, camera.timezone),
        zone=zone_label(camera.timezone),
        place=camera.place,
        camera=camera.name,
        violation_id=violation.name_id,
        violation_en=violation.name_en,
        legal_basis=violation.legal_basis,
        amount_rp=payment.amount_rp if payment else violation.max_fine_rp,
        issued_at=notice.issued_at,
        respond_by=notice.respond_by,
        can_respond=open_for_answer,
        can_dispute=open_for_answer and disputed_before is None,
        can_pay_late=not opened.transferred and status in LATE and payment is None,
        has_plate_crop=case.plate_read_id is not None,
        evidence_sha256=case.evidence_sha256,
        payment=_payment(payment, camera.timezone),
        response=response,
        timeline=timeline(session, opened, camera.timezone),
        measured_speed_kmh=notice.measured_speed_kmh,
        speed_limit_kmh=notice.speed_limit_kmh,
    )


def _payment(payment: Payment | None, zone: str) -> PaymentView | None:
    if payment is None:
        return None
    paid = payment.status == PaymentStatus.PAID
    return PaymentView(
        code=payment.payment_code,
        code_display=format_code(payment.payment_code),
        amount_rp=payment.amount_rp,
        pay_by=payment.pay_by,
        paid=paid,
        paid_at_text=format_local(payment.paid_at, zone) if payment.paid_at else None,
        transaction_id=payment.bank_transaction_id if paid else None,
        receipt=payment.receipt_sha256 is not None,
    )


def _response(session: Session, opened: Opened, zone: str) -> ResponseView | None:
    own_notices = select(Notice.id).where(
        Notice.case_id == opened.case.id, Notice.owner_id == opened.owner_id
    )
    row = session.scalars(
        select(CaseResponse)
        .where(CaseResponse.case_id == opened.case.id, CaseResponse.notice_id.in_(own_notices))
        .order_by(CaseResponse.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return ResponseView(
        kind=row.kind,
        at_text=format_local(row.responded_at, zone),
        driver=mask_name(row.driver_name) if row.driver_name else None,
    )


def timeline(session: Session, opened: Opened, zone: str) -> list[Step]:
    """Public steps of the case while it was this owner's: from the first notice to them until
    a notice went to someone else (then one step: passed to the new owner)."""
    case = opened.case
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == "case",
            AuditEvent.entity_id == str(case.id),
            AuditEvent.action.in_(("case.transition", "notice.issued")),
        )
        .order_by(AuditEvent.seq)
    ).all()
    steps = [Step("captured", case.first_captured_at, format_local(case.first_captured_at, zone))]
    confirmed = next(
        (e for e in events if e.action == "case.transition" and _status(e) == S.CONFIRMED), None
    )
    if confirmed is not None:
        steps.append(_step("confirmed", confirmed, zone))
    mine = False
    for event in events:
        if event.action == "notice.issued":
            to_owner = (event.after or {}).get("owner_id")
            if to_owner == opened.owner_id:
                mine = True
            elif mine:
                steps.append(_step("transferred", event, zone))
                break
            continue
        if not mine:
            continue
        key = TIMELINE_STEP.get(_status(event))
        if key is None or key == "confirmed" or key == steps[-1].key:
            continue
        steps.append(_step(key, event, zone))
    return steps


def _status(event: AuditEvent) -> str:
    return str((event.after or {}).get("status", ""))


def _step(key: str, event: AuditEvent, zone: str) -> Step:
    return Step(key, event.occurred_at, format_local(event.occurred_at, zone))
