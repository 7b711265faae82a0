"""What an attacker on the internet tries, and what they get: uploads built to confuse
(polyglots, files that only pretend to be images, traversal in file names), SQL injection in
every text field of every operation, a copied console cookie replayed after sign-out, and web
pages without their security headers.

Other attacks have their own tests: decompression bombs, absurd dimensions and huge metadata
(tests/api/test_frames.py), replayed webhooks and bank callbacks (tests/notices/test_messages.py,
tests/api/test_payments.py, tests/etle/payments/test_payments.py), tokens after a password reset or
when an account is disabled (tests/api/test_auth.py), the authorisation matrix
(tests/api/test_authorization.py), generated requests against the schema (test_schema_fuzz.py).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import func, inspect, select

from api.app import create_app
from api.runtime import Runtime
from etle.cameras.service import add_camera
from etle.cases.models import Case
from etle.db import session_scope
from etle.frames.models import Frame
from etle.officers.models import Officer, Role
from etle.officers.tokens import Audience, issue
from tests import factories
from tests.api.conftest import PASSWORD
from tests.api.test_authorization import every_route
from tests.factories import jpeg


@pytest.fixture
def camera(rt: Runtime) -> str:
    with session_scope(rt.sessions) as session:
        _camera, token = add_camera(
            session, camera_id="CAM-X", name="x", violation_codes=["red_light"], actor="test"
        )
    return token


def _push(client: TestClient, token: str, data: bytes, filename: str, content_type: str) -> Any:
    return client.post(
        "/api/v1/frames",
        headers={"Authorization": f"Bearer {token}"},
        files={"image": (filename, data, content_type)},
        data={"metadata": json.dumps({"captured_at": datetime.now(UTC).isoformat()})},
    )


def _stored(rt: Runtime) -> list[tuple[str, str]]:
    with session_scope(rt.sessions) as session:
        return [(r.sha256, r.content_type) for r in session.scalars(select(Frame))]


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("shell.php", "<?php system($_GET['c']); ?>")
    return out.getvalue()


DISGUISED = {
    "html": b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
    "gif-html": b"GIF89a\x01\x00\x01\x00\x00\x00\x00<script>alert(1)</script>",
    "pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF",
    "zip": _zip(),
    "php": b"<?php echo 'x'; ?>",
}


@pytest.mark.parametrize("kind", sorted(DISGUISED))
def test_files_that_only_claim_to_be_images_are_refused(
    rt: Runtime, camera: str, kind: str
) -> None:
    with TestClient(create_app(rt)) as client:
        answer = _push(client, camera, DISGUISED[kind], "frame.jpg", "image/jpeg")
    assert answer.status_code == 415
    assert answer.json()["error"] == "unsupported_media_type"
    assert _stored(rt) == []
    assert not any(p.is_file() for p in rt.evidence.root.rglob("*"))


def test_a_polyglot_is_kept_as_the_image_it_is_and_served_only_as_that(rt: Runtime) -> None:
    """A JPEG with a ZIP (or a script) after its end marker is a valid JPEG: it is evidence as
    sent, byte for byte. What matters is that it is typed by its content, never by the name or
    type the client gave, and served back as an image that a browser will not sniff."""
    polyglot = jpeg(seed=7) + _zip() + b"<script>alert(1)</script>"
    with session_scope(rt.sessions) as session:
        _cam, token = add_camera(
            session, camera_id="CAM-P", name="p", violation_codes=["red_light"], actor="t"
        )
    with TestClient(create_app(rt)) as client:
        answer = _push(client, token, polyglot, "evil.html", "text/html")
        assert answer.status_code == 202
        [(digest, content_type)] = _stored(rt)
        assert content_type == "image/jpeg"
        assert rt.evidence.get(digest) == polyglot  # evidence is never altered
        with session_scope(rt.sessions) as session:
            frame = session.get_one(Frame, answer.json()["frame_id"])
            case = factories.case(session, frame=frame)
            reviewer = factories.officer(session, role=Role.REVIEWER)
            case_id = case.id
        token, _ = issue(
            reviewer, signing_key=rt.settings.signing_key, audience=Audience.API,
            lifetime=timedelta(hours=1),
        )  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        claimed = client.post("/api/v1/review/claim", headers=auth).json()
        assert claimed["case"]["case_id"] == case_id
        served = client.get(f"/api/v1/review/{case_id}/frame", headers=auth)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"


TRAVERSALS = [
    "../../../../etc/passwd.jpg",
    "..\\..\\..\\windows\\win.ini.jpg",
    "/etc/cron.d/etle.jpg",
    "%2e%2e%2f%2e%2e%2fescape.jpg",
    "frame.jpg\x00.php",
    "....//....//escape.jpg",
]


def test_file_names_are_never_used_as_paths(rt: Runtime, camera: str, tmp_path: Path) -> None:
    before = {p for p in tmp_path.rglob("*")}
    with TestClient(create_app(rt)) as client:
        for n, name in enumerate(TRAVERSALS):
            answer = _push(client, camera, jpeg(seed=100 + n), name, "image/jpeg")
            assert answer.status_code == 202, name
    created = {p for p in tmp_path.rglob("*")} - before
    evidence = rt.evidence.root.resolve()
    files = [p for p in created if p.is_file() and not p.name.startswith("queue.db")]
    # Every new file is evidence, named by its hash, inside the evidence store; nothing else.
    assert len([p for p in files if p.resolve().is_relative_to(evidence)]) == len(TRAVERSALS)
    for path in files:
        assert path.resolve().is_relative_to(evidence), path
        assert re.fullmatch(r"[0-9a-f]{64}", path.name), path
    for outside in ("/etc/passwd.jpg", "/etc/cron.d/etle.jpg", "/windows/win.ini.jpg"):
        assert not Path(outside).exists()
    assert not list(tmp_path.parent.glob("*escape*"))


INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE frames; --",
    '" OR 1=1 --',
    "1' UNION SELECT password_hash FROM officers --",
    "B 1234 ABC'); DELETE FROM cases; --",
    "\\'; SELECT pg_sleep(10); --",
]


def _inject(value: Any, payloads: Iterator[str]) -> Any:
    if isinstance(value, str):
        return next(payloads)
    if isinstance(value, dict):
        return {k: _inject(v, payloads) for k, v in value.items()}
    if isinstance(value, list):
        return [_inject(v, payloads) for v in value]
    return value


def test_sql_injection_in_every_text_field_is_only_text(rt: Runtime, camera: str) -> None:
    """Every operation of the API, with every string in its path, query, headers it takes and
    body replaced by an injection string: never a server error, and afterwards every table is
    there and nothing was mass-deleted or read out."""
    with session_scope(rt.sessions) as session:
        admin = factories.officer_with_password(session, PASSWORD, role=Role.ADMINISTRATOR)
        factories.case(session)
        username = admin.username
    with session_scope(rt.sessions) as session:
        counts = {
            "cases": session.scalar(select(func.count()).select_from(Case)),
            "officers": session.scalar(select(func.count()).select_from(Officer)),
        }
    tables = set(inspect(rt.engine).get_table_names())
    app = create_app(rt)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    payloads = cycle(INJECTIONS)
    bearer = issue(
        admin, signing_key=rt.settings.signing_key, audience=Audience.API,
        lifetime=timedelta(hours=1),
    )[0]  # fmt: skip
    answered: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
            derandomize=True, database=None,
        )  # fmt: skip
        def run(case: Any) -> None:
            case.path_parameters = _inject(case.path_parameters, payloads)
            case.query = _inject(case.query, payloads)
            if isinstance(case.body, dict | list):
                case.body = _inject(case.body, payloads)
            token = camera if case.path == "/api/v1/frames" else bearer
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            answered[response.status_code] = answered.get(response.status_code, 0) + 1
            case.validate_response(response, checks=[not_a_server_error])

        run()
    assert sum(answered.values()) > 40
    assert set(inspect(rt.engine).get_table_names()) == tables
    with session_scope(rt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == counts["cases"]
        assert session.scalar(select(func.count()).select_from(Officer)) == counts["officers"]
    # The administrator can still sign in: no password or account was changed by any of it.
    with TestClient(app) as client:
        signed_in = client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert signed_in.status_code == 200
        for plate in INJECTIONS:  # the portal finds nothing for an injected plate
            looked = client.get("/api/v1/public/notices/26110000000001", params={"plate": plate})
            assert looked.status_code in (404, 422, 429), plate


def test_a_copied_console_cookie_is_dead_after_sign_out(rt: Runtime) -> None:
    with session_scope(rt.sessions) as session:
        reviewer = factories.officer_with_password(session, PASSWORD, role=Role.REVIEWER)
        username = reviewer.username
    with TestClient(create_app(rt)) as client:
        page = client.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        client.post(
            "/console/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
        console = client.get("/console")
        assert console.status_code == 200
        stolen = dict(client.cookies)  # what a shared terminal or a proxy log would keep
        token = re.search(r'name="csrf_token" value="([^"]+)"', console.text)
        assert token is not None
        out = client.post(
            "/console/logout", data={"csrf_token": token.group(1)}, follow_redirects=False
        )
        assert out.status_code == 303
    with TestClient(create_app(rt), cookies=stolen) as attacker:
        replay = attacker.get("/console", follow_redirects=False)
    assert replay.status_code in (303, 401)
    assert replay.headers.get("location", "/console/login").startswith("/console/login")


def test_every_web_page_carries_the_security_headers(rt: Runtime) -> None:
    app = create_app(rt)
    pages = [
        route.path
        for route in every_route(app)
        if route.method == "GET"
        and "{" not in route.path
        and not route.path.startswith(("/api/", "/openapi", "/docs", "/redoc", "/metrics"))
    ]
    assert {"/", "/console/login", "/tilang", "/verifikasi", "/statistik"} <= set(pages)
    html = 0
    with TestClient(app) as client:
        for path in pages:
            answer = client.get(path, follow_redirects=False)
            assert answer.headers["x-content-type-options"] == "nosniff", path
            assert answer.headers["referrer-policy"] == "no-referrer", path
            assert answer.headers["x-frame-options"] == "DENY", path
            if answer.headers.get("content-type", "").startswith("text/html"):
                html += 1
                csp = answer.headers.get("content-security-policy", "")
                assert "frame-ancestors 'none'" in csp, path
                assert "default-src" in csp, path
                assert "unsafe-inline" not in csp.split("script-src")[-1].split(";")[0], path
    assert html >= 5
