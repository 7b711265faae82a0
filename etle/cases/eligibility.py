"""Who may decide which case: the rules the queue filters by and every decision re-checks.

* **Conflict of interest.** An officer who recorded a NIK never gets a case about a vehicle
  registered to that NIK: neither the owner the case names nor the vehicle's current owner.
* **Four eyes.** Whoever proposed the case's plate (corrected it, or keyed it by hand on a case
  that had none) never decides the case while that plate stands, by any path: not as the
  second officer, not after an escalation, not after a release or a re-claim (invariant 9).
  And whoever handed a case on (corrected, keyed, escalated) never takes its next step.
* **Stages.** Reviewers take first reviews, cases that need a plate and second
  confirmations; only supervisors take escalated cases.

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
    PLATE = "plate"  # needs_plate: no plate was read; mark and key it, or reject
    FIRST = "first"  # pending_review: the first look at the case
    SECOND = "second"  # pending_second_review: confirm (or not) another officer's correction
    ESCALATION = "escalation"  # escalated: a supervisor's call


STAGE_OF = {
    CaseStatus.NEEDS_PLATE: Stage.PLATE,
    CaseStatus.PENDING_REVIEW: Stage.FIRST,
    CaseStatus.PENDING_SECOND_REVIEW: Stage.SECOND,
    CaseStatus.ESCALATED: Stage.ESCALATION,
}
# Decisions that hand a case to someone else, who then must not be the same officer.
HAND_OVER = (ReviewAction.CORRECT.value, ReviewAction.KEY.value, ReviewAction.ESCALATE.value)
# Decisions that propose a plate: their author never decides the case while that plate stands.
# A later proposal (by someone else) replaces the plate, and with it the proposer.
PROPOSALS = (ReviewAction.CORRECT.value, ReviewAction.KEY.value)


def stage_of(case: Case) -> Stage | None:
    return STAGE_OF.get(CaseStatus(case.status))


def statuses_for(officer: Officer) -> list[CaseStatus]:
    statuses = [
        CaseStatus.NEEDS_PLATE,
        CaseStatus.PENDING_REVIEW,
        CaseStatus.PENDING_SECOND_REVIEW,
    ]
    if allows(officer, Permission.DECIDE_ESCALATED):
        statuses.append(CaseStatus.ESCALATED)
    return statuses


def _latest_officer(actions: tuple[str, ...]) -> ColumnElement[int]:
    return (
        select(ReviewDecision.officer_id)
        .where(ReviewDecision.case_id == Case.id, ReviewDecision.action.in_(actions))
        .order_by(ReviewDecision.id.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )


def queue_filter(officer: Officer) -> ColumnElement[bool]:
    """SQL: the cases this officer may be given (leases aside)."""
    conditions: list[ColumnElement[bool]] = [
        Case.status.in_([s.value for s in statuses_for(officer)]),
        func.coalesce(_latest_officer(HAND_OVER), -1) != officer.id,
        func.coalesce(_latest_officer(PROPOSALS), -1) != officer.id,
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
    return _latest(session, case, HAND_OVER)


def plate_proposal(session: Session, case: Case) -> ReviewDecision | None:
    """The decision that proposed the case's current plate (None: the reader's plate)."""
    return _latest(session, case, PROPOSALS)


def _latest(session: Session, case: Case, actions: tuple[str, ...]) -> ReviewDecision | None:
    return session.scalar(
        select(ReviewDecision)
        .where(ReviewDecision.case_id == case.id, ReviewDecision.action.in_(actions))
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
    proposal = plate_proposal(session, case)
    if proposal is not None and proposal.officer_id == officer.id:
        raise Forbidden(
            "four eyes: you proposed this case's plate; another officer must decide the case"
        )
    handed = latest_hand_over(session, case)
    if handed is not None and handed.officer_id == officer.id:
        raise Forbidden(
            "four eyes: the officer who corrected, keyed or escalated this case cannot take the "
            "next step on it"
        )
    return stage
