"""Identical bank callbacks at the same moment, on PostgreSQL (issue 17, finding 2).

A bank that times out retries: the same `transaction_id`, a new request id each time, possibly
while the first is still being applied. Every one of them must answer 200 (the first `paid`,
the others `duplicate`), never `409 already_paid`, which tells the bank to refund a payment
that was applied.

The race is made certain, not hoped for: the test holds the payment's row lock, sends four
callbacks at once to a real server (one thread each), waits until all four are blocked on that
lock (so each has already looked for the transaction and found nothing), then lets go.
SQLite takes the write lock at the start of every transaction, so the race cannot happen there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from api.app import create_app
from api.runtime import Runtime
from etle.audit.models import AuditEvent
from etle.db import session_scope
from etle.payments.models import Payment, PaymentStatus
from tests.api.test_payments import _body, _issued
from tests.live_server import serving
from tests.portal_helpers import callback

CALLBACKS = 4


@pytest.fixture
def live(prt: Runtime) -> Iterator[str]:
    with serving(create_app(prt)) as url:
        yield url


def _waiting_on_locks(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


def test_identical_callbacks_at_once_all_answer_200(
    prt: Runtime, pclient: TestClient, live: str
) -> None:
    if prt.engine.dialect.name != "postgresql":
        pytest.skip("the race needs row locks (PostgreSQL); SQLite runs one writer at a time")
    _number, code = _issued(prt, pclient)
    body = _body(code)

    with prt.engine.connect() as holder:
        holder.execute(
            select(Payment.id).where(Payment.payment_code == code).with_for_update()
        ).one()
        with (
            httpx.Client(base_url=live, timeout=30) as client,
            ThreadPoolExecutor(CALLBACKS) as pool,
        ):
            futures = [pool.submit(callback, client, body) for _ in range(CALLBACKS)]  # type: ignore[arg-type]
            deadline = time.monotonic() + 20
            while _waiting_on_locks(prt) < CALLBACKS:
                assert time.monotonic() < deadline, "the callbacks never reached the row lock"
                time.sleep(0.05)
            holder.rollback()  # let go: the four proceed one after another
            answers = [future.result() for future in futures]

    assert [a.status_code for a in answers] == [200] * CALLBACKS, [a.text for a in answers]
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * (CALLBACKS - 1)
    assert {a.json()["transaction_id"] for a in answers} == {body["transaction_id"]}
    with session_scope(prt.sessions) as session:
        payment = session.scalars(select(Payment).where(Payment.payment_code == code)).one()
        assert (payment.status, payment.bank_transaction_id) == (
            PaymentStatus.PAID,
            body["transaction_id"],
        )
        received = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "payment.received")
        )
        assert received == 1
