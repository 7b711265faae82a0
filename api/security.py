"""Who is calling: officer authentication for the API (bearer tokens) and the console (cookies).

Every officer route declares one `OfficerAuth` dependency, naming the permission it needs and
how the officer proves who they are. On every request it reads the credential, loads the
officer, and refuses a disabled account or a credential issued before a password reset, so
access ends at once. The authorisation test walks `app.routes` and classifies each route by
this dependency.

* API: `Authorization: Bearer <token>` from `POST /api/v1/auth/token` (OAuth2 password flow).
  Camera tokens (`etlecam_...`) are refused here by name; they are not signed officer tokens
  and would fail anyway.
* Console: a session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, path /console)
  holding a signed console credential. Every form post carries the session's CSRF secret,
  compared in constant time, and a cross-site Origin is refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Form, Request
from fastapi.security import OAuth2PasswordBearer

from api.deps import AppRuntime, DbSession
from api.hops import within_hop
from etle.cameras.service import TOKEN_PREFIX as CAMERA_TOKEN_PREFIX
from etle.db import read_only
from etle.errors import Forbidden, Unauthorized
from etle.officers.access import Permission, require
from etle.officers.models import Officer
from etle.officers.service import officer_for
from etle.officers.tokens import Audience, Credential, read, same_secret

TOKEN_URL = "/api/v1/auth/token"
CONSOLE_COOKIE = "etle_console"
LOGIN_CSRF_COOKIE = "etle_login_csrf"
CONSOLE_PATH = "/console"
CSRF_FIELD = "csrf_token"  # the form field; CsrfChecked declares it by this name

bearer_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
BearerToken = Annotated[str | None, Depends(bearer_scheme)]


class ConsoleRefused(Exception):
    """A console page refused: 401 sends the browser to the login page, 403 shows why."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    officer: Officer
    credential: Credential


class OfficerAuth:
    """Dependency: the signed-in officer holding `permission` (None: any active officer)."""

    def __init__(
        self, permission: Permission | None, *, via: Literal["bearer", "console"] = "bearer"
    ) -> None:
        self.permission = permission
        self.via = via

    def __repr__(self) -> str:
        return f"OfficerAuth({self.permission}, via={self.via})"

    @within_hop  # the officer is read, and the read ends, in this dependency's own hop
    def __call__(
        self, request: Request, session: DbSession, rt: AppRuntime, token: BearerToken
    ) -> Officer:
        return self.session(request, session, rt.settings.signing_key, token).officer

    def session(
        self, request: Request, db: DbSession, key: bytes, token: str | None = None
    ) -> ConsoleSession:
        read_only(db)  # a read: on SQLite it takes no write lock (ended by @within_hop)
        if self.via == "console":
            token = request.cookies.get(CONSOLE_COOKIE)
            try:
                if not token:
                    raise Unauthorized("sign in first")
                credential = read(token, signing_key=key, audience=Audience.CONSOLE)
                officer = officer_for(db, credential)
            except Unauthorized as exc:
                raise ConsoleRefused(401, exc.message) from exc
            if self.permission is not None:
                try:
                    require(officer, self.permission)
                except Forbidden as exc:
                    raise ConsoleRefused(403, exc.message) from exc
            return ConsoleSession(officer, credential)

        if not token:
            raise Unauthorized("sign in: send Authorization: Bearer <token>")
        if token.startswith(CAMERA_TOKEN_PREFIX):
            raise Unauthorized("camera tokens are not accepted on officer endpoints")
        credential = read(token, signing_key=key, audience=Audience.API)
        officer = officer_for(db, credential)
        if self.permission is not None:
            require(officer, self.permission)
        return ConsoleSession(officer, credential)


class ConsoleAuth(OfficerAuth):
    """Dependency for console pages: the officer and the session (for its CSRF secret)."""

    def __init__(self, permission: Permission | None) -> None:
        super().__init__(permission, via="console")

    @within_hop
    def __call__(  # type: ignore[override]
        self, request: Request, session: DbSession, rt: AppRuntime
    ) -> ConsoleSession:
        return self.session(request, session, rt.settings.signing_key)


class CsrfChecked(ConsoleAuth):
    """Dependency for console form posts: a signed-in officer and a valid CSRF secret.

    Synchronous on purpose (FastAPI runs it in the thread pool): it queries the database, and
    an async dependency doing so would block the event loop while SQLite waits for its lock.
    """

    @within_hop
    def __call__(  # type: ignore[override]
        self,
        request: Request,
        session: DbSession,
        rt: AppRuntime,
        csrf_token: Annotated[str, Form(max_length=100)] = "",
    ) -> ConsoleSession:
        check_same_origin(request)
        current = self.session(request, session, rt.settings.signing_key)
        if not same_secret(csrf_token, current.credential.csrf):
            raise ConsoleRefused(403, "the form has expired or did not come from this console")
        return current


def check_same_origin(request: Request) -> None:
    """Refuse a form posted from another site (browsers send Origin on every POST)."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return  # old browsers and tools; the CSRF secret still has to match
    expected = f"{request.url.scheme}://{request.url.netloc}"
    if origin != expected:
        raise ConsoleRefused(403, "cross-site form posts are refused")


def new_login_csrf(key: bytes) -> str:
    """A signed nonce for the login form (there is no session yet to bind a secret to)."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(key, nonce)}"


def login_csrf_ok(key: bytes, cookie: str | None, field: str | None) -> bool:
    if not cookie or not field or not same_secret(cookie, field):
        return False
    nonce, _, signature = cookie.partition(".")
    return hmac.compare_digest(signature, _sign(key, nonce))


def _sign(key: bytes, nonce: str) -> str:
    return hmac.new(key, f"etle login csrf {nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def officer_auth(permission: Permission | None) -> OfficerAuth:
    return OfficerAuth(permission, via="bearer")


# Aliases for routes (STYLE rule 8).
AnyOfficer = Annotated[Officer, Depends(officer_auth(None))]
Reviewer = Annotated[Officer, Depends(officer_auth(Permission.REVIEW))]
Supervisor = Annotated[Officer, Depends(officer_auth(Permission.SEE_OVERRIDES))]
StatsReader = Annotated[Officer, Depends(officer_auth(Permission.SEE_STATS))]
Administrator = Annotated[Officer, Depends(officer_auth(Permission.MANAGE_OFFICERS))]
ConsoleOfficer = Annotated[ConsoleSession, Depends(ConsoleAuth(Permission.REVIEW))]
ConsoleForm = Annotated[ConsoleSession, Depends(CsrfChecked(Permission.REVIEW))]
AnyConsoleForm = Annotated[ConsoleSession, Depends(CsrfChecked(None))]
