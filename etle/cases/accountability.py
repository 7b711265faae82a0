"""Accountability: what each officer decided, how fast, how often it was overturned; the
backlog; the service-level clock from capture to notice; and the list of overrides.

A decision is *overturned* when a later verdict on the same case, by another officer, comes to
a different result: a correction that the second officer rejects or corrects again, a
confirmation later rejected (after the owner disputed it) or a confirmed case voided.
Escalations are requests for help, not verdicts, and are not counted either way.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from etle.cases.config import ReviewSettings
from etle.cases.lease import QUEUE_STATUSES
from etle.cases.models import Case, CaseStatus, ReviewAction, ReviewDecision
from etle.clock import utcnow
from etle.notices.models import Notice
from etle.officers.models import Officer

VERDICTS = (ReviewAction.CONFIRM, ReviewAction.CORRECT, ReviewAction.REJECT)


@dataclass(frozen=True, slots=True)
class OfficerStats:
    username: str
    role: str
    decisions: int
    by_action: dict[str, int]
    median_seconds: float | None
    mean_seconds: float | None
    verdicts: int
    overturned: int
    reversal_rate: float | None


@dataclass(frozen=True, slots=True)
class Backlog:
    waiting: int
    by_status: dict[str, int]
    leased: int
    at_risk: int
    missed: int
    oldest_case_id: int | None
    oldest_captured_at: datetime | None
    oldest_age_hours: float | None


@dataclass(frozen=True, slots=True)
class ServiceLevelStats:
    target_hours: int
    notices: int
    within_target: int
    within_target_rate: float | None
    median_hours: float | None
    p90_hours: float | None
    slowest_hours: float | None


@dataclass(frozen=True, slots=True)
class ReviewStats:
    since: datetime
    until: datetime
    officers: list[OfficerStats]
    backlog: Backlog
    service_level: ServiceLevelStats


@dataclass(frozen=True, slots=True)
class Override:
    decision_id: int
    case_id: int
    kind: str  # correction | second_confirmation | escalation_outcome
    action: str
    officer: str
    decided_at: datetime
    from_status: str | None
    plate_before: str | None
    plate_after: str | None
    reason: str | None
    text: str | None
    # The decision this one acted on: who corrected or escalated, and what.
    overrides_officer: str | None = None
    overrides_action: str | None = None
    overrides_plate: str | None = None


def _result(decision: ReviewDecision) -> tuple[str, str | None]:
    if decision.action == ReviewAction.CONFIRM:
        return ("confirm", decision.plate_before)
    if decision.action == ReviewAction.CORRECT:
        return ("confirm", decision.corrected_plate)
    return ("reject", None)


def overturned_ids(session: Session, decisions: list[ReviewDecision]) -> set[int]:
    """Which of these verdicts a later verdict by another officer (or a void) overturned."""
    case_ids = {d.case_id for d in decisions}
    if not case_ids:
        return set()
    later: dict[int, list[ReviewDecision]] = defaultdict(list)
    for row in session.scalars(
        select(ReviewDecision)
        .where(
            ReviewDecision.case_id.in_(case_ids),
            ReviewDecision.action.in_([a.value for a in VERDICTS]),
        )
        .order_by(ReviewDecision.id)
    ):
        later[row.case_id].append(row)
    voided = set(
        session.scalars(select(Case.id).where(Case.id.in_(case_ids), Case.status == "void"))
    )
    out: set[int] = set()
    for d in decisions:
        if d.action not in VERDICTS:
            continue
        nxt = next(
            (v for v in later[d.case_id] if v.id > d.id and v.officer_id != d.officer_id), None
        )
        if nxt is not None and _result(nxt) != _result(d):
            out.add(d.id)
        elif nxt is None and d.case_id in voided and d.action != ReviewAction.REJECT:
            out.add(d.id)
    return out


def review_stats(
    session: Session,
    *,
    settings: ReviewSettings,
    since: datetime,
    until: datetime | None = None,
    now: datetime | None = None,
) -> ReviewStats:
    now = now or utcnow()
    until = until or now
    decisions = list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.decided_at >= since, ReviewDecision.decided_at < until)
            .order_by(ReviewDecision.id)
        )
    )
    overturned = overturned_ids(session, decisions)
    officers = {o.id: o for o in session.scalars(select(Officer))}
    per: dict[int, list[ReviewDecision]] = defaultdict(list)
    for d in decisions:
        per[d.officer_id].append(d)
    rows = []
    for officer_id, mine in sorted(per.items(), key=lambda kv: officers[kv[0]].username):
        seconds = [
            (d.decided_at - d.claimed_at).total_seconds() for d in mine if d.claimed_at is not None
        ]
        verdicts = [d for d in mine if d.action in VERDICTS]
        lost = sum(1 for d in verdicts if d.id in overturned)
        by_action: dict[str, int] = defaultdict(int)
        for d in mine:
            by_action[d.action] += 1
        rows.append(
            OfficerStats(
                username=officers[officer_id].username,
                role=officers[officer_id].role,
                decisions=len(mine),
                by_action=dict(sorted(by_action.items())),
                median_seconds=round(statistics.median(seconds), 1) if seconds else None,
                mean_seconds=round(statistics.fmean(seconds), 1) if seconds else None,
                verdicts=len(verdicts),
                overturned=lost,
                reversal_rate=round(lost / len(verdicts), 4) if verdicts else None,
            )
        )
    return ReviewStats(
        since=since,
        until=until,
        officers=rows,
        backlog=backlog(session, settings=settings, now=now),
        service_level=service_level_stats(session, settings=settings, since=since, until=until),
    )


def backlog(session: Session, *, settings: ReviewSettings, now: datetime) -> Backlog:
    waiting = Case.status.in_([s.value for s in QUEUE_STATUSES])
    by_status = {
        str(status): int(count)
        for status, count in session.execute(
            select(Case.status, func.count()).where(waiting).group_by(Case.status)
        )
    }
    deadline_start = now - timedelta(days=settings.notice_target_days)
    risk_start = deadline_start + timedelta(hours=settings.at_risk_hours)

    def count(*conditions: object) -> int:
        query = select(func.count()).select_from(Case).where(waiting, *conditions)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)

    oldest = session.execute(
        select(Case.id, Case.first_captured_at)
        .where(waiting)
        .order_by(Case.first_captured_at, Case.id)
        .limit(1)
    ).first()
    return Backlog(
        waiting=sum(by_status.values()),
        by_status=by_status,
        leased=count(Case.lease_expires_at > now),
        at_risk=count(
            Case.first_captured_at > deadline_start, Case.first_captured_at <= risk_start
        ),
        missed=count(Case.first_captured_at <= deadline_start),
        oldest_case_id=oldest.id if oldest else None,
        oldest_captured_at=oldest.first_captured_at if oldest else None,
        oldest_age_hours=(
            round((now - oldest.first_captured_at).total_seconds() / 3600, 1) if oldest else None
        ),
    )


def service_level_stats(
    session: Session, *, settings: ReviewSettings, since: datetime, until: datetime
) -> ServiceLevelStats:
    """Capture to notice, for the first notices issued in the period."""
    rows = session.execute(
        select(Notice.issued_at, Case.first_captured_at)
        .join(Case, Case.id == Notice.case_id)
        .where(Notice.issue == 1, Notice.issued_at >= since, Notice.issued_at < until)
    ).all()
    hours = sorted((issued - captured).total_seconds() / 3600 for issued, captured in rows)
    target = settings.notice_target_days * 24
    within = sum(1 for h in hours if h <= target)
    return ServiceLevelStats(
        target_hours=target,
        notices=len(hours),
        within_target=within,
        within_target_rate=round(within / len(hours), 4) if hours else None,
        median_hours=round(statistics.median(hours), 1) if hours else None,
        p90_hours=round(_percentile(hours, 0.9), 1) if hours else None,
        slowest_hours=round(hours[-1], 1) if hours else None,
    )


def _percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def overrides(
    session: Session, *, limit: int = 100, before_id: int | None = None
) -> list[Override]:
    """Corrections, second confirmations and escalation outcomes, newest first."""
    query = (
        select(ReviewDecision)
        .where(
            or_(
                ReviewDecision.action == ReviewAction.CORRECT.value,
                ReviewDecision.from_status.in_(
                    [CaseStatus.PENDING_SECOND_REVIEW.value, CaseStatus.ESCALATED.value]
                ),
            )
        )
        .order_by(ReviewDecision.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    if before_id is not None:
        query = query.where(ReviewDecision.id < before_id)
    rows = list(session.scalars(query))
    names = {o.id: o.username for o in session.scalars(select(Officer))}
    out = []
    for d in rows:
        if d.from_status == CaseStatus.ESCALATED:
            kind = "escalation_outcome"
        elif d.from_status == CaseStatus.PENDING_SECOND_REVIEW:
            kind = "second_confirmation" if d.action == ReviewAction.CONFIRM else "second_review"
        else:
            kind = "correction"
        prior = None
        if d.from_status != CaseStatus.PENDING_REVIEW:
            prior = session.scalar(
                select(ReviewDecision)
                .where(
                    ReviewDecision.case_id == d.case_id,
                    ReviewDecision.id < d.id,
                    ReviewDecision.action.in_(
                        [ReviewAction.CORRECT.value, ReviewAction.ESCALATE.value]
                    ),
                )
                .order_by(ReviewDecision.id.desc())
                .limit(1)
            )
        out.append(
            Override(
                decision_id=d.id,
                case_id=d.case_id,
                kind=kind,
                action=d.action,
                officer=names.get(d.officer_id, "?"),
                decided_at=d.decided_at,
                from_status=d.from_status,
                plate_before=d.plate_before,
                plate_after=d.corrected_plate,
                reason=d.reason_code,
                text=d.reason_text,
                overrides_officer=names.get(prior.officer_id) if prior else None,
                overrides_action=prior.action if prior else None,
                overrides_plate=prior.corrected_plate if prior else None,
            )
        )
    return out
