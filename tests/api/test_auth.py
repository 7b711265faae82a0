"""Officer sign-in over the API: tokens, rate limits, instant revocation, camera separation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime, build_runtime
from etle.cameras.service import authenticate as camera_authenticate
from etle.db import session_scope
from etle.errors import Unauthorized
from etle.officers.models import Role
from etle.officers.service import disable_officer, reset_password
from etle.officers.tokens import Audience, issue
from tests import factories
from tests.api.conftest import PASSWORD, bearer, make_officer


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, object]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return {"status": response.status_code, "body": response.json(), "headers": response.headers}


def _add(rt: Runtime, username: str, role: Role = Role.REVIEWER) -> None:
    with session_scope(rt.sessions) as session:
        factories.officer_with_password(session, PASSWORD, username=username, role=role)


def test_password_flow_gives_a_short_lived_token_that_works(
    rt: Runtime, client: TestClient
) -> None:
    _add(rt, "sari")
    got = _login(client, "sari")
    assert got["status"] == 200
    body = got["body"]
    assert isinstance(body, dict)
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "sari"
    assert me.json()["permissions"] == ["review"]


def test_wrong_password_and_unknown_user_look_the_same(rt: Runtime, client: TestClient) -> None:
    _add(rt, "sari")
    wrong = _login(client, "sari", "not-the-password-at-all")
    unknown = _login(client, "nobody", PASSWORD)
    assert wrong["status"] == unknown["status"] == 401
    assert wrong["body"] == unknown["body"]
    assert wrong["headers"]["www-authenticate"] == "Bearer"  # type: ignore[index]


def test_failed_logins_are_limited_across_api_processes(rt: Runtime, client: TestClient) -> None:
    """Two app instances (two engines, as two API processes would be) share one counter."""
    _add(rt, "sari")
    other_rt = build_runtime(rt.settings)
    with TestClient(create_app(other_rt)) as other:
        for attempt in range(rt.settings.login_max_failures):
            target = client if attempt % 2 else other
            assert _login(target, "sari", f"wrong-password-{attempt}")["status"] == 401
        refused = _login(other, "sari")  # the right password, too late
        assert refused["status"] == 429
        assert int(refused["headers"]["retry-after"]) > 0  # type: ignore[index]
        assert _login(client, "sari")["status"] == 429
    other_rt.close()


def test_a_success_resets_the_count(rt: Runtime, client: TestClient) -> None:
    _add(rt, "sari")
    for attempt in range(rt.settings.login_max_failures - 1):
        assert _login(client, "sari", f"wrong-password-{attempt}")["status"] == 401
    assert _login(client, "sari")["status"] == 200
    assert _login(client, "sari", "wrong-password-again")["status"] == 401
    assert _login(client, "sari")["status"] == 200


def test_a_disabled_officer_loses_access_at_once(rt: Runtime, client: TestClient) -> None:
    officer = make_officer(rt)
    headers = bearer(rt, officer)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    with session_scope(rt.sessions) as session:
        disable_officer(session, officer.username, actor="officer:admin")
    refused = client.get("/api/v1/auth/me", headers=headers)
    assert refused.status_code == 401
    assert client.post("/api/v1/review/claim", headers=headers).status_code == 401


def test_a_password_reset_ends_every_earlier_token(rt: Runtime, client: TestClient) -> None:
    _add(rt, "sari")
    token = _login(client, "sari")["body"]["access_token"]  # type: ignore[index]
    headers = {"Authorization": f"Bearer {token}"}
    with session_scope(rt.sessions) as session:
        reset_password(session, "sari", password="Another-long-passphrase-9", actor="admin")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert _login(client, "sari", "Another-long-passphrase-9")["status"] == 200


def test_expired_forged_and_console_tokens_are_refused(rt: Runtime, client: TestClient) -> None:
    officer = make_officer(rt)
    key = rt.settings.signing_key
    expired, _ = issue(
        officer, signing_key=key, audience=Audience.API, lifetime=timedelta(minutes=-1)
    )
    console, _ = issue(
        officer, signing_key=key, audience=Audience.CONSOLE, lifetime=timedelta(hours=1)
    )
    forged, _ = issue(
        officer, signing_key=b"x" * 64, audience=Audience.API, lifetime=timedelta(hours=1)
    )
    for token in (expired, console, forged, "not-a-token"):
        response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


def test_camera_tokens_never_work_on_officer_endpoints(rt: Runtime, client: TestClient) -> None:
    with session_scope(rt.sessions) as session:
        _cam, token = _camera_with_token(session)
    response = client.post("/api/v1/review/claim", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "camera tokens" in response.json()["message"]


def test_officer_tokens_never_authenticate_a_camera(rt: Runtime) -> None:
    officer = make_officer(rt)
    token = bearer(rt, officer)["Authorization"].removeprefix("Bearer ")
    with session_scope(rt.sessions) as session, pytest.raises(Unauthorized):
        camera_authenticate(session, token)


def _camera_with_token(session: object) -> tuple[object, str]:
    from etle.cameras.service import add_camera

    return add_camera(
        session,  # type: ignore[arg-type]
        camera_id=f"CAM-A{factories.unique_plate()}",
        name="cam",
        violation_codes=["red_light"],
        actor="test",
    )
