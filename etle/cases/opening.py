"""Opening cases from plate reads, and joining repeat frames to an open case.

Frames of the same plate, camera and violation within the configured window are one violation
(a camera often sends a burst). The case key is locked for the rest of the transaction so two
workers handling two frames of one burst cannot open two cases.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import jsonable, record
from etle.cases.flags import add_flags
from etle.cases.matching import MatchResult
from etle.cases.models import Case, CaseFlag, CaseFrame, CaseStatus
from etle.cases.transitions import TERMINAL, transition
from etle.db import lock_key
from etle.frames.models import Frame, PlateRead


def open_or_join(
    session: Session,
    *,
    frame: Frame,
    read: PlateRead,
    violation_code: str,
    match: MatchResult,
    extra_flags: list[CaseFlag],
    window_seconds: int,
    actor: str,
) -> tuple[Case, bool]:
    """Return the case this read belongs to and whether it was opened now."""
    linked = session.scalar(select(CaseFrame).where(CaseFrame.plate_read_id == read.id))
    if linked is not None:  # this read was already handled (a job that ran twice)
        return session.get_one(Case, linked.case_id), False

    lock_key(session, f"case:{match.plate}:{frame.camera_id}:{violation_code}")
    window = timedelta(seconds=window_seconds)
    case = session.scalar(
        select(Case)
        .where(
            Case.plate == match.plate,
            Case.camera_id == frame.camera_id,
            Case.violation_code == violation_code,
            Case.status.not_in([s.value for s in TERMINAL]),
            Case.last_captured_at >= frame.captured_at - window,
            Case.first_captured_at <= frame.captured_at + window,
        )
        .order_by(Case.first_captured_at)
        .limit(1)
    )
    if case is not None:
        case.first_captured_at = min(case.first_captured_at, frame.captured_at)
        case.last_captured_at = max(case.last_captured_at, frame.captured_at)
        session.add(
            CaseFrame(
                case_id=case.id,
                frame_id=frame.id,
                plate_read_id=read.id,
                captured_at=frame.captured_at,
            )
        )
        session.flush()
        record(
            session,
            actor=actor,
            action="case.frame_joined",
            entity_type="case",
            entity_id=case.id,
            after={"frame_id": frame.id, "plate_read_id": read.id},
        )
        # What this frame shows (e.g. the camera saw another class of vehicle) counts too.
        add_flags(session, case, [*match.flags, *extra_flags], actor=actor, details=match.details)
        return case, False

    flags = list(dict.fromkeys([*match.flags, *extra_flags]))
    case = Case(
        status=CaseStatus.CAPTURED,
        plate=match.plate,
        camera_id=frame.camera_id,
        violation_code=violation_code,
        vehicle_id=match.record.vehicle_id if match.record else None,
        owner_id=match.record.owner_id if match.record else None,
        first_captured_at=frame.captured_at,
        last_captured_at=frame.captured_at,
        evidence_frame_id=frame.id,
        evidence_sha256=frame.sha256,
        plate_read_id=read.id,
        flags=[f.value for f in flags],
        flag_details={flag.value: [jsonable(d)] for flag, d in match.details.items()} or None,
        match_candidates=match.candidates,
    )
    open_case(session, case, frame, read_id=read.id, actor=actor)
    transition(session, case, CaseStatus.PENDING_REVIEW, actor=actor)
    return case, True


def open_case(
    session: Session, case: Case, frame: Frame, *, read_id: int | None, actor: str
) -> None:
    """Store a new case (status captured) with its first frame, and audit its opening."""
    session.add(case)
    session.flush()
    session.add(
        CaseFrame(
            case_id=case.id, frame_id=frame.id, plate_read_id=read_id, captured_at=frame.captured_at
        )
    )
    record(
        session,
        actor=actor,
        action="case.opened",
        entity_type="case",
        entity_id=case.id,
        after={
            "status": CaseStatus.CAPTURED.value,
            "plate": case.plate or None,
            "camera_id": case.camera_id,
            "violation_code": case.violation_code,
            "frame_id": frame.id,
            "evidence_sha256": frame.sha256,
            "flags": case.flags,
        },
    )
