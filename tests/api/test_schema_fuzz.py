"""Schemathesis against the OpenAPI document: generated requests (valid and not) to every
operation, with the right kind of credential for each, and no answer may be a 500 or
contradict the schema (status codes, content types, response bodies).

Bounded so the suite stays quick: a fixed number of examples per operation, on SQLite (the
code paths are the same on PostgreSQL; the database tests cover that). For a longer run:
`ETLE_FUZZ_EXAMPLES=200 python -m pytest tests/api/test_schema_fuzz.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings
from etle.cameras.service import add_camera
from etle.db import create_engine, session_scope
from etle.migrate import upgrade
from etle.officers import passwords
from etle.officers.models import Role
from etle.officers.tokens import Audience, issue
from etle.portal.grants import issue_grant
from tests import factories

EXAMPLES = int(os.environ.get("ETLE_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    data = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{data / 'etle.db'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    rt: Runtime = build_runtime(
        load_app_settings(
            data_dir=data,
            database_url=url,
            queue_url=None,
            metrics_token="fuzz-metrics-0123456789",
            portal_url="https://etle.example.id",  # as deployed: notices are held on http
        )
    )
    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024)
    with session_scope(rt.sessions) as session:
        admin = factories.officer(session, role=Role.ADMINISTRATOR)
        _camera, camera_token = add_camera(
            session, camera_id="CAM-FUZZ", name="fuzz", violation_codes=["red_light"], actor="t"
        )
        factories.case(session)
    officer_token, _ = issue(
        admin, signing_key=rt.settings.signing_key, audience=Audience.API, lifetime=timedelta(1)
    )
    grant, _ = issue_grant(
        [(1, 1)], signing_key=rt.settings.signing_key, lifetime=timedelta(hours=1)
    )
    tokens = {"camera": camera_token, "officer": officer_token, "grant": grant}
    yield create_app(rt), tokens
    passwords._hasher = original
    rt.close()


def _credential(path: str, tokens: dict[str, str]) -> dict[str, str]:
    if path == "/api/v1/frames":
        return {"Authorization": f"Bearer {tokens['camera']}"}
    if path.startswith("/api/v1/public/notices/"):
        return {"Authorization": f"Bearer {tokens['grant']}"}
    if path == "/metrics":
        return {"Authorization": "Bearer fuzz-metrics-0123456789"}
    return {"Authorization": f"Bearer {tokens['officer']}"}


def test_no_server_error_and_no_schema_violation(
    fuzz_target: tuple[Any, dict[str, str]],
) -> None:
    app, tokens = fuzz_target
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(
            case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
            | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        )
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same requests every run: a failure is never a fluke
            database=None,
        )
        def run(case: Any) -> None:
            headers = {**(case.headers or {}), **_credential(case.path, tokens)}
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations >= 40  # the whole API was exercised, not an empty schema
    assert failures == [], "\n\n".join(failures)
