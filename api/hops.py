"""A request holds a database connection within one thread-pool hop only (DESIGN invariant 10).

Why: FastAPI runs each sync dependency, the sync endpoint, and the exit of a sync generator
dependency in separate trips ("hops") through the thread pool. A session that took its
connection in one hop and committed in a later one kept the connection (and, on SQLite, the
write lock) while it waited for a free thread; under a flood every thread then waited for a
connection held by a request that was waiting for a thread, and everything stalled until the
pool's time-out (issue 17).

How: the request's session (`api.deps.DbSession`) is made and closed in the event loop, where
neither needs I/O, and every piece of sync code that uses it ends its transaction before its
hop ends:

* the endpoint: routers use `OneHopRoute`, which commits (or rolls back) in the endpoint's own
  hop, before the answer leaves (so a camera told 202 may delete its copy);
* a dependency that reads with it (the officer behind a token): `@within_hop` ends the read
  transaction in the dependency's hop. The objects it loaded stay usable (the session does not
  expire them on commit); the endpoint's transaction begins afresh when it first queries.

`tests/api/test_one_hop.py` runs requests with every hop checked: no connection may be checked
out when a hop starts or ends.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

# Marks the request's session in `Session.info`, so a wrapper finds it among the arguments.
REQUEST_SESSION = "etle_request_session"
WITHIN_HOP = "__etle_within_hop__"

F = TypeVar("F", bound=Callable[..., Any])


def request_sessions(arguments: dict[str, Any]) -> list[Session]:
    return [
        value
        for value in arguments.values()
        if isinstance(value, Session) and value.info.get(REQUEST_SESSION)
    ]


def within_hop(function: F) -> F:
    """Wrap sync code given the request's session: commit when it returns, roll back when it
    raises, both in the hop that ran it. Idempotent."""
    if is_within_hop(function):
        return function

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = request_sessions(kwargs)
        try:
            result = function(*args, **kwargs)
            for session in sessions:
                session.commit()
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        return result

    setattr(run, WITHIN_HOP, True)
    return run  # type: ignore[return-value]


def is_within_hop(call: Any) -> bool:
    """True for a function wrapped by `within_hop`, or an object whose `__call__` is."""
    return bool(getattr(call, WITHIN_HOP, False) or getattr(type(call).__call__, WITHIN_HOP, False))


class OneHopRoute(APIRoute):
    """Every sync endpoint commits its request session in its own hop. Async endpoints may not
    take the session (their I/O would run in the event loop); `tests/api/test_one_hop.py`
    checks every route."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = within_hop(endpoint)
        super().__init__(path, endpoint, **kwargs)
