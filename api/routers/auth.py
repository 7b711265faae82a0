"""Officer sign-in for the API: the OAuth2 password flow, and who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import AppRuntime, CommitsEvenIfRefused
from api.errors import error_responses
from api.hops import OneHopRoute
from api.security import AnyOfficer, client_address
from etle.errors import RateLimited, Unauthorized
from etle.officers.access import GRANTS
from etle.officers.login import sign_in
from etle.officers.models import Role
from etle.officers.tokens import Audience, issue

router = APIRouter(prefix="/api/v1/auth", tags=["officers: sign-in"], route_class=OneHopRoute)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class OfficerOut(BaseModel):
    username: str
    full_name: str
    role: str
    permissions: list[str]


@router.post(
    "/token",
    summary="Sign in (OAuth2 password flow): a short-lived bearer token",
    response_model=TokenOut,
    responses=error_responses({Unauthorized: "wrong credentials"}, RateLimited),
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    response: Response,
    rt: AppRuntime,
    units: CommitsEvenIfRefused,
) -> TokenOut:
    # Transactions of its own: the attempt is recorded (and counted) even when it is refused,
    # and the password is checked between them, with no database lock held.
    result = sign_in(
        units.sessions,
        username=form.username,
        password=form.password,
        address=client_address(request),
        settings=rt.settings,
    )
    officer = result.accepted()
    lifetime = timedelta(minutes=rt.settings.officer_token_minutes)
    access, _ = issue(
        officer, signing_key=rt.settings.signing_key, audience=Audience.API, lifetime=lifetime
    )
    # RFC 6749 5.1: a response carrying a token is never stored by a cache or a browser.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenOut(access_token=access, expires_in=int(lifetime.total_seconds()))


@router.get("/me", summary="The signed-in officer and what they may do", response_model=OfficerOut)
def me(officer: AnyOfficer) -> OfficerOut:
    return OfficerOut(
        username=officer.username,
        full_name=officer.full_name,
        role=officer.role,
        permissions=sorted(p.value for p in GRANTS[Role(officer.role)]),
    )
