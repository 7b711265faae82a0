"""Dispatching in chunks: one job sends many deliveries, and each keeps its own guarantees."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from etle.audit.chain import verify
from etle.cases.models import Case
from etle.db import session_scope
from etle.notices.models import Channel, Delivery, DeliveryStatus
from tests import factories
from tests.conftest import MakeRuntime
from tests.notices.peers import smtp_server


def _email_states(rt) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with session_scope(rt.sessions) as session:
        rows = session.scalars(select(Delivery).where(Delivery.channel == Channel.EMAIL))
        return {d.notice_id: str(d.status) for d in rows}


@pytest.mark.parametrize("chunk", [1, 50])
def test_every_notice_is_sent_once_and_audited_in_an_unbroken_chain(
    make_runtime: MakeRuntime, chunk: int
) -> None:
    with smtp_server() as (sink, port):
        rt = make_runtime(email_backend="smtp", smtp_port=port, dispatch_chunk=chunk)
        with session_scope(rt.sessions) as session:
            for _ in range(7):
                factories.confirmed_notice(session, rt.evidence, rt.settings, phone=None)
        rt.queue.drain()
        rt.queue.drain()
        assert len(sink.received) == 7
        assert len({m["X-ETLE-Notice"] for m in sink.received}) == 7
    assert set(_email_states(rt).values()) == {DeliveryStatus.SENT}
    with session_scope(rt.sessions) as session:
        assert {c.status for c in session.scalars(select(Case))} == {"notice_sent"}
        assert verify(session).ok  # a chunk's events, appended in one transaction, chain up


def test_a_letter_that_cannot_be_made_holds_back_only_its_own_delivery(
    make_runtime: MakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    with smtp_server() as (sink, port):
        rt = make_runtime(email_backend="smtp", smtp_port=port)
        with session_scope(rt.sessions) as session:
            notices = [
                factories.confirmed_notice(session, rt.evidence, rt.settings, phone=None)
                for _ in range(3)
            ]
            tampered = notices[1]
            digest = session.get_one(Case, tampered.case_id).evidence_sha256
        path = rt.evidence.path_for(digest)
        path.chmod(0o644)
        path.write_bytes(path.read_bytes() + b"edited")  # the evidence no longer matches its hash
        with caplog.at_level(logging.ERROR):
            rt.queue.drain()  # returns: the failing delivery is not queued again and again
        assert {m["X-ETLE-Notice"] for m in sink.received} == {
            notices[0].notice_number,
            notices[2].notice_number,
        }
    states = _email_states(rt)
    assert states[tampered.id] == DeliveryStatus.PENDING  # left for the sweep, unclaimed
    assert states[notices[0].id] == states[notices[2].id] == DeliveryStatus.SENT
    with session_scope(rt.sessions) as session:
        held = session.scalars(select(Delivery).where(Delivery.notice_id == tampered.id)).all()
        assert all(d.claimed_by is None for d in held)
