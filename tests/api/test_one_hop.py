"""A request holds a database connection within one thread-pool hop only (DESIGN invariant 10,
issue 17): no connection is checked out when a hop begins or ends, on any route kind.

Every trip through the thread pool is watched (`anyio.to_thread.run_sync`, which Starlette and
FastAPI use for sync endpoints and dependencies); the requests run one at a time, so any
connection still checked out at a hop's edge belongs to the request in flight.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_session
from api.hops import is_within_hop
from api.runtime import Runtime
from etle.db import session_scope
from etle.officers.models import Role
from tests import factories
from tests.api.conftest import PASSWORD, bearer, make_officer, sample_cases
from tests.portal_helpers import new_notice


@pytest.fixture
def hops(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every hop's edges where a connection was checked out (should stay empty)."""
    original = anyio.to_thread.run_sync
    edges: list[str] = []
    pool = rt.engine.pool

    def held() -> int:
        return int(pool.checkedout())  # type: ignore[attr-defined]

    async def watched(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def hop() -> Any:
            name = getattr(function, "__qualname__", repr(function))
            if held():
                edges.append(f"start of {name}: {held()} checked out")
            try:
                return function(*args)
            finally:
                if held():
                    edges.append(f"end of {name}: {held()} checked out")

        return await original(hop, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", watched)
    return edges


def test_no_connection_is_held_between_hops(
    rt: Runtime, client: TestClient, hops: list[str]
) -> None:
    with session_scope(rt.sessions) as session:
        reviewer = factories.officer_with_password(session, PASSWORD, username="hop.reviewer")
    supervisor = make_officer(rt, Role.SUPERVISOR, username="hop.supervisor")
    sample_cases(rt, count=1)
    number, plate = new_notice(rt)
    hops.clear()
    answers = [
        client.post("/api/v1/review/claim", headers=bearer(rt, reviewer)).status_code,
        client.get("/api/v1/review/stats", headers=bearer(rt, supervisor)).status_code,
        client.get("/api/v1/review/99/frame", headers=bearer(rt, reviewer)).status_code,
        client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nope"}).status_code,
        client.post(
            "/api/v1/auth/token", data={"username": "hop.reviewer", "password": PASSWORD}
        ).status_code,
        client.get(f"/api/v1/public/notices/{number}", params={"plate": plate}).status_code,
        client.get("/api/v1/public/statistics").status_code,
        client.get("/console", follow_redirects=False).status_code,
        client.get("/readyz").status_code,
    ]
    assert answers[:3] == [200, 200, 404]
    assert answers[3] == 401
    assert answers[4:7] == [200, 200, 200]
    assert hops == []


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def test_every_user_of_the_request_session_ends_it_in_its_own_hop(rt: Runtime) -> None:
    """Structural: the endpoint or dependency that is handed the session is wrapped to end its
    transaction in its hop, and is never async (its queries would block the event loop)."""
    checked = 0
    for route in iter_route_contexts(create_app(rt).routes):
        top = getattr(route, "dependant", None)
        for dependant in _dependants(top) if top is not None else ():
            if not any(sub.call is get_session for sub in dependant.dependencies):
                continue
            checked += 1
            where = f"{route.path}: {dependant.call!r}"
            assert is_within_hop(dependant.call), where
            assert not inspect.iscoroutinefunction(inspect.unwrap(dependant.call)), where
    assert checked > 40
