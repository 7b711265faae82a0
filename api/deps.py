"""Request dependencies, and the two ways a request writes to the database.

* `DbSession`, the ordinary one: the request's session, committed by its route class when the
  endpoint returns (`api.hops`), rolled back when it raises. An endpoint given it never commits
  by itself: its work and its answer stand or fall together. (It may roll back a refused
  change to answer with a page rather than an error: the console's decision form.)
* `CommitsEvenIfRefused`: units of work the endpoint commits itself (`with units() as
  session:`), each before it has decided its answer. For what must be kept whatever the answer:
  a sign-in attempt or a portal lookup counted against its rate limit (the refusal raised after
  the count would roll it back in a `DbSession`), a scam report, a stored frame. A route takes
  one or the other; `tests/api/test_transactions.py` fails on a route that takes the ordinary
  session and commits it, or that opens sessions of its own without this dependency.

Who may call a route is said by its dependencies, one alias per kind of caller, so a test can
classify every route: `CameraDevice` (a roadside camera, by its bearer token), the officer
dependencies of `api.security` (an officer with a permission), none (public).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.hops import REQUEST_SESSION, within_hop
from api.runtime import Runtime
from etle.cameras.models import Camera
from etle.cameras.service import authenticate, is_camera_token
from etle.db import session_scope
from etle.errors import Unauthorized

log = logging.getLogger(__name__)


async def get_runtime(request: Request) -> Runtime:
    # async: no I/O here, so no trip through the thread pool (that costs CPU on every request)
    runtime: Runtime = request.app.state.runtime
    return runtime


AppRuntime = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: AppRuntime) -> AsyncIterator[Session]:
    """The request's session. Made and closed here in the event loop, where neither touches
    the database; the code that uses it commits in its own thread-pool hop (`api.hops`): the
    endpoint through `OneHopRoute`, a dependency through `@within_hop`. The commit, and the
    jobs queued after it, happen before the answer is sent (a camera told 202 may delete its
    copy; tests/api/test_commit_before_answer.py)."""
    session = runtime.sessions()
    session.info[REQUEST_SESSION] = True
    try:
        yield session
    finally:
        if session.in_transaction():
            # Some sync code used the session outside a hop that ends its transaction: a bug
            # (tests/api/test_one_hop.py), answered safely: the rollback runs off the loop.
            log.error("request session still in a transaction at the end of the request")
            await run_in_threadpool(session.close)
        else:
            session.close()


# scope="function": closed when the route returns, before the answer is sent.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


class OwnTransactions:
    """Units of work an endpoint commits itself (see the module's docstring)."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions  # for services that run their own transactions (`sign_in`)

    def __call__(self) -> AbstractContextManager[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        return session_scope(self.sessions)


async def get_own_transactions(runtime: AppRuntime) -> OwnTransactions:
    # async: nothing is opened here; each unit of work opens (and ends) its own session in
    # the caller's thread-pool hop.
    return OwnTransactions(runtime.sessions)


CommitsEvenIfRefused = Annotated[OwnTransactions, Depends(get_own_transactions)]


camera_bearer = HTTPBearer(
    scheme_name="CameraToken",
    description="The camera's token (`etlecam_...`), shown once by `etle cameras add` or "
    "`etle cameras rotate-token`.",
    auto_error=False,
)


@within_hop
def get_camera_device(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(camera_bearer)],
) -> Camera:
    """The camera whose token came with the request: 401 if none, unknown or disabled. Only
    `etlecam_` tokens are looked up, so no other credential can ever act as a camera."""
    if credentials is None:
        raise Unauthorized("send the camera token as `Authorization: Bearer etlecam_...`")
    return authenticate(session, credentials.credentials)


CameraDevice = Annotated[Camera, Depends(get_camera_device)]


async def get_camera_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(camera_bearer)],
) -> str:
    """The bearer token a camera sent, not yet checked: the frame push looks the camera up in
    the same statement as the frame's repeats (`camera_ingest.intake.ingest_pushed_frame`).
    async: no I/O, so no trip through the thread pool. Any other credential (an officer's) is
    refused here, before the request's form is even looked at."""
    if credentials is None:
        raise Unauthorized("send the camera token as `Authorization: Bearer etlecam_...`")
    if not is_camera_token(credentials.credentials):
        raise Unauthorized("not a camera token")
    return credentials.credentials


CameraToken = Annotated[str, Depends(get_camera_token)]
