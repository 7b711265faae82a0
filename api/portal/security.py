"""Who may open a notice: the grant from a successful lookup, as a cookie (web) or a bearer
token (JSON API), and CSRF protection for the portal's forms.

* `PortalAuth("cookie")` / `PortalAuth("bearer")`: dependency giving the `Grant`. A missing,
  forged or expired grant is refused: 401 on the API, a redirect to the lookup page on the web.
  Officer credentials are not grants (other audience, other key) and grants are not officer
  credentials. The authorisation test finds this dependency on every route that declares it.
* Forms posted with a grant (answers, payment) echo the grant's CSRF secret; forms without one
  (lookup, scam report) echo a signed nonce that is also in a cookie (double submit). Either
  way a form posted from another site (Origin) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Literal

from fastapi import Depends, Form, Request

from api.deps import AppRuntime
from api.security import (
    ConsoleRefused,
    check_same_origin,
    client_address,
    login_csrf_ok,
    new_login_csrf,
)
from etle.errors import Unauthorized
from etle.officers.tokens import same_secret
from etle.portal.grants import Grant, read_grant
from etle.portal.responses import Citizen

PORTAL_COOKIE = "etle_portal"
FORM_COOKIE = "etle_portal_form"
LANG_COOKIE = "etle_lang"
PORTAL_PATH = "/tilang"
CSRF_FIELD = "csrf_token"


class PortalRefused(Exception):
    """A portal page refused: the browser goes back to the lookup page with a message."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason  # a words key: session_ended, form_expired


class PortalAuth:
    """Dependency: the grant this caller holds (cookie on web pages, bearer on the API)."""

    def __init__(self, via: Literal["cookie", "bearer"], *, form: bool = False) -> None:
        self.via = via
        self.form = form

    def __repr__(self) -> str:
        return f"PortalAuth(via={self.via}, form={self.form})"

    def grant(self, request: Request, rt: AppRuntime) -> Grant:
        key = rt.settings.signing_key
        if self.via == "bearer":
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Unauthorized("look the notice up first: send Authorization: Bearer <token>")
            return read_grant(token.strip(), signing_key=key)
        cookie = request.cookies.get(PORTAL_COOKIE)
        try:
            if not cookie:
                raise Unauthorized("look the notice up first")
            return read_grant(cookie, signing_key=key)
        except Unauthorized as exc:
            raise PortalRefused(401, "session_ended") from exc

    def __call__(self, request: Request, rt: AppRuntime) -> Grant:
        return self.grant(request, rt)


class PortalForm(PortalAuth):
    """Dependency for a form posted on a notice page: the grant and its CSRF secret."""

    def __init__(self) -> None:
        super().__init__("cookie", form=True)

    def __call__(
        self,
        request: Request,
        rt: AppRuntime,
        csrf_token: Annotated[str, Form(max_length=100)] = "",
    ) -> Grant:
        _same_origin(request)
        grant = self.grant(request, rt)
        if not same_secret(csrf_token, grant.csrf):
            raise PortalRefused(403, "form_expired")
        return grant


def _same_origin(request: Request) -> None:
    try:
        check_same_origin(request)
    except ConsoleRefused as exc:  # the console's rule, the portal's own answer
        raise PortalRefused(403, "form_expired") from exc


def new_form_token(rt: AppRuntime) -> str:
    return new_login_csrf(rt.settings.signing_key)


def anonymous_form_ok(request: Request, rt: AppRuntime, field: str) -> bool:
    """A form without a grant (lookup, scam report): same origin, and the double-submit pair."""
    try:
        _same_origin(request)
    except PortalRefused:
        return False
    return login_csrf_ok(rt.settings.signing_key, request.cookies.get(FORM_COOKIE), field)


def citizen(request: Request, rt: AppRuntime, channel: str) -> Citizen:
    """The audit trail's view of who answered: the channel and a keyed hash of the address."""
    digest = hmac.new(
        rt.settings.signing_key,
        f"etle portal client {client_address(request)}".encode(),
        hashlib.sha256,
    ).hexdigest()[:16]
    return Citizen(channel=channel, client=digest)


GrantCookie = Annotated[Grant, Depends(PortalAuth("cookie"))]
GrantForm = Annotated[Grant, Depends(PortalForm())]
GrantBearer = Annotated[Grant, Depends(PortalAuth("bearer"))]
