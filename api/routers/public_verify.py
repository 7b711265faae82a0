"""Public verification of notices: is this letter, email or message genuine?

The QR code on every letter opens `{ETLE_PORTAL_URL}/verifikasi/{token}` (the citizen page the
portal serves); this JSON API is what that page and any app ask. Answers name only what the
genuine notice shows (never the owner), and "not genuine" is a normal answer, not an error.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from api.access import PublicRoute
from api.deps import AppRuntime, CommitsEvenIfRefused, DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from api.security import client_address
from etle.clock import local, utcnow
from etle.errors import RateLimited
from etle.notices.verify import verify_token
from etle.portal.verification import check_code

router = APIRouter(
    prefix="/api/v1/public", tags=["public"], dependencies=[PublicRoute], route_class=OneHopRoute
)


@router.get("/verify/{token}", summary="Verify a notice by the token in its QR code")
def verify_by_token(token: str, session: DbSession, runtime: AppRuntime) -> dict[str, Any]:
    s = runtime.settings
    today = local(utcnow(), s.timezone).date()
    return verify_token(session, token, key=s.signing_key, today=today).as_dict()


@router.get(
    "/verify",
    summary="Verify a notice by its verification code",
    responses=error_responses({RateLimited: "too many unknown codes from this client"}),
)
def verify_by_code(
    request: Request,
    runtime: AppRuntime,
    units: CommitsEvenIfRefused,
    code: str = Query(min_length=4, max_length=32, description="Code printed on the notice"),
) -> dict[str, Any]:
    # Its own transaction: an unknown code counts against the client even though the answer
    # is a normal "not genuine" (codes cannot be tried in bulk).
    with units() as session:
        checked = check_code(
            session, code, address=client_address(request), settings=runtime.settings
        )
    return checked.answer().as_dict()
