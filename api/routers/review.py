"""Officer review over HTTP: claim the next case, see its evidence, decide; supervisors' views.

Rules live in `etle.cases` (lease, review, eligibility, accountability); this module only
translates HTTP to those calls.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.deps import AppRuntime, DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from api.params import RECORD_ID_MAX, CaseId, SaneTime
from api.security import Reviewer, StatsReader, Supervisor
from etle.cases.accountability import Override, ReviewStats, overrides, review_stats
from etle.cases.casefile import CaseFile, build_case_file
from etle.cases.evidence_access import frame_image, plate_image
from etle.cases.lease import claim, release
from etle.cases.models import Case, RejectReason, ReviewAction
from etle.cases.review import Decision, decide
from etle.clock import utcnow
from etle.db import read_only
from etle.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from etle.officers.models import Officer
from etle.portal.disputes import owner_photo

router = APIRouter(prefix="/api/v1/review", tags=["officers: review"], route_class=OneHopRoute)

ERRORS = error_responses(
    {
        Unauthorized: "not signed in, token expired, or account disabled",
        Forbidden: "the role may not do this, conflict of interest, or four eyes",
        NotFound: "no such case",
        Conflict: "not your lease, lease expired, or the case moved on",
        ValidationFailed: "invalid decision (reason missing, plate not registered, ...)",
    }
)
EVIDENCE_CACHE = "private, max-age=300"


class ClaimedCase(BaseModel):
    case: CaseFile
    frame_url: str
    plate_url: str | None


class DecisionIn(BaseModel):
    action: ReviewAction
    plate: str | None = Field(
        default=None, max_length=20, description="correct: the new plate; key: the plate read"
    )
    reason: RejectReason | None = Field(default=None, description="reject: the reason code")
    text: str | None = Field(
        default=None, max_length=500, description='reject "other": required; escalate: a note'
    )
    box: list[Annotated[int, Field(ge=0, le=100_000)]] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="key: the plate's box [x1, y1, x2, y2] in the evidence frame's pixels "
        "(start from `case.box_candidates`)",
    )


class DecisionOut(BaseModel):
    case_id: int
    decision_id: int
    action: str
    status: str
    plate: str
    notice_number: str | None


class Released(BaseModel):
    case_id: int
    status: str


def claimed_case(
    request: Request, session: DbSession, case: Case, officer: Officer, rt: AppRuntime
) -> ClaimedCase:
    return ClaimedCase(
        case=build_case_file(session, case, officer=officer, settings=rt.settings),
        frame_url=str(request.url_for("review_frame", case_id=case.id)),
        plate_url=(
            str(request.url_for("review_plate", case_id=case.id)) if case.plate_read_id else None
        ),
    )


@router.post(
    "/claim",
    summary="The next case to decide, leased to you (204 when nothing waits)",
    response_model=ClaimedCase,
    responses={204: {"description": "no case waits for you"}, **ERRORS},
)
def claim_next(
    request: Request, session: DbSession, officer: Reviewer, rt: AppRuntime
) -> ClaimedCase | Response:
    case = claim(session, officer=officer, settings=rt.settings)
    if case is None:
        return Response(status_code=204)
    return claimed_case(request, session, case, officer, rt)


@router.post(
    "/{case_id}/decision",
    summary="Decide the case you hold: confirm, correct, reject, escalate, or key its plate",
    response_model=DecisionOut,
    responses=ERRORS,
)
def decision(
    case_id: CaseId, body: DecisionIn, session: DbSession, officer: Reviewer, rt: AppRuntime
) -> DecisionOut:
    outcome = decide(
        session,
        case_id=case_id,
        officer=officer,
        decision=Decision(
            body.action, plate=body.plate, reason=body.reason, text=body.text, box=body.box
        ),
        settings=rt.settings,
    )
    return DecisionOut(
        case_id=outcome.case.id,
        decision_id=outcome.decision.id,
        action=outcome.decision.action,
        status=outcome.case.status,
        plate=outcome.case.plate,
        notice_number=outcome.notice.notice_number if outcome.notice else None,
    )


@router.post(
    "/{case_id}/release",
    summary="Give the case you hold back to the queue",
    response_model=Released,
    responses=ERRORS,
)
def give_back(case_id: CaseId, session: DbSession, officer: Reviewer) -> Released:
    case = release(session, case_id=case_id, officer=officer)
    return Released(case_id=case.id, status=case.status)


@router.get(
    "/{case_id}/frame",
    name="review_frame",
    summary="The evidence frame (hash re-checked on every read)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}, **ERRORS},
)
def frame(case_id: CaseId, session: DbSession, officer: Reviewer, rt: AppRuntime) -> Response:
    data, content_type = frame_image(session, rt.evidence, case_id=case_id, officer=officer)
    return Response(data, media_type=content_type, headers={"Cache-Control": EVIDENCE_CACHE})


@router.get(
    "/{case_id}/plate",
    name="review_plate",
    summary="A zoomed crop of the plate, cut from the hash-checked frame",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
def plate(case_id: CaseId, session: DbSession, officer: Reviewer, rt: AppRuntime) -> Response:
    data = plate_image(session, rt.evidence, case_id=case_id, officer=officer)
    return Response(data, media_type="image/png", headers={"Cache-Control": EVIDENCE_CACHE})


@router.get(
    "/{case_id}/owner-photo",
    summary='The owner\'s photo of their own vehicle (a "not my vehicle" report from the portal)',
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}, **ERRORS},
)
def owner_photo_image(
    case_id: CaseId, session: DbSession, officer: Reviewer, rt: AppRuntime
) -> Response:
    data, content_type = owner_photo(session, rt.evidence, case_id=case_id, officer=officer)
    return Response(data, media_type=content_type, headers={"Cache-Control": EVIDENCE_CACHE})


@router.get(
    "/overrides",
    summary="Supervisors: corrections, second confirmations, escalation outcomes (newest first)",
    response_model=list[Override],
    responses=ERRORS,
)
def list_overrides(
    session: DbSession,
    _officer: Supervisor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[
        int | None,
        Query(ge=1, le=RECORD_ID_MAX, description="page: decisions older than this"),
    ] = None,
) -> list[Override]:
    return overrides(read_only(session), limit=limit, before_id=before_id)


@router.get(
    "/stats",
    summary="Supervisors: per-officer decisions, time, reversals; backlog; service level",
    response_model=ReviewStats,
    responses=ERRORS,
)
def stats(
    session: DbSession,
    _officer: StatsReader,
    rt: AppRuntime,
    since: Annotated[
        SaneTime | None, Query(description="with offset, 2000-2099; default 30 days ago")
    ] = None,
    until: Annotated[
        SaneTime | None, Query(description="with offset, 2000-2099; default now")
    ] = None,
) -> ReviewStats:
    now = utcnow()
    start = since or now - timedelta(days=30)
    end = until or now
    return review_stats(read_only(session), settings=rt.settings, since=start, until=end, now=now)
