"""Registration blocks: placed on a vehicle for one overdue case, lifted when it is settled."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.models import Case
from etle.clock import utcnow
from etle.errors import Conflict
from etle.escalation.models import RegistrationBlock


def place_block(session: Session, case: Case, *, actor: str) -> RegistrationBlock:
    if case.vehicle_id is None:
        raise Conflict(f"case {case.id} has no registered vehicle to block")
    existing = session.scalar(select(RegistrationBlock).where(RegistrationBlock.case_id == case.id))
    if existing is not None:
        return existing
    block = RegistrationBlock(
        case_id=case.id, vehicle_id=case.vehicle_id, plate=case.plate, blocked_at=utcnow()
    )
    session.add(block)
    session.flush()
    record(
        session,
        actor=actor,
        action="registration.blocked",
        entity_type="case",
        entity_id=case.id,
        after={"block_id": block.id, "vehicle_id": block.vehicle_id, "plate": block.plate},
    )
    return block


def lift_blocks(session: Session, case: Case, *, reason: str, actor: str) -> list[int]:
    """Lift the case's active block, if any (the vehicle may stay blocked for other cases)."""
    blocks = list(
        session.scalars(
            select(RegistrationBlock).where(
                RegistrationBlock.case_id == case.id, RegistrationBlock.lifted_at.is_(None)
            )
        )
    )
    for block in blocks:
        block.lifted_at = utcnow()
        block.lift_reason = reason
        session.flush()
        record(
            session,
            actor=actor,
            action="registration.unblocked",
            entity_type="case",
            entity_id=case.id,
            before={"block_id": block.id, "lifted": False},
            after={"block_id": block.id, "lifted": True, "reason": reason},
        )
    return [block.id for block in blocks]
