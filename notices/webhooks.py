"""Delivery-status webhooks from the message gateways: check the signature, refuse replays,
and move the delivery along the ledger.

* SMS gateway (our contract): header `X-ETLE-Timestamp: <unix seconds>` and
  `X-ETLE-Signature: sha256=<hex HMAC-SHA256(ETLE_SMS_WEBHOOK_SECRET, "<timestamp>." + body)>`;
  body `{"events": [{"id": "<event id>", "message_id": "...", "reference": "<idempotency key>",
  "status": "delivered"|"failed"|"sent", "error": "..."}]}`. A timestamp further than
  ETLE_WEBHOOK_MAX_AGE_SECONDS from now is refused (a replayed request), and so is a wrong
  signature.
* WhatsApp Business Cloud API (Meta's format): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app
  secret, body)>`; statuses under `entry[].changes[].value.statuses[]`, each with the message id,
  a status (`sent`, `delivered`, `read`, `failed`), a timestamp and our idempotency key back in
  `biz_opaque_callback_data`. Meta signs no timestamp and retries for days, so here a replay is
  recognised by its event (message id + status), not by age.

Every event is stored once (`webhook_events`, unique per provider and event id): an event seen
before changes nothing, whoever sends it again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etle.clock import utcnow
from etle.errors import Unauthorized, ValidationFailed
from etle.notices import ledger
from etle.notices.models import Delivery, DeliveryStatus, WebhookEvent

WEBHOOK_ACTOR = "system:gateway-webhook"
_DELIVERED = {"delivered", "read"}
_FAILED = {"failed", "undelivered", "rejected", "expired"}


@dataclass(frozen=True, slots=True)
class StatusEvent:
    provider: str
    event_id: str
    status: str
    provider_ref: str | None
    reference: str | None  # our idempotency key
    error: str | None
    occurred_at: datetime


def _hmac_hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def _signature_matches(header: str | None, expected: str) -> bool:
    given = (header or "").removeprefix("sha256=").strip()
    return hmac.compare_digest(given, expected)


def sign_sms_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value the SMS gateway must send (also used by tests and tools)."""
    return "sha256=" + _hmac_hex(secret, f"{timestamp}.".encode() + body)


def verify_sms_webhook(
    *, secret: str, body: bytes, timestamp: str | None, signature: str | None, max_age: int
) -> None:
    try:
        sent_at = int(timestamp or "")
    except ValueError as exc:
        raise Unauthorized("missing or malformed X-ETLE-Timestamp") from exc
    if not _signature_matches(signature, sign_sms_webhook(secret, sent_at, body)[7:]):
        raise Unauthorized("webhook signature does not match")
    if abs(utcnow().timestamp() - sent_at) > max_age:
        raise Unauthorized("webhook timestamp too old or in the future: refused as a replay")


def verify_whatsapp_webhook(*, app_secret: str, body: bytes, signature: str | None) -> None:
    if not _signature_matches(signature, _hmac_hex(app_secret, body)):
        raise Unauthorized("webhook signature does not match")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValidationFailed("webhook body is not JSON") from exc


def parse_sms_events(body: bytes) -> list[StatusEvent]:
    data = _json(body)
    items = data.get("events") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValidationFailed("webhook body needs an `events` list")
    events = []
    for item in items:
        if not isinstance(item, dict) or not item.get("id") or not item.get("status"):
            raise ValidationFailed("each event needs `id` and `status`")
        events.append(
            StatusEvent(
                provider="sms",
                event_id=str(item["id"])[:200],
                status=str(item["status"]).lower(),
                provider_ref=str(item["message_id"]) if item.get("message_id") else None,
                reference=str(item["reference"]) if item.get("reference") else None,
                error=str(item["error"])[:300] if item.get("error") else None,
                occurred_at=utcnow(),
            )
        )
    return events


def parse_whatsapp_events(body: bytes) -> list[StatusEvent]:
    data = _json(body)
    if not isinstance(data, dict):
        raise ValidationFailed("webhook body must be an object")
    events = []
    for entry in data.get("entry") or []:
        for change in entry.get("changes") or []:
            for status in (change.get("value") or {}).get("statuses") or []:
                wamid, state = status.get("id"), str(status.get("status", "")).lower()
                if not wamid or not state:
                    continue
                errors = status.get("errors") or []
                error = None
                if errors:
                    first = errors[0]
                    error = f"{first.get('code')}: {first.get('title') or first.get('message')}"
                try:
                    at = datetime.fromtimestamp(int(status.get("timestamp")), UTC)
                except (TypeError, ValueError):
                    at = utcnow()
                events.append(
                    StatusEvent(
                        provider="whatsapp",
                        event_id=f"{wamid}:{state}"[:200],
                        status=state,
                        provider_ref=str(wamid),
                        reference=status.get("biz_opaque_callback_data"),
                        error=error,
                        occurred_at=at,
                    )
                )
    return events


@dataclass
class Applied:
    applied: int = 0
    duplicates: int = 0
    unknown: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"applied": self.applied, "duplicates": self.duplicates, "unknown": self.unknown}


def _find(session: Session, event: StatusEvent) -> Delivery | None:
    if event.reference:
        found = session.scalar(select(Delivery).where(Delivery.idempotency_key == event.reference))
        if found is not None:
            return found
    if event.provider_ref:
        return session.scalar(select(Delivery).where(Delivery.provider_ref == event.provider_ref))
    return None


def apply_events(session: Session, events: list[StatusEvent]) -> Applied:
    result = Applied()
    for event in events:
        delivery = _find(session, event)
        try:
            with session.begin_nested():
                session.add(
                    WebhookEvent(
                        provider=event.provider,
                        event_id=event.event_id,
                        delivery_id=delivery.id if delivery else None,
                        status=event.status[:32],
                    )
                )
        except IntegrityError:
            result.duplicates += 1
            continue
        if delivery is None:
            result.unknown += 1
            continue
        if event.status in _DELIVERED:
            if delivery.status == DeliveryStatus.PENDING:
                # The status overtook our own "sent" commit: the provider has it, so it is sent.
                ledger.mark_sent(
                    session,
                    delivery.id,
                    provider_ref=event.provider_ref or delivery.idempotency_key,
                    actor=WEBHOOK_ACTOR,
                )
            ledger.mark_delivered(session, delivery, at=event.occurred_at, actor=WEBHOOK_ACTOR)
        elif event.status in _FAILED:
            ledger.mark_failed(
                session,
                delivery.id,
                error=f"{event.provider} reports {event.status}: {event.error or 'no reason'}",
                actor=WEBHOOK_ACTOR,
            )
        result.applied += 1
    return result
