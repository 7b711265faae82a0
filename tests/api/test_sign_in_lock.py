"""Signing in never holds the database while the password is checked (issue 17, finding 7).

On SQLite a transaction holds the only write lock, and argon2id costs a good part of a second:
75 failed sign-ins made camera pushes wait seconds. The check is made to look at the database
while it runs: no connection of the server may be checked out, and on SQLite another process
must be able to take the write lock at once.
"""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from api.runtime import Runtime
from etle.db import session_scope
from etle.officers import login
from tests import factories
from tests.api.conftest import PASSWORD


@pytest.fixture
def during_check(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the database looked like during each password check."""
    seen: list[str] = []
    original = login.verify_password

    def verify(password_hash: str, password: str) -> bool:
        seen.append(f"checked out {rt.engine.pool.checkedout()}")  # type: ignore[attr-defined]
        if rt.engine.dialect.name == "sqlite":
            other = sqlite3.connect(make_url(rt.settings.effective_database_url).database or "")
            try:
                other.execute("PRAGMA busy_timeout=0")
                other.execute("BEGIN IMMEDIATE")  # fails at once if anyone holds the lock
                other.execute("ROLLBACK")
                seen.append("write lock free")
            except sqlite3.OperationalError as exc:
                seen.append(f"write lock held: {exc}")
            finally:
                other.close()
        return original(password_hash, password)

    monkeypatch.setattr(login, "verify_password", verify)
    return seen


def test_the_password_is_checked_outside_any_transaction(
    rt: Runtime, client: TestClient, during_check: list[str]
) -> None:
    with session_scope(rt.sessions) as session:
        factories.officer_with_password(session, PASSWORD, username="lock.check")
    wrong = client.post("/api/v1/auth/token", data={"username": "lock.check", "password": "x" * 12})
    right = client.post("/api/v1/auth/token", data={"username": "lock.check", "password": PASSWORD})
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody", "password": PASSWORD})
    assert [wrong.status_code, right.status_code, unknown.status_code] == [401, 200, 401]
    expected = ["checked out 0"] + (
        ["write lock free"] if rt.engine.dialect.name == "sqlite" else []
    )
    assert during_check == expected * 3


def test_a_failed_check_stays_counted_and_a_right_one_is_a_success(
    rt: Runtime, client: TestClient
) -> None:
    with session_scope(rt.sessions) as session:
        factories.officer_with_password(session, PASSWORD, username="count.check")
    for _ in range(rt.settings.login_max_failures):
        client.post("/api/v1/auth/token", data={"username": "count.check", "password": "x" * 12})
    locked = client.post(
        "/api/v1/auth/token", data={"username": "count.check", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == str(rt.settings.login_window_seconds)


def test_a_token_answer_is_never_cached(rt: Runtime, client: TestClient) -> None:
    with session_scope(rt.sessions) as session:
        factories.officer_with_password(session, PASSWORD, username="cache.check")
    answer = client.post(
        "/api/v1/auth/token", data={"username": "cache.check", "password": PASSWORD}
    )
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Pragma"] == "no-cache"
