"""The console over HTTP: secure cookies, CSRF on every form, the review round trip."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime
from etle.audit.models import AuditEvent
from etle.cases.models import Case, CaseStatus
from etle.db import session_scope
from etle.officers.models import Role
from etle.officers.service import disable_officer
from tests import factories
from tests.api.conftest import PASSWORD, sample_cases


def _add(rt: Runtime, username: str, role: Role = Role.REVIEWER) -> None:
    with session_scope(rt.sessions) as session:
        factories.officer_with_password(session, PASSWORD, username=username, role=role)


def _csrf(page: Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def _sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Response:
    form = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": _csrf(form)},
        follow_redirects=False,
    )


def _cookie_attributes(response: Response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(name + "=")]
    assert headers, f"no {name} cookie set"
    return headers[0].lower()


def test_sign_in_sets_a_secure_session_cookie(rt: Runtime, client: TestClient) -> None:
    _add(rt, "sari")
    signed_in = _sign_in(client, "sari")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/console"
    cookie = _cookie_attributes(signed_in, "etle_console")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/console" in cookie
    assert "secure" not in cookie  # plain HTTP here (a local test server)
    with TestClient(create_app(rt), base_url="https://etle.example") as https:
        cookie = _cookie_attributes(_sign_in(https, "sari"), "etle_console")
        assert "secure" in cookie
        assert "httponly" in cookie


def test_sign_in_needs_the_forms_csrf_secret(rt: Runtime, client: TestClient) -> None:
    _add(rt, "sari")
    client.get("/console/login")
    forged = client.post(
        "/console/login",
        data={"username": "sari", "password": PASSWORD, "csrf_token": "guess"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "etle_console" not in forged.headers.get("set-cookie", "")


def test_wrong_passwords_in_the_console_are_limited_too(rt: Runtime, client: TestClient) -> None:
    _add(rt, "sari")
    for i in range(rt.settings.login_max_failures):
        assert _sign_in(client, "sari", f"wrong-password-{i}").status_code == 401
    locked = _sign_in(client, "sari")
    assert locked.status_code == 429
    assert "Terlalu banyak" in locked.text


def test_review_round_trip_with_csrf_on_every_form(rt: Runtime, client: TestClient) -> None:
    cases = sample_cases(rt, 2)
    _add(rt, "sari")
    _sign_in(client, "sari")
    idle = client.get("/console")
    assert idle.status_code == 200
    assert "2</strong> kasus menunggu" in idle.text
    # A form post without the secret changes nothing.
    assert client.post("/console/claim", follow_redirects=False).status_code == 403
    claimed = client.post(
        "/console/claim", data={"csrf_token": _csrf(idle)}, follow_redirects=False
    )
    assert claimed.status_code == 303
    page = client.get(claimed.headers["location"])
    first = cases[0].case_id
    assert f"Kasus #{first}" in page.text
    assert "Toyota" in page.text  # the registry record beside the evidence
    assert page.headers["cache-control"] == "no-store"
    assert client.get(f"/console/cases/{first}/frame").headers["content-type"] == "image/jpeg"
    assert client.get(f"/console/cases/{first}/plate").headers["content-type"] == "image/png"

    no_secret = client.post(
        f"/console/cases/{first}/decision", data={"action": "confirm"}, follow_redirects=False
    )
    assert no_secret.status_code == 403
    cross_site = client.post(
        f"/console/cases/{first}/decision",
        data={"action": "confirm", "csrf_token": _csrf(page)},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    with session_scope(rt.sessions) as session:
        assert session.get_one(Case, first).status == CaseStatus.PENDING_REVIEW

    bad_plate = client.post(
        f"/console/cases/{first}/decision",
        data={"action": "correct", "plate": "B 9 QQQ", "csrf_token": _csrf(page)},
        follow_redirects=False,
    )
    assert bad_plate.status_code == 422
    assert "tidak" in bad_plate.text or "not in the vehicle registry" in bad_plate.text
    with session_scope(rt.sessions) as session:
        events = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "review.decision")
        )
    assert events == 0  # the refused decision left nothing behind

    done = client.post(
        f"/console/cases/{first}/decision",
        data={"action": "confirm", "csrf_token": _csrf(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/console/cases/{cases[1].case_id}?")
    following = client.get(done.headers["location"])
    assert f"Kasus #{first} dikonfirmasi" in following.text
    with session_scope(rt.sessions) as session:
        assert session.get_one(Case, first).status == CaseStatus.CONFIRMED

    out = client.post(
        "/console/logout", data={"csrf_token": _csrf(following)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"


def test_administrators_are_refused_the_console(rt: Runtime, client: TestClient) -> None:
    _add(rt, "admin", Role.ADMINISTRATOR)
    _sign_in(client, "admin")
    refused = client.get("/console")
    assert refused.status_code == 403
    assert "administrator" in refused.text


def test_a_disabled_officer_is_signed_out_at_the_next_page(rt: Runtime, client: TestClient) -> None:
    _add(rt, "sari")
    _sign_in(client, "sari")
    assert client.get("/console").status_code == 200
    with session_scope(rt.sessions) as session:
        disable_officer(session, "sari", actor="officer:admin")
    gone = client.get("/console", follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"] == "/console/login"
