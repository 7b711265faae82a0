"""Every route of the app, and who may use it: one table, checked against the code and by
real requests from every kind of caller.

The test is built from `app.routes`: a route that is not in `ACCESS` fails it, so whoever adds a
route must say here who may call it. To add one, write its `(METHOD, path)` with one of:

* `PUBLIC` (anyone; e.g. health, sign-in pages, the public portal's lookup),
* `CAMERA` (a camera's `etlecam_` bearer token; officer credentials must be refused),
* `SIGNED` (a signature over the request: gateway webhooks, bank callbacks; no login of any
  kind opens it, and without the signature it answers 401/403, or 404 when not configured),
* `api(permission)` (an officer's bearer token; `None` = any active officer),
* `console(permission)` / `console_form(permission)` (an officer's console cookie; form posts
  also need the session's CSRF secret),
* `PORTAL` (a violator's grant from a portal lookup, as a bearer token: the JSON API) and
  `PORTAL_PAGE` / `PORTAL_FORM` (the same grant as the portal's cookie; forms also need the
  grant's CSRF secret). No officer credential opens these, and no grant opens anything else.

For officer and console routes the declared `OfficerAuth` dependency must match the table, so
the table cannot drift from the code. Another kind of caller (a violator's portal session) gets
its own `Access` kind here and a caller below.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from api.portal.security import PORTAL_COOKIE, PORTAL_PATH, PortalAuth
from api.runtime import Runtime, build_runtime
from api.security import CONSOLE_COOKIE, CSRF_FIELD, OfficerAuth
from api.settings import load_app_settings
from etle.cameras.service import add_camera
from etle.db import create_engine, session_scope
from etle.migrate import upgrade
from etle.officers.access import GRANTS, Permission
from etle.officers.models import Officer, Role
from etle.officers.service import disable_officer
from etle.officers.tokens import Audience, issue
from etle.portal.grants import issue_grant
from tests import factories
from tests.api.conftest import make_officer
from tests.conftest import Databases


@dataclass(frozen=True)
class Access:
    kind: str  # public | camera | signed | api | console | portal | portal_page
    permission: Permission | None = None
    form: bool = False  # console form post: needs the CSRF secret


PUBLIC = Access("public")
CAMERA = Access("camera")
SIGNED = Access("signed")
PORTAL = Access("portal")
PORTAL_PAGE = Access("portal_page")
PORTAL_FORM = Access("portal_page", form=True)


def api(permission: Permission | None) -> Access:
    return Access("api", permission)


def console(permission: Permission | None) -> Access:
    return Access("console", permission)


def console_form(permission: Permission | None) -> Access:
    return Access("console", permission, form=True)


R = Permission.REVIEW
ACCESS: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): SIGNED,  # ETLE_METRICS_TOKEN; 404 while unset
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/docs/assets/{name}"): PUBLIC,  # Swagger UI's own files (no CDN)
    # Officers: sign-in and review (issue 6)
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("GET", "/api/v1/auth/me"): api(None),
    ("POST", "/api/v1/review/claim"): api(R),
    ("POST", "/api/v1/review/{case_id}/decision"): api(R),
    ("POST", "/api/v1/review/{case_id}/release"): api(R),
    ("GET", "/api/v1/review/{case_id}/frame"): api(R),
    ("GET", "/api/v1/review/{case_id}/plate"): api(R),
    ("GET", "/api/v1/review/{case_id}/owner-photo"): api(R),
    ("GET", "/api/v1/review/overrides"): api(Permission.SEE_OVERRIDES),
    ("GET", "/api/v1/review/stats"): api(Permission.SEE_STATS),
    ("GET", "/api/v1/admin/frames/account"): api(Permission.SEE_STATS),
    ("GET", "/api/v1/officers"): api(Permission.MANAGE_OFFICERS),
    ("POST", "/api/v1/officers/{username}/disable"): api(Permission.MANAGE_OFFICERS),
    # The reviewers' console
    ("GET", "/console/login"): PUBLIC,
    ("POST", "/console/login"): PUBLIC,
    ("POST", "/console/logout"): console_form(None),
    ("GET", "/console"): console(R),
    ("POST", "/console/claim"): console_form(R),
    ("GET", "/console/cases/{case_id}"): console(R),
    ("POST", "/console/cases/{case_id}/decision"): console_form(R),
    ("GET", "/console/cases/{case_id}/frame"): console(R),
    ("GET", "/console/cases/{case_id}/plate"): console(R),
    ("GET", "/console/cases/{case_id}/owner-photo"): console(R),
    # Notices (issue 7): administration, public verification, gateway webhooks
    ("GET", "/api/v1/admin/notices/status"): api(Permission.MANAGE_NOTICES),
    ("POST", "/api/v1/admin/notices/post-batches"): api(Permission.MANAGE_NOTICES),
    ("GET", "/api/v1/admin/notices/post-batches"): api(Permission.MANAGE_NOTICES),
    ("POST", "/api/v1/admin/notices/post-batches/{name}/hand-over"): api(Permission.MANAGE_NOTICES),
    ("POST", "/api/v1/admin/notices/{notice_number}/returned"): api(Permission.MANAGE_NOTICES),
    ("GET", "/api/v1/public/verify/{token}"): PUBLIC,
    ("GET", "/api/v1/public/verify"): PUBLIC,
    ("POST", "/api/v1/webhooks/sms"): SIGNED,
    ("POST", "/api/v1/webhooks/whatsapp"): SIGNED,
    ("GET", "/api/v1/webhooks/whatsapp"): SIGNED,
    # Cameras (issue 4): frame push by camera token; camera health for operations
    ("POST", "/api/v1/frames"): CAMERA,
    ("GET", "/api/v1/cameras/health"): api(Permission.MONITOR_CAMERAS),
    # The public portal (issue 8): lookups, verification, statistics and scam reports are for
    # everyone (rate-limited); a notice's own routes need the grant a lookup gives.
    ("GET", "/"): PUBLIC,
    ("GET", "/aset/{name}"): PUBLIC,
    ("GET", "/tilang"): PUBLIC,
    ("POST", "/tilang"): PUBLIC,
    ("GET", "/verifikasi"): PUBLIC,
    ("GET", "/verifikasi/{token}"): PUBLIC,
    ("POST", "/verifikasi/laporan"): PUBLIC,
    ("GET", "/statistik"): PUBLIC,
    ("GET", "/tilang/surat"): PORTAL_PAGE,
    ("GET", "/tilang/surat/{notice_number}"): PORTAL_PAGE,
    ("GET", "/tilang/surat/{notice_number}/foto"): PORTAL_PAGE,
    ("GET", "/tilang/surat/{notice_number}/pelat"): PORTAL_PAGE,
    ("GET", "/tilang/surat/{notice_number}/kuitansi"): PORTAL_PAGE,
    ("POST", "/tilang/surat/{notice_number}/pengemudi"): PORTAL_FORM,
    ("POST", "/tilang/surat/{notice_number}/dijual"): PORTAL_FORM,
    ("POST", "/tilang/surat/{notice_number}/bukan-milik-saya"): PORTAL_FORM,
    ("POST", "/tilang/surat/{notice_number}/bayar"): PORTAL_FORM,
    ("POST", "/tilang/keluar"): PORTAL_FORM,
    ("GET", "/api/v1/public/notices/{notice_number}"): PUBLIC,
    ("GET", "/api/v1/public/notices"): PUBLIC,
    ("GET", "/api/v1/public/statistics"): PUBLIC,
    ("POST", "/api/v1/public/scam-reports"): PUBLIC,
    ("GET", "/api/v1/public/notices/{notice_number}/details"): PORTAL,
    ("GET", "/api/v1/public/notices/{notice_number}/photo"): PORTAL,
    ("GET", "/api/v1/public/notices/{notice_number}/plate"): PORTAL,
    ("GET", "/api/v1/public/notices/{notice_number}/receipt"): PORTAL,
    ("POST", "/api/v1/public/notices/{notice_number}/driver"): PORTAL,
    ("POST", "/api/v1/public/notices/{notice_number}/sold"): PORTAL,
    ("POST", "/api/v1/public/notices/{notice_number}/not-mine"): PORTAL,
    ("POST", "/api/v1/public/notices/{notice_number}/payment"): PORTAL,
    # The bank's payment callback: an HMAC signature, no login
    ("POST", "/api/v1/payments/callback"): SIGNED,
}

# Values for path parameters: rows that do not exist, so an allowed caller gets past the
# authorisation check and then a plain "not found", never a refusal.
PATH_VALUES = {
    "case_id": "987654",
    "username": "nobody-here",
    "camera_id": "CAM-NONE",
    "name": "batch-none",
    "notice_number": "26110000000000",
    "token": "NOPE.0.x",
}
# A body that passes validation where one is needed, so allowed callers are not refused by
# a 422 hiding a 403.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/review/{case_id}/decision"): {"json": {"action": "confirm"}},
    ("POST", "/console/cases/{case_id}/decision"): {"data": {"action": "confirm"}},
    ("POST", "/api/v1/public/notices/{notice_number}/driver"): {"json": {"driver": "self"}},
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    auth: list[OfficerAuth]
    portal: list[PortalAuth]


def every_route(app: FastAPI) -> Iterator[Route]:
    """Every (method, path) the app answers, with the officer and portal auth dependencies it
    declares."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.160: lazy includes
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        contexts: list[Any] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    for route in contexts:
        dependant = getattr(route, "dependant", None)
        found: list[OfficerAuth] = []
        grants: list[PortalAuth] = []
        stack = [dependant] if dependant is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node.call, OfficerAuth):
                found.append(node.call)
            if isinstance(node.call, PortalAuth):
                grants.append(node.call)
            stack.extend(node.dependencies)
        for method in sorted(getattr(route, "methods", None) or {"*"}):
            if method != "HEAD":  # answered by the GET handler
                yield Route(method, route.path, found, grants)


def _declared(route: Route) -> Access:
    if route.portal:
        assert not route.auth, f"{route.method} {route.path} mixes officer and portal auth"
        kinds = {(g.via, g.form) for g in route.portal}
        assert len(kinds) == 1, f"{route.method} {route.path} declares several portal checks"
        via, form = kinds.pop()
        return Access("portal_page" if via == "cookie" else "portal", form=form)
    if not route.auth:
        return PUBLIC
    kinds = {(a.via, a.permission) for a in route.auth}
    assert len(kinds) == 1, f"{route.method} {route.path} declares several officer checks"
    via, permission = kinds.pop()
    return Access("console" if via == "console" else "api", permission, form=False)


@pytest.fixture(scope="module")
def shared_rt(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """One database for the module: every caller is a new officer, and the requests touch
    rows that do not exist, so the tests cannot disturb each other."""
    url = databases.new()
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    runtime = build_runtime(
        load_app_settings(
            data_dir=tmp_path_factory.mktemp("authz"), database_url=url, queue_url=None
        )
    )
    yield runtime
    runtime.close()


@pytest.fixture
def rt(shared_rt: Runtime) -> Runtime:
    return shared_rt


@pytest.fixture
def app(rt: Runtime) -> FastAPI:
    return create_app(rt)


def missing_from_table(app: FastAPI) -> list[str]:
    return sorted(
        f"{r.method} {r.path}" for r in every_route(app) if (r.method, r.path) not in ACCESS
    )


def test_a_new_route_without_an_entry_is_caught(app: FastAPI) -> None:
    """The table check itself: a route added anywhere (here, late, on the app) is reported."""
    assert missing_from_table(app) == []

    @app.get("/api/v1/forgotten/{thing}")
    def forgotten(thing: str) -> dict[str, str]:
        return {"thing": thing}

    @app.post("/console/forgotten")
    def forgotten_form() -> None:
        return None

    assert missing_from_table(app) == ["GET /api/v1/forgotten/{thing}", "POST /console/forgotten"]


def test_every_route_is_in_the_table_and_declares_what_the_table_says(app: FastAPI) -> None:
    routes = list(every_route(app))
    missing = missing_from_table(app)
    assert missing == [], "add these routes to ACCESS in tests/api/test_authorization.py"
    stale = sorted(set(ACCESS) - {(r.method, r.path) for r in routes})
    assert stale == [], "ACCESS names routes the app no longer has"
    for route in routes:
        expected = ACCESS[(route.method, route.path)]
        declared = _declared(route)
        if expected.kind in ("camera", "signed"):
            assert declared == PUBLIC, f"{route.path}: {expected.kind} routes take no officer auth"
            continue
        if expected.kind in ("portal", "portal_page"):
            assert declared == expected, (
                f"{route.method} {route.path} declares {declared}, the table says {expected}"
            )
            continue
        assert (declared.kind, declared.permission) == (expected.kind, expected.permission), (
            f"{route.method} {route.path} declares {declared}, the table says {expected}"
        )


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None = None  # an officer of this role
    disabled: bool = False
    camera: bool = False
    citizen: bool = False  # holds a portal grant (for a notice other than the one asked)


CALLERS = [
    Caller("anonymous"),
    Caller("camera", camera=True),
    Caller("reviewer", Role.REVIEWER),
    Caller("supervisor", Role.SUPERVISOR),
    Caller("administrator", Role.ADMINISTRATOR),
    Caller("disabled reviewer", Role.REVIEWER, disabled=True),
    Caller("citizen", citizen=True),
]


@dataclass
class Credentials:
    bearer: str | None = None
    cookie: str | None = None
    csrf: str | None = None
    grant: str | None = None  # a portal grant: bearer on the API, cookie on the pages
    grant_csrf: str | None = None


def _credentials(rt: Runtime, caller: Caller) -> Credentials:
    if caller.citizen:
        token, grant = issue_grant(
            [(987654, 1)], signing_key=rt.settings.signing_key, lifetime=timedelta(hours=1)
        )
        return Credentials(grant=token, grant_csrf=grant.csrf)
    if caller.camera:
        with session_scope(rt.sessions) as session:
            _cam, token = add_camera(
                session,
                camera_id=f"CAM-AUTHZ-{factories.unique_plate()}",
                name="authz",
                violation_codes=["red_light"],
                actor="test",
            )
        return Credentials(bearer=token)
    if caller.role is None:
        return Credentials()
    officer: Officer = make_officer(rt, caller.role)
    key = rt.settings.signing_key
    api_token, _ = issue(officer, signing_key=key, audience=Audience.API, lifetime=timedelta(1))
    cookie, session_credential = issue(
        officer, signing_key=key, audience=Audience.CONSOLE, lifetime=timedelta(1)
    )
    if caller.disabled:
        with session_scope(rt.sessions) as session:
            disable_officer(session, officer.username, actor="test")
    return Credentials(bearer=api_token, cookie=cookie, csrf=session_credential.csrf)


def _allowed(access: Access, caller: Caller) -> bool:
    if access.kind == "public":
        return True
    if access.kind == "camera":
        return caller.camera
    if access.kind == "signed":
        return False  # none of these callers can sign a request
    if access.kind in ("portal", "portal_page"):
        return caller.citizen
    if caller.role is None or caller.disabled:
        return False
    return access.permission is None or access.permission in GRANTS[caller.role]


def _call(
    client: TestClient,
    method: str,
    path: str,
    *,
    bearer: str | None = None,
    cookie: str | None = None,
    csrf: str | None = None,
    portal_cookie: str | None = None,
) -> Response:
    url = path.format(**PATH_VALUES)
    kwargs: dict[str, Any] = {k: dict(v) for k, v in BODIES.get((method, path), {}).items()}
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    client.cookies.clear()
    if cookie:
        client.cookies.set(CONSOLE_COOKIE, cookie, path="/console")
    if portal_cookie:
        client.cookies.set(PORTAL_COOKIE, portal_cookie, path=PORTAL_PATH)
    if csrf is not None:
        kwargs.setdefault("data", {})[CSRF_FIELD] = csrf
    return client.request(method, url, headers=headers, follow_redirects=False, **kwargs)


def _refused(access: Access, response: Response) -> bool:
    if access.kind == "signed":
        return not response.is_success
    if access.kind == "portal_page":
        to_lookup = response.status_code == 303 and "/tilang?reason=" in response.headers.get(
            "location", ""
        )
        return to_lookup or response.status_code in (401, 403)
    if access.kind == "console":
        to_login = response.status_code == 303 and response.headers["location"].endswith(
            "/console/login"
        )
        return to_login or response.status_code == 403
    return response.status_code in (401, 403)


SIGNS_OUT = {("POST", "/console/logout")}


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
def test_each_caller_is_refused_exactly_what_it_may_not_do(
    rt: Runtime, app: FastAPI, caller: Caller
) -> None:
    credentials = _credentials(rt, caller)
    wrong: list[str] = []
    # Signing out ends the caller's credentials everywhere (a copied cookie must die with it),
    # so it is tried last.
    routes = sorted(every_route(app), key=lambda r: (r.method, r.path) in SIGNS_OUT)
    with TestClient(app) as client:
        for route in routes:
            access = ACCESS[(route.method, route.path)]
            is_console = access.kind == "console"
            is_page = access.kind == "portal_page"
            bearer = credentials.grant if access.kind == "portal" else credentials.bearer
            response = _call(
                client,
                route.method,
                route.path,
                bearer=None if is_console or is_page else bearer,
                cookie=credentials.cookie if is_console else None,
                csrf=(credentials.grant_csrf if is_page else credentials.csrf)
                if access.form
                else None,
                portal_cookie=credentials.grant if is_page else None,
            )
            if access.kind == "public":
                # Sign-in routes refuse bad credentials by design; public means no credential
                # is needed to be heard, which the declaration test checks. Here: no crash.
                failed = response.status_code >= 500
            else:
                failed = _refused(access, response) == _allowed(access, caller)
            if failed:
                wrong.append(f"{route.method} {route.path}: {response.status_code}")
    assert wrong == [], f"{caller.name}: allowed and refused the wrong way round"


def test_credentials_only_work_where_they_belong(rt: Runtime, app: FastAPI) -> None:
    """A console cookie opens no API route, an API token no console page, a form post without
    the CSRF secret nothing: checked on every officer and console route."""
    credentials = _credentials(rt, Caller("supervisor", Role.SUPERVISOR))
    wrong: list[str] = []
    with TestClient(app) as client:
        for route in every_route(app):
            access = ACCESS[(route.method, route.path)]
            if access.kind == "api":
                response = _call(client, route.method, route.path, cookie=credentials.cookie)
            elif access.kind == "console":
                response = _call(
                    client,
                    route.method,
                    route.path,
                    bearer=credentials.bearer,
                    # A form post with the right cookie but no CSRF secret is refused too.
                    cookie=credentials.cookie if access.form else None,
                )
            else:
                continue
            if not _refused(access, response):
                wrong.append(f"{route.method} {route.path}: {response.status_code}")
    assert wrong == []


def test_portal_grants_and_officer_credentials_do_not_mix(rt: Runtime, app: FastAPI) -> None:
    """A grant opens no officer or console route (as bearer or cookie); an officer's token or
    cookie opens no portal route; a portal form without the grant's CSRF secret is refused."""
    citizen = _credentials(rt, Caller("citizen", citizen=True))
    officer = _credentials(rt, Caller("supervisor", Role.SUPERVISOR))
    wrong: list[str] = []
    with TestClient(app) as client:
        for route in every_route(app):
            access = ACCESS[(route.method, route.path)]
            if access.kind in ("api", "console"):
                attempts = [
                    _call(client, route.method, route.path, bearer=citizen.grant),
                    _call(client, route.method, route.path, portal_cookie=citizen.grant),
                ]
            elif access.kind == "portal":
                attempts = [_call(client, route.method, route.path, bearer=officer.bearer)]
            elif access.kind == "portal_page":
                attempts = [
                    _call(client, route.method, route.path, bearer=officer.bearer),
                    _call(client, route.method, route.path, cookie=officer.cookie),
                ]
                if access.form:  # the right grant, no CSRF secret
                    attempts.append(
                        _call(client, route.method, route.path, portal_cookie=citizen.grant)
                    )
            else:
                continue
            for response in attempts:
                if not _refused(access, response):
                    wrong.append(f"{route.method} {route.path}: {response.status_code}")
    assert wrong == []
