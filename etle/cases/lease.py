"""The review queue: claiming the next case under a lease, and giving it back.

A claim gives the officer one case and a lease on it; only the lease holder may decide it. A
lease that expires puts the case back in the queue by itself: claims simply skip live leases.

No two officers ever hold the same case. On PostgreSQL the claim locks the chosen row with
`SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent claims walk past each other's rows instead of
waiting or colliding; on SQLite every transaction takes the write lock at BEGIN (etle.db), so
claims simply run one after the other. The optimistic version column on cases would turn a
collision that slipped through into an error rather than a shared case.

Order: service level first. The target is a notice within `notice_target_days` of capture, so
the earliest deadline goes first; cases whose deadline has already passed go after the ones
that can still make it (they cannot be saved by going first, and would drag others late too).
Within one capture time, second confirmations and escalations come before first looks: they are
one step from done.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case as when
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.config import ReviewSettings
from etle.cases.eligibility import check_may_decide, queue_filter
from etle.cases.models import Case, CaseStatus
from etle.clock import utcnow
from etle.errors import Conflict, NotFound
from etle.officers.access import Permission, require
from etle.officers.models import Officer

QUEUE_STATUSES = (
    CaseStatus.NEEDS_PLATE,
    CaseStatus.PENDING_REVIEW,
    CaseStatus.PENDING_SECOND_REVIEW,
    CaseStatus.ESCALATED,
)


def claim(
    session: Session, *, officer: Officer, settings: ReviewSettings, now: datetime | None = None
) -> Case | None:
    """The case this officer should decide next, leased to them; None if nothing waits.

    An officer holds at most one case: claiming again while a lease is live returns the same
    case with the lease extended (a page reload never takes a second case).
    """
    require(officer, Permission.REVIEW)
    now = now or utcnow()
    lease = timedelta(seconds=settings.review_lease_seconds)
    # Serialise this officer's own claims (a double click): lock their row on PostgreSQL.
    session.execute(select(Officer.id).where(Officer.id == officer.id).with_for_update())
    held = held_by(session, officer, now=now)
    if held is not None:
        held.lease_expires_at = now + lease
        session.flush()
        return held

    deadline_start = now - timedelta(days=settings.notice_target_days)
    candidate = session.scalar(
        select(Case)
        .where(
            queue_filter(officer),
            or_(Case.lease_officer_id.is_(None), Case.lease_expires_at <= now),
        )
        .order_by(
            when((Case.first_captured_at <= deadline_start, 1), else_=0),
            Case.first_captured_at,
            when(
                (Case.status == CaseStatus.ESCALATED.value, 0),
                (Case.status == CaseStatus.PENDING_SECOND_REVIEW.value, 1),
                else_=2,
            ),
            Case.id,
        )
        .limit(1)
        .with_for_update(skip_locked=True, of=Case)
    )
    if candidate is None:
        return None
    previous = candidate.lease_officer_id
    candidate.lease_officer_id = officer.id
    candidate.claimed_at = now
    candidate.lease_expires_at = now + lease
    session.flush()
    record(
        session,
        actor=officer.actor,
        action="review.claimed",
        entity_type="case",
        entity_id=candidate.id,
        after={
            "status": candidate.status,
            "lease_expires_at": candidate.lease_expires_at,
            # Someone's lease ran out on this case: worth seeing in the trail.
            "expired_lease_of": previous,
        },
    )
    return candidate


def held_by(session: Session, officer: Officer, *, now: datetime | None = None) -> Case | None:
    now = now or utcnow()
    return session.scalar(
        select(Case)
        .where(
            Case.lease_officer_id == officer.id,
            Case.lease_expires_at > now,
            Case.status.in_([s.value for s in QUEUE_STATUSES]),
        )
        .order_by(Case.id)
        .limit(1)
    )


def held_case(
    session: Session, *, case_id: int, officer: Officer, now: datetime | None = None
) -> Case:
    """The case, locked for this transaction, if this officer holds a live lease on it."""
    now = now or utcnow()
    case = session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if case.lease_officer_id != officer.id:
        raise Conflict(f"case {case_id} is not leased to you: claim a case first")
    if case.lease_expires_at is None or case.lease_expires_at <= now:
        raise Conflict(f"your lease on case {case_id} has expired: claim again")
    check_may_decide(session, case, officer)
    return case


def end_lease(case: Case) -> None:
    case.lease_officer_id = None
    case.lease_expires_at = None


def release(
    session: Session, *, case_id: int, officer: Officer, now: datetime | None = None
) -> Case:
    """Give a held case back to the queue (the officer cannot decide it: a break, a doubt)."""
    case = session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise NotFound(f"no case {case_id}")
    now = now or utcnow()
    if case.lease_officer_id != officer.id or (
        case.lease_expires_at is not None and case.lease_expires_at <= now
    ):
        raise Conflict(f"case {case_id} is not leased to you")
    end_lease(case)
    session.flush()
    record(
        session,
        actor=officer.actor,
        action="review.released",
        entity_type="case",
        entity_id=case.id,
    )
    return case


def release_all(session: Session, officer: Officer) -> list[int]:
    """End every lease this officer holds (the account is being disabled)."""
    cases = list(session.scalars(select(Case).where(Case.lease_officer_id == officer.id)))
    for case in cases:
        end_lease(case)
    session.flush()
    return [c.id for c in cases]
