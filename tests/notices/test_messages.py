"""SMS and WhatsApp through a local HTTP gateway, their signed webhooks, and the one-link rule."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from etle.db import session_scope
from etle.notices.models import Delivery, DeliveryStatus, Notice
from notices.links import foreign_links
from notices.webhooks import sign_sms_webhook
from tests import factories
from tests.conftest import PORTAL_URL, MakeRuntime
from tests.notices.peers import gateway_server

SECRET = "sms-webhook-secret-for-tests-42"
APP_SECRET = "whatsapp-app-secret-for-tests-42"


def _message(rt, notice_id: int) -> Delivery:  # type: ignore[no-untyped-def]
    with session_scope(rt.sessions) as session:
        return session.scalars(
            select(Delivery).where(Delivery.notice_id == notice_id, Delivery.channel == "message")
        ).one()


def test_sms_goes_to_the_gateway_with_its_idempotency_key(make_runtime: MakeRuntime) -> None:
    with gateway_server() as (gateway, url):
        rt = make_runtime(
            message_backend="sms", sms_gateway_url=f"{url}/sms", sms_gateway_token="gw-token-1234"
        )
        with session_scope(rt.sessions) as session:
            notice = factories.confirmed_notice(session, rt.evidence, rt.settings, email=None)
        rt.queue.drain()
        [request] = gateway.requests
        delivery = _message(rt, notice.id)
        assert request["headers"]["idempotency-key"] == delivery.idempotency_key
        assert request["headers"]["authorization"] == "Bearer gw-token-1234"
        assert request["body"]["reference"] == delivery.idempotency_key
        assert request["body"]["to"] == "628121111000"
        assert notice.notice_number in request["body"]["text"]
        assert set(request["body"]) == {"to", "text", "sender_id", "reference"}  # no attachment
        assert (delivery.status, delivery.provider_ref) == (DeliveryStatus.SENT, "msg-1")


def test_gateway_down_then_up_is_retried(make_runtime: MakeRuntime) -> None:
    with gateway_server() as (gateway, url):
        gateway.replies = [503]
        rt = make_runtime(
            message_backend="sms",
            sms_gateway_url=f"{url}/sms",
            sms_gateway_token="gw-token-1234",
            dispatch_retry_seconds=0,
        )
        with session_scope(rt.sessions) as session:
            notice = factories.confirmed_notice(session, rt.evidence, rt.settings, email=None)
        rt.queue.drain()
        delivery = _message(rt, notice.id)
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.attempts == 2
        assert len(gateway.messages) == 1


def test_whatsapp_sends_a_template_message(make_runtime: MakeRuntime) -> None:
    with gateway_server() as (gateway, url):
        rt = make_runtime(
            message_backend="whatsapp",
            whatsapp_api_url=url,
            whatsapp_phone_number_id="1055",
            whatsapp_access_token="wa-token-1234",
        )
        with session_scope(rt.sessions) as session:
            notice = factories.confirmed_notice(session, rt.evidence, rt.settings, email=None)
        rt.queue.drain()
        [request] = gateway.requests
        assert request["path"] == "/1055/messages"
        body = request["body"]
        assert body["type"] == "template"
        assert body["template"]["language"] == {"code": "id"}
        texts = [p["text"] for p in body["template"]["components"][0]["parameters"]]
        assert notice.notice_number in texts
        delivery = _message(rt, notice.id)
        assert body["biz_opaque_callback_data"] == delivery.idempotency_key
        assert delivery.provider_ref == "msg-1"


def test_message_with_a_foreign_link_is_refused(make_runtime: MakeRuntime, tmp_path: Path) -> None:
    override = tmp_path / "templates" / "id"
    override.mkdir(parents=True)
    (override / "message.txt.j2").write_text(
        "ETLE: bayar denda {{ notice_number }} di https://bit.ly/bayar-etle"
    )
    with gateway_server() as (gateway, url):
        rt = make_runtime(
            message_backend="sms",
            sms_gateway_url=f"{url}/sms",
            sms_gateway_token="gw-token-1234",
            templates_dir=tmp_path / "templates",
        )
        with session_scope(rt.sessions) as session:
            notice = factories.confirmed_notice(session, rt.evidence, rt.settings, email=None)
        rt.queue.drain()
        assert gateway.requests == []
        delivery = _message(rt, notice.id)
        assert delivery.status == DeliveryStatus.FAILED
        assert "bit.ly" in (delivery.last_error or "")


@pytest.mark.parametrize(
    ("text", "foreign"),
    [
        ("Tanggapi di https://etle.example.id/tilang sebelum 30 November", []),
        ("Buka etle.example.id/verifikasi", []),
        ("Bayar di https://etle-polri.com/bayar", ["https://etle-polri.com/bayar"]),
        ("Klik bit.ly/abc sekarang", ["bit.ly/abc"]),
        ("lihat www.tilang-online.id", ["www.tilang-online.id"]),
        ("http://etle.example.id.evil.co/x", ["http://etle.example.id.evil.co/x"]),
        ("Jl. M.H. Thamrin, Rp 500.000, 20-11-2026 07:15:04 WIB", []),
    ],
)
def test_only_the_portal_counts_as_an_allowed_link(text: str, foreign: list[str]) -> None:
    assert foreign_links(text, PORTAL_URL) == foreign


def _sent_sms_notice(make_runtime: MakeRuntime, url: str):  # type: ignore[no-untyped-def]
    rt = make_runtime(
        message_backend="sms",
        sms_gateway_url=f"{url}/sms",
        sms_gateway_token="gw-token-1234",
        sms_webhook_secret=SECRET,
    )
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(session, rt.evidence, rt.settings, email=None)
    rt.queue.drain()
    return rt, notice


def _post_sms(
    client: TestClient, events: list[dict], *, at: int | None = None, secret: str = SECRET
):  # type: ignore[no-untyped-def,type-arg]  # noqa: E501
    body = json.dumps({"events": events}).encode()
    timestamp = int(time.time()) if at is None else at
    return client.post(
        "/api/v1/webhooks/sms",
        content=body,
        headers={
            "X-ETLE-Timestamp": str(timestamp),
            "X-ETLE-Signature": sign_sms_webhook(secret, timestamp, body),
            "Content-Type": "application/json",
        },
    )


def test_sms_webhook_marks_delivered_and_refuses_forgeries_and_replays(
    make_runtime: MakeRuntime,
) -> None:
    with gateway_server() as (_gateway, url):
        rt, notice = _sent_sms_notice(make_runtime, url)
    key = _message(rt, notice.id).idempotency_key
    event = {"id": "evt-1", "message_id": "msg-1", "reference": key, "status": "delivered"}
    client = TestClient(create_app(rt))

    forged = _post_sms(client, [event], secret="not-the-secret-at-all")
    assert forged.status_code == 401
    stale = _post_sms(client, [event], at=int(time.time()) - 3600)
    assert stale.status_code == 401
    assert _message(rt, notice.id).status == DeliveryStatus.SENT

    ok = _post_sms(client, [event])
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"applied": 1, "duplicates": 0, "unknown": 0}
    assert _message(rt, notice.id).status == DeliveryStatus.DELIVERED

    again = _post_sms(client, [event])
    assert again.json() == {"applied": 0, "duplicates": 1, "unknown": 0}


def test_whatsapp_failure_webhook_fails_the_delivery_and_reroutes(
    make_runtime: MakeRuntime,
) -> None:
    with gateway_server() as (_gateway, url):
        rt = make_runtime(
            message_backend="whatsapp",
            whatsapp_api_url=url,
            whatsapp_phone_number_id="1055",
            whatsapp_access_token="wa-token-1234",
            whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token="wa-verify-4321",
        )
        with session_scope(rt.sessions) as session:
            notice = factories.confirmed_notice(
                session, rt.evidence, rt.settings, email=None, address=""
            )
        rt.queue.drain()
    key = _message(rt, notice.id).idempotency_key
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "statuses": [
                                {
                                    "id": "msg-1",
                                    "status": "failed",
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": "628121111000",
                                    "biz_opaque_callback_data": key,
                                    "errors": [{"code": 131026, "title": "Undeliverable"}],
                                }
                            ]
                        },
                    }
                ]
            }
        ],
    }
    body = json.dumps(payload).encode()
    good = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    client = TestClient(create_app(rt))
    headers = {"Content-Type": "application/json"}
    bad = client.post(
        "/api/v1/webhooks/whatsapp",
        content=body,
        headers={**headers, "X-Hub-Signature-256": "sha256=00"},
    )
    assert bad.status_code == 401
    response = client.post(
        "/api/v1/webhooks/whatsapp", content=body, headers={**headers, "X-Hub-Signature-256": good}
    )
    assert response.status_code == 200, response.text
    delivery = _message(rt, notice.id)
    assert delivery.status == DeliveryStatus.FAILED
    assert "131026" in (delivery.last_error or "")
    with session_scope(rt.sessions) as session:
        assert session.get_one(Notice, notice.id).attention is not None  # no channel left
    handshake = client.get(
        "/api/v1/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "wa-verify-4321",
            "hub.challenge": "c1",
        },
    )
    assert (handshake.status_code, handshake.text) == (200, "c1")
    refused = client.get(
        "/api/v1/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "c1"},
    )
    assert refused.status_code == 403
