"""Who may decide which case: the rules the queue filters by and every decision re-checks.

* **Conflict of interest.** An officer who recorded a NIK never gets a case about a vehicle
  registered to that NIK: neither the owner the case names nor the vehicle's current owner.
* **Four eyes.** The officer who corrected a plate (or escalated a case) is never the one who
  takes the next step on it: a correction needs a second officer, an escalation someone else.
* **Stages.** Reviewers take first reviews and second confirmations; only supervisors take
  escalated cases.

Each rule exists twice on purpose, as an SQL condition for the queue and as a Python check for
the decision, and the tests hold the two to the same cases.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from etle.cases.models import Case, CaseStatus, ReviewAction, ReviewDecision
from etle.errors import Forbidden
from etle.officers.access import Permission, allows, require
from etle.officers.models import Officer
from etle.registry.models import Owner, Vehicle


class Stage(StrEnum):
    FIRST = "first"  # pending_review: the first look at the case
    SECOND = "second"  # pending_second_review: confirm (or not) another officer's correction
    ESCALATION = "escalation"  # escalated: a supervisor's call


STAGE_OF = {
    CaseStatus.PENDING_REVIEW: Stage.FIRST,
    CaseStatus.PENDING_SECOND_REVIEW: Stage.SECOND,
    CaseStatus.ESCALATED: Stage.ESCALATION,
}
# Decisions that hand a case to someone else, who then must not be the same officer.
HAND_OVER = (ReviewAction.CORRECT.value, ReviewAction.ESCALATE.value)


def stage_of(case: Case) -> Stage | None:
    return STAGE_OF.get(CaseStatus(case.status))


def statuses_for(officer: Officer) -> list[CaseStatus]:
    statuses = [CaseStatus.PENDING_REVIEW, CaseStatus.PENDING_SECOND_REVIEW]
    if allows(officer, Permission.DECIDE_ESCALATED):
        statuses.append(CaseStatus.ESCALATED)
    return statuses


def _latest_hand_over_officer() -> ColumnElement[int]:
    return (
        select(ReviewDecision.officer_id)
        .where(ReviewDecision.case_id == Case.id, ReviewDecision.action.in_(HAND_OVER))
        .order_by(ReviewDecision.id.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )


def queue_filter(officer: Officer) -> ColumnElement[bool]:
    """SQL: the cases this officer may be given (leases aside)."""
    conditions: list[ColumnElement[bool]] = [
        Case.status.in_([s.value for s in statuses_for(officer)]),
        func.coalesce(_latest_hand_over_officer(), -1) != officer.id,
    ]
    if officer.nik:
        own_owners = select(Owner.id).where(Owner.nik == officer.nik)
        own_vehicles = select(Vehicle.id).where(Vehicle.owner_id.in_(own_owners))
        conditions.append(or_(Case.owner_id.is_(None), Case.owner_id.not_in(own_owners)))
        conditions.append(or_(Case.vehicle_id.is_(None), Case.vehicle_id.not_in(own_vehicles)))
    return and_(*conditions)


def has_conflict_of_interest(session: Session, case: Case, officer: Officer) -> bool:
    if not officer.nik:
        return False
    owner_ids = {case.owner_id}
    if case.vehicle_id is not None:
        owner_ids.add(session.scalar(select(Vehicle.owner_id).where(Vehicle.id == case.vehicle_id)))
    owner_ids.discard(None)
    if not owner_ids:
        return False
    niks = set(session.scalars(select(Owner.nik).where(Owner.id.in_(owner_ids))))
    return officer.nik in niks


def latest_hand_over(session: Session, case: Case) -> ReviewDecision | None:
    return session.scalar(
        select(ReviewDecision)
        .where(ReviewDecision.case_id == case.id, ReviewDecision.action.in_(HAND_OVER))
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    )


def check_may_decide(session: Session, case: Case, officer: Officer) -> Stage:
    """Raise unless this officer may decide this case now; return the case's review stage."""
    require(officer, Permission.REVIEW)
    stage = stage_of(case)
    if stage is None:
        raise Forbidden(f"case {case.id} is {case.status}: there is nothing to review")
    if stage is Stage.ESCALATION:
        require(officer, Permission.DECIDE_ESCALATED)
    if has_conflict_of_interest(session, case, officer):
        raise Forbidden("conflict of interest: the vehicle is registered to this officer")
    handed = latest_hand_over(session, case)
    if handed is not None and handed.officer_id == officer.id:
        raise Forbidden(
            "four eyes: the officer who corrected or escalated this case cannot take the next "
            "step on it"
        )
    return stage
