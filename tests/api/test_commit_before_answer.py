"""A request's transaction is committed before its answer leaves the server.

Otherwise a client holds "done" for something that may still fail to commit: a camera told 202
may delete its copy of a frame that was never stored, and a browser following the console's
redirect could read the state from before (it did, on PostgreSQL).

FastAPI runs the code after `yield` in a dependency *after* sending the response by default
(scope "request", FastAPI >= 0.121); `DbSession` asks for scope "function", which runs it
before. The first test pins that framework behaviour down; the next ones check the frame route
(its unit of work commits, and queues its job, before it answers); the last one a live server
with a commit made slow on purpose: the answer cannot arrive before the commit has finished.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.app import create_app
from api.runtime import Runtime
from etle.cameras.service import add_camera
from etle.cases.models import Case
from etle.db import session_scope
from etle.frames.models import Frame
from etle.officers.models import Officer
from tests.api.conftest import bearer, make_officer, sample_cases
from tests.factories import jpeg

SLOW_COMMIT = 0.6


def recording(app: ASGIApp, events: list[str]) -> ASGIApp:
    """The app, noting when the response starts to leave."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                events.append("answer")
            await send(message)

        await app(scope, receive, send_and_note)

    return wrapped


_order: list[str] = []


def _request_scoped() -> Iterator[None]:
    yield
    _order.append("request-scope exit")


def _function_scoped() -> Iterator[None]:
    yield
    _order.append("function-scope exit")


def test_installed_fastapi_runs_yield_exits_as_expected() -> None:
    app = FastAPI()

    @app.get("/")
    def route(
        _a: Annotated[None, Depends(_request_scoped)],
        _b: Annotated[None, Depends(_function_scoped, scope="function")],
    ) -> dict[str, str]:
        _order.append("route")
        return {}

    _order.clear()
    with TestClient(recording(app, _order)) as client:
        assert client.get("/").status_code == 200
    assert _order == ["route", "function-scope exit", "answer", "request-scope exit"]


def _camera(rt: Runtime) -> str:
    with session_scope(rt.sessions) as session:
        _camera, token = add_camera(
            session, camera_id="CAM-C", name="C", violation_codes=["red_light"], actor="test"
        )
    return token


def _push(client: TestClient, token: str) -> Any:
    return client.post(
        "/api/v1/frames",
        headers={"Authorization": f"Bearer {token}"},
        files={"image": ("f.jpg", jpeg(42), "image/jpeg")},
        data={"metadata": json.dumps({"captured_at": datetime.now(UTC).isoformat()})},
    )


def test_frame_is_committed_and_queued_before_the_answer(rt: Runtime) -> None:
    token = _camera(rt)
    events: list[str] = []
    event.listen(rt.engine, "commit", lambda _conn: events.append("commit"))
    sent = rt.queue.send

    def send_and_note(name: str, *args: Any) -> None:
        events.append("queued")
        sent(name, *args)

    rt.queue.send = send_and_note  # type: ignore[method-assign]
    with TestClient(recording(create_app(rt), events), client=("127.0.0.1", 1)) as client:
        events.clear()
        assert _push(client, token).status_code == 202
    assert events == ["commit", "queued", "answer"]


def test_a_commit_that_fails_never_answers_202(rt: Runtime) -> None:
    token = _camera(rt)

    def refuse(_conn: Any) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk full"))

    with TestClient(create_app(rt), client=("127.0.0.1", 1)) as client:
        event.listen(rt.engine, "commit", refuse)
        answer = _push(client, token)
        event.remove(rt.engine, "commit", refuse)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"] == "service_unavailable"
    with session_scope(rt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Frame)) == 0
    assert rt.queue.depth() == 0


def test_the_claim_is_committed_before_the_answer(rt: Runtime, live_url: str) -> None:
    [sample] = sample_cases(rt, 1)
    officer = make_officer(rt)
    committed_at: list[float] = []

    def slow(_session: Session) -> None:
        time.sleep(SLOW_COMMIT)
        committed_at.append(time.monotonic())

    event.listen(rt.sessions, "before_commit", slow)
    try:
        response = httpx.post(
            f"{live_url}/api/v1/review/claim", headers=bearer(rt, officer), timeout=30
        )
        answered_at = time.monotonic()
    finally:
        event.remove(rt.sessions, "before_commit", slow)
    assert response.status_code == 200
    assert committed_at, "the answer arrived before the transaction had committed"
    assert committed_at[0] <= answered_at
    with session_scope(rt.sessions) as session:
        assert session.get_one(Case, sample.case_id).lease_officer_id == officer.id
        assert session.get_one(Officer, officer.id).active
