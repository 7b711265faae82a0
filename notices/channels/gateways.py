"""Message gateways over HTTP (httpx): a generic SMS gateway and the WhatsApp Business Cloud API.

Both send the delivery's idempotency key with the call (an `Idempotency-Key` header, and in the
body as the gateway's own reference field), so a resend after a crash is recognised by the
gateway as the same message. Both report delivery later through signed webhooks
(`notices.webhooks`).

Outcomes: 2xx is sent; 408, 429, 5xx and network errors are temporary; 401/403 are temporary too
(our credentials, not the recipient, are wrong: fix and the retries go through); any other 4xx
is permanent for this recipient.

The generic SMS gateway contract (what an operator's gateway must offer):
`POST ETLE_SMS_GATEWAY_URL` with `Authorization: Bearer ETLE_SMS_GATEWAY_TOKEN`,
`Idempotency-Key: <key>` and JSON `{"to": "62812...", "text": "...", "sender_id": "...",
"reference": "<key>"}`; answers 2xx with `{"id": "<gateway message id>"}` (the same id again for
a key it has seen).
"""

from __future__ import annotations

from typing import Any

import httpx

from etle.errors import ConfigError
from notices.channels.base import Outgoing, PermanentFailure, Sent, TemporaryFailure
from notices.channels.message import checked_text, message_text, phone_digits
from notices.config import NoticeSettings
from notices.wording import Wording, context

_TEMPORARY_STATUSES = {401, 403, 408, 425, 429}


def _post(client: httpx.Client, url: str, *, key: str, token: str, body: Any) -> dict[str, Any]:
    try:
        response = client.post(
            url,
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )
    except httpx.HTTPError as exc:
        raise TemporaryFailure(f"gateway unreachable: {type(exc).__name__}: {exc}") from exc
    if response.is_success:
        try:
            data = response.json()
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}
    text = f"gateway answered {response.status_code}: {response.text[:200]}"
    if response.status_code >= 500 or response.status_code in _TEMPORARY_STATUSES:
        raise TemporaryFailure(text)
    raise PermanentFailure(text)


class SmsGatewaySender:
    def __init__(
        self,
        settings: NoticeSettings,
        *,
        wording: Wording,
        client: httpx.Client | None = None,
    ) -> None:
        if not settings.sms_gateway_url or settings.sms_gateway_token is None:
            raise ConfigError("ETLE_MESSAGE_BACKEND=sms needs ETLE_SMS_GATEWAY_URL and _TOKEN")
        self.url = settings.sms_gateway_url
        self.token = settings.sms_gateway_token.get_secret_value()
        self.sender_id = settings.sms_sender_id
        self.wording = wording
        self.client = client or httpx.Client(timeout=30)

    def send(self, outgoing: Outgoing) -> Sent:
        letter = outgoing.letter
        body = {
            "to": phone_digits(letter.recipient_phone),
            "text": message_text(letter, self.wording),
            "sender_id": self.sender_id,
            "reference": outgoing.idempotency_key,
        }
        data = _post(
            self.client, self.url, key=outgoing.idempotency_key, token=self.token, body=body
        )
        return outgoing.accepted(str(data.get("id") or outgoing.idempotency_key))

    def close(self) -> None:
        self.client.close()


# The parameters of the approved WhatsApp template, in the order of its {{1}}, {{2}}, ...
# The template itself (its fixed words and the portal address) is registered with Meta.
WHATSAPP_PARAMETERS = (
    "plate",
    "violation",
    "captured_at",
    "notice_number",
    "respond_by",
    "verification_code",
)


class WhatsAppCloudSender:
    """Template messages through the WhatsApp Business Cloud API (`POST /{phone-id}/messages`)."""

    def __init__(
        self,
        settings: NoticeSettings,
        *,
        wording: Wording,
        client: httpx.Client | None = None,
    ) -> None:
        if not settings.whatsapp_phone_number_id or settings.whatsapp_access_token is None:
            raise ConfigError(
                "ETLE_MESSAGE_BACKEND=whatsapp needs ETLE_WHATSAPP_PHONE_NUMBER_ID and "
                "ETLE_WHATSAPP_ACCESS_TOKEN"
            )
        base = settings.whatsapp_api_url.rstrip("/")
        self.url = f"{base}/{settings.whatsapp_phone_number_id}/messages"
        self.token = settings.whatsapp_access_token.get_secret_value()
        self.template = settings.whatsapp_template
        self.wording = wording
        self.client = client or httpx.Client(timeout=30)

    def payload(self, outgoing: Outgoing) -> dict[str, Any]:
        letter = outgoing.letter
        values = context(letter)
        parameters = [
            {"type": "text", "text": checked_text(str(values[name]), letter.portal_url)}
            for name in WHATSAPP_PARAMETERS
        ]
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": phone_digits(letter.recipient_phone),
            "type": "template",
            "template": {
                "name": self.template,
                "language": {"code": letter.language},
                "components": [{"type": "body", "parameters": parameters}],
            },
            # Returned in every status webhook: ties the status to our delivery.
            "biz_opaque_callback_data": outgoing.idempotency_key,
        }

    def send(self, outgoing: Outgoing) -> Sent:
        data = _post(
            self.client,
            self.url,
            key=outgoing.idempotency_key,
            token=self.token,
            body=self.payload(outgoing),
        )
        messages = data.get("messages") or [{}]
        return outgoing.accepted(str(messages[0].get("id") or outgoing.idempotency_key))

    def close(self) -> None:
        self.client.close()
