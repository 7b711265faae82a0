"""Everything an officer needs to decide a case, gathered in one read.

The frame (by hash: the store re-checks it whenever the image is served), the plate as read
with the reader's per-slot confidence and alternatives, the registered plates it could also be,
the registry record of the vehicle (class, brand, colour: what the officer compares with the
picture), the flags, the camera and where it stands, the vehicle's earlier cases, the
service-level clock, and for a second confirmation who corrected what.

The owner's name and address are left out on purpose: the officer decides on the picture and
the vehicle, not on who the owner is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.config import ReviewSettings
from etle.cases.eligibility import Stage, latest_hand_over, stage_of
from etle.cases.manual_read import KEYED_MODEL, box_candidates
from etle.cases.models import (
    NO_PLATE,
    Case,
    CaseFrame,
    RejectReason,
    ReviewAction,
    ReviewDecision,
)
from etle.clock import format_local, utcnow
from etle.errors import ValidationFailed
from etle.frames.models import Frame, PlateRead
from etle.officers.access import Permission, allows
from etle.officers.models import Officer
from etle.plates import format_plate
from etle.registry.models import Vehicle
from etle.violations.models import ViolationType

EARLIER_LIMIT = 10
R = RejectReason
# The reasons that fit a case with a plate, and one whose plate no machine could read.
REASONS_WITH_PLATE = [
    R.UNREADABLE,
    R.NO_VIOLATION,
    R.EMERGENCY_VEHICLE,
    R.DUPLICATE,
    R.SUSPECTED_CLONED_PLATE,
    R.OTHER,
]
REASONS_WITHOUT_PLATE = [
    R.NO_VEHICLE,
    R.PLATE_NOT_VISIBLE,
    R.PLATE_COVERED,
    R.NO_VIOLATION,
    R.EMERGENCY_VEHICLE,
    R.DUPLICATE,
    R.OTHER,
]


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    captured_at: datetime
    due_at: datetime
    due_local: str
    hours_left: float
    at_risk: bool
    missed: bool


@dataclass(frozen=True, slots=True)
class ReadView:
    read_id: int
    frame_id: int
    text: str
    display: str
    confidence: float
    decision: str
    slot_confidence: list[float]
    candidates: list[dict[str, Any]]
    box: list[int]
    # Each character with the reader's probability for it (None where the reader gave none).
    slots: list[tuple[str, float | None]] = field(default_factory=list)
    keyed: bool = False  # an officer marked and keyed it (no machine confidence)


@dataclass(frozen=True, slots=True)
class RegistryView:
    plate: str
    display: str
    vehicle_class: str
    brand: str
    model: str
    colour: str
    year: int | None
    registration_valid_until: date | None


@dataclass(frozen=True, slots=True)
class CameraView:
    id: str
    name: str
    road: str
    address: str
    direction: str
    latitude: float | None
    longitude: float | None
    speed_limit_kmh: int | None
    timezone: str


@dataclass(frozen=True, slots=True)
class EarlierCase:
    case_id: int
    plate: str
    violation_code: str
    captured_at: datetime
    captured_local: str
    status: str


@dataclass(frozen=True, slots=True)
class HandOver:
    action: str
    officer: str
    plate_before: str | None
    plate_after: str | None
    note: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class CaseFile:
    case_id: int
    status: str
    stage: str
    plate: str
    plate_display: str
    violation_code: str
    violation_name_id: str
    violation_name_en: str
    legal_basis: str
    max_fine_rp: int
    flags: list[str]
    match_candidates: list[dict[str, Any]]
    captured_at: datetime
    captured_local: str
    frames: int
    measured_speed_kmh: float | None
    evidence_sha256: str
    frame_width: int
    frame_height: int
    read: ReadView | None
    registry: RegistryView | None
    camera: CameraView
    earlier_cases: list[EarlierCase]
    service_level: ServiceLevel
    lease_expires_at: datetime | None
    hand_over: HandOver | None
    actions: list[str]
    reject_reasons: list[str] = field(default_factory=lambda: [r.value for r in RejectReason])
    # A case that needs a plate: boxes to start from ({box, source, score[, text]}), best first.
    box_candidates: list[dict[str, Any]] = field(default_factory=list)


def display_plate(plate: str) -> str:
    try:
        return format_plate(plate)
    except ValidationFailed:
        return plate


def service_level(
    captured_at: datetime, settings: ReviewSettings, zone: str, now: datetime | None = None
) -> ServiceLevel:
    now = now or utcnow()
    due = captured_at + timedelta(days=settings.notice_target_days)
    left = (due - now).total_seconds() / 3600
    return ServiceLevel(
        captured_at=captured_at,
        due_at=due,
        due_local=format_local(due, zone),
        hours_left=round(left, 1),
        at_risk=0 <= left <= settings.at_risk_hours,
        missed=left < 0,
    )


def actions_for(officer: Officer, stage: Stage, *, has_plate: bool = True) -> list[str]:
    if has_plate:
        actions = [ReviewAction.CONFIRM, ReviewAction.CORRECT, ReviewAction.REJECT]
    else:
        actions = [ReviewAction.KEY, ReviewAction.REJECT]
    if stage is not Stage.ESCALATION:
        actions.append(ReviewAction.ESCALATE)
    if not allows(officer, Permission.REVIEW):
        return []
    return [a.value for a in actions]


def build_case_file(
    session: Session,
    case: Case,
    *,
    officer: Officer,
    settings: ReviewSettings,
    now: datetime | None = None,
) -> CaseFile:
    camera = session.get_one(Camera, case.camera_id)
    frame = session.get_one(Frame, case.evidence_frame_id)
    violation = session.get_one(ViolationType, case.violation_code)
    read = session.get(PlateRead, case.plate_read_id) if case.plate_read_id else None
    vehicle = session.get(Vehicle, case.vehicle_id) if case.vehicle_id else None
    stage = stage_of(case) or Stage.FIRST
    frames = session.scalar(
        select(func.count()).select_from(CaseFrame).where(CaseFrame.case_id == case.id)
    )
    handed = latest_hand_over(session, case) if stage is not Stage.FIRST else None
    has_plate = case.plate != NO_PLATE
    return CaseFile(
        case_id=case.id,
        status=case.status,
        stage=stage.value,
        plate=case.plate,
        plate_display=display_plate(case.plate),
        violation_code=violation.code,
        violation_name_id=violation.name_id,
        violation_name_en=violation.name_en,
        legal_basis=violation.legal_basis,
        max_fine_rp=violation.max_fine_rp,
        flags=list(case.flags),
        match_candidates=list(case.match_candidates),
        captured_at=case.first_captured_at,
        captured_local=format_local(frame.captured_at, camera.timezone),
        frames=frames or 1,
        measured_speed_kmh=frame.measured_speed_kmh,
        evidence_sha256=case.evidence_sha256,
        frame_width=frame.width,
        frame_height=frame.height,
        read=_read_view(read) if read else None,
        registry=_registry_view(vehicle) if vehicle else None,
        camera=CameraView(
            id=camera.id,
            name=camera.name,
            road=camera.road,
            address=camera.address,
            direction=camera.direction,
            latitude=camera.latitude,
            longitude=camera.longitude,
            speed_limit_kmh=camera.speed_limit_kmh,
            timezone=camera.timezone,
        ),
        earlier_cases=earlier_cases(session, case, camera.timezone),
        service_level=service_level(case.first_captured_at, settings, camera.timezone, now),
        lease_expires_at=case.lease_expires_at,
        hand_over=_hand_over_view(session, handed) if handed else None,
        actions=actions_for(officer, stage, has_plate=has_plate),
        reject_reasons=[r.value for r in REASONS_WITH_PLATE if has_plate]
        + [r.value for r in REASONS_WITHOUT_PLATE if not has_plate],
        box_candidates=[] if has_plate else box_candidates(case),
    )


def earlier_cases(session: Session, case: Case, zone: str) -> list[EarlierCase]:
    """The vehicle's other cases (same registered vehicle, or same plate), newest first."""
    if case.plate == NO_PLATE and case.vehicle_id is None:
        return []  # no plate yet: cases without one are not the same vehicle
    same = Case.plate == case.plate
    if case.vehicle_id is not None:
        same = or_(same, Case.vehicle_id == case.vehicle_id)
    rows = session.scalars(
        select(Case)
        .where(same, Case.id != case.id, Case.first_captured_at <= case.first_captured_at)
        .order_by(Case.first_captured_at.desc())
        .limit(EARLIER_LIMIT)
    )
    return [
        EarlierCase(
            case_id=c.id,
            plate=c.plate,
            violation_code=c.violation_code,
            captured_at=c.first_captured_at,
            captured_local=format_local(c.first_captured_at, zone),
            status=c.status,
        )
        for c in rows
    ]


def _read_view(read: PlateRead) -> ReadView:
    return ReadView(
        read_id=read.id,
        frame_id=read.frame_id,
        text=read.text,
        display=display_plate(read.text),
        confidence=read.confidence,
        decision=read.decision,
        slot_confidence=list(read.slot_confidence),
        candidates=list(read.candidates),
        box=list(read.box),
        slots=[
            (ch, read.slot_confidence[i] if i < len(read.slot_confidence) else None)
            for i, ch in enumerate(read.text)
        ],
        keyed=read.model == KEYED_MODEL,
    )


def _registry_view(vehicle: Vehicle) -> RegistryView:
    return RegistryView(
        plate=vehicle.plate,
        display=display_plate(vehicle.plate),
        vehicle_class=vehicle.vehicle_class,
        brand=vehicle.brand,
        model=vehicle.model,
        colour=vehicle.colour,
        year=vehicle.year,
        registration_valid_until=vehicle.registration_valid_until,
    )


def _hand_over_view(session: Session, decision: ReviewDecision) -> HandOver:
    officer = session.get_one(Officer, decision.officer_id)
    return HandOver(
        action=decision.action,
        officer=officer.username,
        plate_before=decision.plate_before,
        plate_after=decision.corrected_plate,
        note=decision.reason_text,
        decided_at=decision.decided_at,
    )
