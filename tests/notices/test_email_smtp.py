"""Email over a real SMTP server on loopback: success, temporary failure then success, permanent
failure then the letter by post, and one SMTP session for many messages."""

from __future__ import annotations

from datetime import timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import select

from etle.audit.models import AuditEvent
from etle.cases.models import Case
from etle.clock import utcnow
from etle.db import session_scope
from etle.notices.models import Channel, Delivery, DeliveryStatus, Notice
from notices.post_batches import export_post
from tests import factories
from tests.conftest import MakeRuntime
from tests.notices.peers import SmtpSink, free_port, smtp_server


def _deliveries(rt, notice_id: int) -> dict[str, Delivery]:  # type: ignore[no-untyped-def]
    with session_scope(rt.sessions) as session:
        rows = session.scalars(select(Delivery).where(Delivery.notice_id == notice_id)).all()
        return {str(d.channel): d for d in rows}


def test_notices_are_emailed_once_each_over_one_reused_session(make_runtime: MakeRuntime) -> None:
    with smtp_server() as (sink, port):
        rt = make_runtime(email_backend="smtp", smtp_port=port, smtp_connections=1)
        with session_scope(rt.sessions) as session:
            notices = [
                factories.confirmed_notice(session, rt.evidence, rt.settings, phone=None)
                for _ in range(4)
            ]
            numbers = {n.notice_number for n in notices}
        rt.queue.drain()  # the confirmations queued their jobs when they committed
        rt.queue.drain()  # a second pass finds nothing to do
        assert len(sink.received) == 4
        assert {m["X-ETLE-Notice"] for m in sink.received} == numbers
        assert sink.sessions == 1  # one SMTP session carried all four
        message = sink.received[0]
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None
        [pdf] = [a for a in message.iter_attachments()]
        assert pdf.get_content_type() == "application/pdf"
        with session_scope(rt.sessions) as session:
            sent = session.scalars(select(Delivery).where(Delivery.channel == Channel.EMAIL)).all()
            assert {d.status for d in sent} == {DeliveryStatus.SENT}
            cases = session.scalars(select(Case)).all()
            assert {c.status for c in cases} == {"notice_sent"}


def test_temporary_failure_is_retried_later_then_sent(make_runtime: MakeRuntime) -> None:
    with smtp_server() as (sink, port):
        sink.data_replies = ["451 4.3.0 mailbox busy, try later"]
        rt = make_runtime(email_backend="smtp", smtp_port=port, dispatch_retry_seconds=60)
        with session_scope(rt.sessions) as session:
            notice = factories.confirmed_notice(session, rt.evidence, rt.settings, phone=None)
        rt.queue.drain()
        email = _deliveries(rt, notice.id)["email"]
        assert email.status == DeliveryStatus.PENDING
        assert email.attempts == 1
        assert "451" in (email.last_error or "")
        assert email.next_attempt_at is not None
        assert email.next_attempt_at > utcnow() + timedelta(seconds=50)  # backing off
        assert sink.received == []
        rt.queue.drain(now=(utcnow() + timedelta(minutes=2)).replace(tzinfo=None))
        email = _deliveries(rt, notice.id)["email"]
        assert email.status == DeliveryStatus.SENT
        assert email.attempts == 2
        assert len(sink.received) == 1


def test_connection_lost_is_temporary(make_runtime: MakeRuntime) -> None:
    with smtp_server() as (_sink, port):
        pass  # the server is gone: nothing listens on the port any more
    rt = make_runtime(email_backend="smtp", smtp_port=port, smtp_timeout_seconds=2)
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(session, rt.evidence, rt.settings, phone=None)
    rt.queue.drain()
    email = _deliveries(rt, notice.id)["email"]
    assert (email.status, email.attempts) == (DeliveryStatus.PENDING, 1)
    assert "SMTP unavailable" in (email.last_error or "")


def test_smtp_down_for_minutes_is_retried_with_backoff_then_delivered_once(
    make_runtime: MakeRuntime,
) -> None:
    """The fault drill "SMTP server down for minutes": nothing listens on the port while the
    dispatcher retries (the test above shows the backoff), then the server comes back and the
    email goes out, once."""
    port = free_port()  # nothing listens here yet
    rt = make_runtime(
        email_backend="smtp", smtp_port=port, smtp_timeout_seconds=2, dispatch_retry_seconds=30
    )
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(session, rt.evidence, rt.settings, phone=None)
    start = utcnow()
    for minutes in (0, 1, 3, 7):  # the server stays down for these first minutes
        rt.queue.drain(now=(start + timedelta(minutes=minutes)).replace(tzinfo=None))
        email = _deliveries(rt, notice.id)["email"]
        assert email.status == DeliveryStatus.PENDING
        assert email.next_attempt_at is not None
    tried = email.attempts
    assert tried >= 4  # retried all along, not given up
    assert tried < rt.settings.dispatch_max_attempts
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for minutes in (15, 16):  # due again; the second drain finds nothing left to send
            rt.queue.drain(now=(start + timedelta(minutes=minutes)).replace(tzinfo=None))
    finally:
        controller.stop()
    email = _deliveries(rt, notice.id)["email"]
    assert (email.status, email.attempts) == (DeliveryStatus.SENT, tried + 1)
    assert len(sink.received) == 1


def test_permanent_failure_is_recorded_and_the_letter_goes_by_post(
    make_runtime: MakeRuntime,
) -> None:
    with smtp_server() as (sink, port):
        rt = make_runtime(email_backend="smtp", smtp_port=port)
        with session_scope(rt.sessions) as session:
            notice = factories.confirmed_notice(
                session, rt.evidence, rt.settings, email="bounce@example.id", phone=None
            )
        rt.queue.drain()
        deliveries = _deliveries(rt, notice.id)
        assert deliveries["email"].status == DeliveryStatus.FAILED
        assert "550" in (deliveries["email"].last_error or "")
        assert sink.received == []
        with session_scope(rt.sessions) as session:
            actions = session.scalars(select(AuditEvent.action)).all()
            assert "notice.rerouted" in actions
            assert session.get_one(Notice, notice.id).attention is None
        batch = export_post(rt.dispatch, actor="test")
        assert batch is not None
        assert (batch.folder / f"{notice.notice_number}.pdf").is_file()
        assert _deliveries(rt, notice.id)["post"].status == DeliveryStatus.SENT


def test_permanent_failure_with_no_other_channel_flags_the_notice(
    make_runtime: MakeRuntime,
) -> None:
    with smtp_server() as (_sink, port):
        rt = make_runtime(email_backend="smtp", smtp_port=port)
        with session_scope(rt.sessions) as session:
            notice = factories.confirmed_notice(
                session, rt.evidence, rt.settings, email="bounce@example.id", phone=None, address=""
            )
        rt.queue.drain()
        with session_scope(rt.sessions) as session:
            flagged = session.get_one(Notice, notice.id)
            assert flagged.attention is not None
            assert "email failed" in flagged.attention
