"""Cases the machine could not read: opened without a plate, read by an officer.

A violation frame whose plate the detector did not find, or found but could not read, still
opens a case (invariant 8: nothing vanishes unread). It waits in `needs_plate`, flagged with
why, together with the boxes an officer may start from: the unreadable reads and the
detector's low-score boxes.

The officer marks the plate's box on the evidence and keys its text. That *proposes* a plate
exactly as a correction does: the case goes to a second officer (`pending_second_review`) and
no notice can come from it until someone other than the officer who keyed it confirms
(invariant 9, etle.cases.eligibility). Or the officer rejects it with a reason: no vehicle,
plate not visible, plate covered or removed (see `etle.cases.review.reject`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.decisions import audit_decision, decision_row
from etle.cases.eligibility import Stage, check_may_decide
from etle.cases.flags import add_flags
from etle.cases.matching import match_plate
from etle.cases.models import (
    NO_PLATE,
    Case,
    CaseFlag,
    CaseFrame,
    CaseStatus,
    ReviewAction,
    ReviewDecision,
)
from etle.cases.opening import open_case
from etle.cases.transitions import transition
from etle.clock import local
from etle.config import Settings
from etle.errors import Conflict, ValidationFailed
from etle.frames.models import Frame, PlateRead, ReadDecision
from etle.officers.models import Officer
from etle.plates import normalise_plate
from etle.registry.backend import registry_for

# The `model` of a plate read an officer keyed by hand (not a machine's reading).
KEYED_MODEL = "keyed"
# Smaller than this (pixels) a box is a slip of the mouse or key, not a plate.
MIN_BOX_SIDE = 4
# The candidate boxes an officer is offered at most.
MAX_CANDIDATES = 8


def open_without_plate(
    session: Session,
    *,
    frame: Frame,
    violation_code: str,
    reads: Sequence[PlateRead],
    weak_boxes: Sequence[tuple[Sequence[float], float]],
    extra_flags: list[CaseFlag],
    actor: str,
) -> Case:
    """Open a `needs_plate` case on a violation frame with no readable plate.

    `reads` are the frame's (unreadable) reads, nearest plate first; `weak_boxes` the
    detector's boxes that scored below its threshold. Both are offered to the officer.
    """
    candidates: list[dict[str, Any]] = [
        {"box": list(r.box), "source": "read", "text": r.text, "score": r.confidence} for r in reads
    ]
    candidates += [
        {"box": [int(v) for v in box], "source": "detector", "score": round(score, 4)}
        for box, score in weak_boxes
    ]
    flag = CaseFlag.PLATE_UNREADABLE if reads else CaseFlag.NO_PLATE_FOUND
    flags = list(dict.fromkeys([flag, *extra_flags]))
    case = Case(
        status=CaseStatus.CAPTURED,
        plate=NO_PLATE,
        camera_id=frame.camera_id,
        violation_code=violation_code,
        first_captured_at=frame.captured_at,
        last_captured_at=frame.captured_at,
        evidence_frame_id=frame.id,
        evidence_sha256=frame.sha256,
        flags=[f.value for f in flags],
        flag_details={
            flag.value: [{"frame_id": frame.id, "candidates": candidates[:MAX_CANDIDATES]}]
        },
        match_candidates=[],
    )
    open_case(session, case, frame, read_id=None, actor=actor)
    transition(session, case, CaseStatus.NEEDS_PLATE, actor=actor, reason=flag.value)
    return case


def box_candidates(case: Case) -> list[dict[str, Any]]:
    """The boxes an officer may start from, most likely first: the reads the machine could not
    finish, then the detector's low-score boxes."""
    details = case.flag_details or {}
    out: list[dict[str, Any]] = []
    for flag in (CaseFlag.PLATE_UNREADABLE.value, CaseFlag.NO_PLATE_FOUND.value):
        for entry in details.get(flag, []):
            out += entry.get("candidates", [])
    return out[:MAX_CANDIDATES]


def key_plate(
    session: Session,
    *,
    case: Case,
    officer: Officer,
    plate: str,
    box: Sequence[int] | None,
    settings: Settings,
) -> ReviewDecision:
    """The officer marks the plate's box on the evidence frame and keys its text; the case goes
    to a second officer."""
    stage = check_may_decide(session, case, officer)
    if case.plate != NO_PLATE:
        raise Conflict(f"case {case.id} already has a plate: confirm or correct it")
    if stage not in (Stage.PLATE, Stage.ESCALATION):
        raise Conflict(f"case {case.id} is {case.status}: there is no plate to key")
    frame = session.get_one(Frame, case.evidence_frame_id)
    marked = checked_box(box, frame.width, frame.height)
    new_plate = normalise_plate(plate)
    camera = session.get_one(Camera, case.camera_id)
    match = match_plate(
        registry_for(session, settings),
        plate=new_plate,
        on=local(case.first_captured_at, camera.timezone).date(),
    )
    row = decision_row(session, case, officer, ReviewAction.KEY, corrected_plate=new_plate)
    if stage is Stage.ESCALATION:
        transition(session, case, CaseStatus.NEEDS_PLATE, actor=officer.actor, reason="plate keyed")
    read = _keyed_read(session, frame, marked, new_plate)
    # The evidence frame joined its case without a read; it now has one.
    session.execute(
        update(CaseFrame)
        .where(
            CaseFrame.case_id == case.id,
            CaseFrame.frame_id == frame.id,
            CaseFrame.plate_read_id.is_(None),
        )
        .values(plate_read_id=read.id)
    )
    case.plate = new_plate
    case.plate_read_id = read.id
    case.vehicle_id = match.record.vehicle_id if match.record else None
    case.owner_id = match.record.owner_id if match.record else None
    case.match_candidates = match.candidates
    session.flush()
    add_flags(session, case, match.flags, actor=officer.actor, details=match.details)
    transition(
        session,
        case,
        CaseStatus.PENDING_SECOND_REVIEW,
        actor=officer.actor,
        reason="plate keyed",
        details={"plate": new_plate, "box": marked},
    )
    audit_decision(session, row, case, officer, extra={"box": marked, "plate_read_id": read.id})
    return row


def checked_box(box: Sequence[int] | None, width: int, height: int) -> list[int]:
    """[x1, y1, x2, y2] in the frame's pixels, or ValidationFailed saying what is wrong."""
    if box is None:
        raise ValidationFailed("mark the plate: a box [x1, y1, x2, y2] on the evidence frame")
    if len(box) != 4:
        raise ValidationFailed("a box is four numbers: [x1, y1, x2, y2]")
    x1, y1, x2, y2 = (int(v) for v in box)
    if min(x1, y1) < 0 or x2 > width or y2 > height:
        raise ValidationFailed(f"the box lies outside the {width}x{height} frame")
    if x2 - x1 < MIN_BOX_SIDE or y2 - y1 < MIN_BOX_SIDE:
        raise ValidationFailed(
            f"the box must be at least {MIN_BOX_SIDE} pixels wide and high, with x1 < x2, y1 < y2"
        )
    return [x1, y1, x2, y2]


def _keyed_read(session: Session, frame: Frame, box: list[int], plate: str) -> PlateRead:
    index = session.scalar(
        select(func.coalesce(func.max(PlateRead.index), -1)).where(PlateRead.frame_id == frame.id)
    )
    read = PlateRead(
        frame_id=frame.id,
        index=int(index if index is not None else -1) + 1,
        box=box,
        text=plate,
        # No machine confidence: an officer read it, and a second officer must confirm it.
        confidence=0.0,
        decision=ReadDecision.REVIEW,
        candidates=[],
        slot_confidence=[],
        model=KEYED_MODEL,
    )
    session.add(read)
    session.flush()
    return read
