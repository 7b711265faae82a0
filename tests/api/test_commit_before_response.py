"""A request's transaction is committed before its answer leaves the server.

Otherwise a client holds "done" for something that may still fail to commit, and its next
request can read the state from before (a browser following the console's redirect did, on
PostgreSQL). Measured on a live server with a commit made slow on purpose: the answer cannot
arrive before the commit has finished.
"""

from __future__ import annotations

import time

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.runtime import Runtime
from etle.cases.models import Case
from etle.db import session_scope
from etle.officers.models import Officer
from tests.api.conftest import bearer, make_officer, sample_cases

SLOW_COMMIT = 0.6


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
