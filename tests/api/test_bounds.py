"""Every number and date a URL carries is bounded before it reaches the database (issue 17,
finding 6): a case id past 64 bits or a date in the year 1 is a 404 or 422, never a 500 (or a
503 on PostgreSQL, whose driver refuses such a number as a database error)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.runtime import Runtime
from etle.officers.models import Role
from tests.api.conftest import bearer, make_officer

HUGE = "99999999999999999999999"
BIGINT_MAX = str(2**63 - 1)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/review/{id}/frame"),
        ("GET", "/api/v1/review/{id}/plate"),
        ("GET", "/api/v1/review/{id}/owner-photo"),
        ("POST", "/api/v1/review/{id}/release"),
        ("POST", "/api/v1/review/{id}/decision"),
        ("GET", "/api/v1/review/overrides?before_id={id}"),
    ],
)
def test_ids_beyond_64_bits_are_refused_and_the_largest_is_looked_up(
    rt: Runtime, client: TestClient, method: str, path: str
) -> None:
    headers = bearer(rt, make_officer(rt, Role.SUPERVISOR))
    body = {"action": "confirm"} if path.endswith("decision") else None
    for case_id, allowed in ((HUGE, {422}), ("0", {422}), (BIGINT_MAX, {200, 404, 409})):
        answer = client.request(method, path.format(id=case_id), headers=headers, json=body)
        assert answer.status_code in allowed, (case_id, answer.text)
        assert answer.status_code == 200 or "error" in answer.json()


@pytest.mark.parametrize(
    "since",
    ["0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-07:00", "1970-01-01T00:00:00Z"],
)
def test_dates_outside_the_service_years_are_refused(
    rt: Runtime, client: TestClient, since: str
) -> None:
    headers = bearer(rt, make_officer(rt, Role.SUPERVISOR))
    answer = client.get("/api/v1/review/stats", params={"since": since}, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"] == "query.since"
    ok = client.get(
        "/api/v1/review/stats", params={"since": "2026-11-01T00:00:00+07:00"}, headers=headers
    )
    assert ok.status_code == 200


def test_console_case_pages_bound_their_id(rt: Runtime, client: TestClient) -> None:
    for path in (
        f"/console/cases/{HUGE}",
        f"/console/cases/{HUGE}/frame",
        f"/console?decided={HUGE}",
    ):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code in (303, 401, 422), path  # refused before the database


def test_an_unexpected_error_answers_in_the_json_error_shape(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.app import create_app
    from api.routers import public_portal

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(public_portal, "transparency", broken)
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/public/statistics")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": "internal_error",
        "message": "something went wrong on our side; it has been logged",
    }


def test_the_api_docs_need_no_internet(client: TestClient) -> None:
    """Issue 17: /docs loaded Swagger UI from a public CDN; every file now comes from here."""
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
        r"url: '([^']+)'", page.text
    )
    assert urls, page.text
    for url in urls:
        assert url.startswith("/"), f"{url} is not served by this server"
        assert client.get(url).status_code == 200, url
    assert "Apache License" in client.get("/docs/assets/LICENSE").text
    assert client.get("/docs/assets/swagger-editor.js").status_code == 404
    assert client.get("/redoc").status_code == 404
