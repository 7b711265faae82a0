"""The two ways a request writes, as a contract (api/deps.py, docs/development.md).

A route given the ordinary `DbSession` never commits it itself: its route class does, when the
endpoint returns (and rolls back when it raises). A route that must keep what it recorded
whatever its answer (an attempt counted against a rate limit) says so by taking
`CommitsEvenIfRefused`, and opens its units of work only through it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from api.app import create_app
from api.deps import DbSession, get_own_transactions, get_session
from api.hops import OneHopRoute
from api.runtime import Runtime
from etle.cameras.models import Camera
from tests.conftest import REPO

# A rollback is allowed: a page that answers a refused change with a form and its error (not
# an error status) drops the change itself (the console's decision).
ENDS = {"commit"}
# Routes that read in sessions of their own and never commit (nothing to record).
READERS = {"/metrics": "the gauges are read at scrape time (etle.metrics.StateCollector)"}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _function(call: Any) -> Any:
    call = inspect.unwrap(call)
    if inspect.isclass(call):
        return call.__init__  # a class as a dependency (a form model)
    if not (inspect.isfunction(call) or inspect.ismethod(call)):
        call = inspect.unwrap(type(call).__call__)  # a dependency object (`OfficerAuth(...)`)
    return call


def _ours(call: Any) -> bool:
    function = _function(call)
    return inspect.isfunction(function) and not function.__module__.startswith(
        ("fastapi.", "starlette.")
    )


def _tree(call: Any) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(_function(call))))


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def offences(routes: Iterable[Any]) -> list[str]:
    """What breaks the rule, one line each, for every endpoint and dependency of `routes`."""
    found: list[str] = []
    for route in iter_route_contexts(routes):
        top = getattr(route, "dependant", None)
        for dependant in _dependants(top) if top is not None else ():
            if dependant.call in (None, get_session, get_own_transactions):
                continue  # the two dependencies themselves make the sessions
            if not _ours(dependant.call):
                continue  # the framework's own (bearer schemes, the OAuth2 form)
            given = {sub.call for sub in dependant.dependencies}
            units = {sub.name for sub in dependant.dependencies if sub.call is get_own_transactions}
            where = f"{route.path}: {_function(dependant.call).__qualname__}"
            tree = _tree(dependant.call)
            for call in _calls(tree):
                func = call.func
                if get_session in given and isinstance(func, ast.Attribute) and func.attr in ENDS:
                    found.append(f"{where} takes DbSession and calls .{func.attr}() itself")
                if isinstance(func, ast.Name) and func.id == "session_scope":
                    found.append(f"{where} opens a session_scope: take CommitsEvenIfRefused")
            for node in ast.walk(tree) if route.path not in READERS else ():
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "sessions"
                    and not (isinstance(node.value, ast.Name) and node.value.id in units)
                ):
                    found.append(f"{where} uses a session factory: take CommitsEvenIfRefused")
    return found


def test_no_route_commits_the_ordinary_session_or_opens_its_own_unnamed(rt: Runtime) -> None:
    app = create_app(rt)
    assert offences(app.routes) == []


# Request-serving code, and the modules among it that read in sessions of their own (nothing to
# record, nothing committed): the readiness checks and the metrics' gauges.
SERVING = ["api/routers", "api/portal", "api/console", "api/security.py", "api/access.py"]
READER_MODULES = {"api/routers/health.py", "api/metrics.py"}
NAMED = {"CommitsEvenIfRefused", "OwnTransactions"}


def unnamed_sessions(source: str, path: str) -> list[str]:
    """Where code that serves requests opens sessions other than through the two named
    dependencies: `session_scope`, or the runtime's session factory (`.sessions`) on anything
    but a parameter typed `CommitsEvenIfRefused` / `OwnTransactions`."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "session_scope":
            found.append(f"{path}:{node.lineno} session_scope")
    if path in READER_MODULES:
        return found
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        named = {
            arg.arg
            for arg in [*function.args.args, *function.args.kwonlyargs]
            if isinstance(arg.annotation, ast.Name) and arg.annotation.id in NAMED
        }
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "sessions"
                and not (isinstance(node.value, ast.Name) and node.value.id in named)
            ):
                found.append(f"{path}:{node.lineno} .sessions in {function.name}")
    return sorted(set(found))


def test_no_serving_code_opens_sessions_unnamed() -> None:
    files = sorted(
        path
        for place in SERVING
        for path in ((REPO / place).rglob("*.py") if (REPO / place).is_dir() else [REPO / place])
    )
    assert len(files) > 15
    found = [
        offence
        for path in files
        for offence in unnamed_sessions(path.read_text(), str(path.relative_to(REPO)))
    ]
    assert found == []


def test_a_helper_that_opens_a_session_of_its_own_is_found() -> None:
    source = textwrap.dedent(
        """
        def _count(rt: AppRuntime, address: str) -> None:
            with session_scope(rt.sessions) as session:
                record_attempt(session, address)

        def _fine(units: CommitsEvenIfRefused, address: str) -> None:
            with units() as session:
                record_attempt(session, address)
            sign_in(units.sessions, address)
        """
    )
    assert unnamed_sessions(source, "api/routers/x.py") == [
        "api/routers/x.py:3 .sessions in _count",
        "api/routers/x.py:3 session_scope",
    ]


def test_the_routes_that_record_a_refused_attempt_say_so(rt: Runtime) -> None:
    named = set()
    for route in iter_route_contexts(create_app(rt).routes):
        top = getattr(route, "dependant", None)
        if top is not None and any(d.call is get_own_transactions for d in _dependants(top)):
            named.add(route.path)
    # Sign-in (API and console), portal lookups (API and page), code verification (API and
    # page), scam reports (API and page), the camera's frame push.
    assert {
        "/api/v1/auth/token",
        "/console/login",
        "/api/v1/public/notices/{notice_number}",
        "/api/v1/public/notices",
        "/api/v1/public/verify",
        "/api/v1/public/scam-reports",
        "/api/v1/frames",
    } <= named, named


def test_a_route_that_commits_the_ordinary_session_fails() -> None:
    router = APIRouter(route_class=OneHopRoute)

    @router.delete("/cameras/{camera_id}")
    def remove(camera_id: int, session: DbSession) -> None:
        session.delete(session.get_one(Camera, camera_id))
        session.commit()  # the offence: the route class commits, once, when this returns

    @router.get("/cameras")
    def listing(session: DbSession, rt: Any) -> None:
        from etle.db import session_scope

        with session_scope(rt.sessions):
            pass

    app = FastAPI()
    app.include_router(router)

    assert offences(app.routes) == [
        "/cameras/{camera_id}: test_a_route_that_commits_the_ordinary_session_fails"
        ".<locals>.remove takes DbSession and calls .commit() itself",
        "/cameras: test_a_route_that_commits_the_ordinary_session_fails.<locals>.listing "
        "opens a session_scope: take CommitsEvenIfRefused",
        "/cameras: test_a_route_that_commits_the_ordinary_session_fails.<locals>.listing "
        "uses a session factory: take CommitsEvenIfRefused",
    ]
