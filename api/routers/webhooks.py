"""Delivery-status webhooks from the message gateways. No login: each request proves itself with
an HMAC signature over its body (see notices/webhooks.py for both formats); a wrong signature or
a replayed request is refused with 401 and changes nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import PlainTextResponse

from api.deps import AppRuntime, DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from etle.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from notices.webhooks import (
    apply_events,
    parse_sms_events,
    parse_whatsapp_events,
    verify_sms_webhook,
    verify_whatsapp_webhook,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=OneHopRoute)
ERRORS = error_responses(
    {
        Unauthorized: "bad signature, or a replayed (stale) request",
        NotFound: "this gateway is not configured",
        ValidationFailed: "body is not a status report",
    }
)


async def signed_sms_body(
    request: Request,
    runtime: AppRuntime,
    x_etle_timestamp: Annotated[str | None, Header()] = None,
    x_etle_signature: Annotated[str | None, Header()] = None,
) -> bytes:
    """The request body, once its signature and timestamp check out."""
    s = runtime.settings
    if s.sms_webhook_secret is None:
        raise NotFound("SMS webhook not configured")
    body = await request.body()
    verify_sms_webhook(
        secret=s.sms_webhook_secret.get_secret_value(),
        body=body,
        timestamp=x_etle_timestamp,
        signature=x_etle_signature,
        max_age=s.webhook_max_age_seconds,
    )
    return body


async def signed_whatsapp_body(
    request: Request,
    runtime: AppRuntime,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> bytes:
    s = runtime.settings
    if s.whatsapp_app_secret is None:
        raise NotFound("WhatsApp webhook not configured")
    body = await request.body()
    verify_whatsapp_webhook(
        app_secret=s.whatsapp_app_secret.get_secret_value(),
        body=body,
        signature=x_hub_signature_256,
    )
    return body


@router.post("/sms", summary="Delivery status from the SMS gateway", responses=ERRORS)
def sms_status(
    body: Annotated[bytes, Depends(signed_sms_body)], session: DbSession
) -> dict[str, int]:
    return apply_events(session, parse_sms_events(body)).as_dict()


@router.post("/whatsapp", summary="Delivery status from WhatsApp Cloud API", responses=ERRORS)
def whatsapp_status(
    body: Annotated[bytes, Depends(signed_whatsapp_body)], session: DbSession
) -> dict[str, int]:
    return apply_events(session, parse_whatsapp_events(body)).as_dict()


@router.get(
    "/whatsapp",
    summary="Meta's subscription handshake",
    response_class=PlainTextResponse,
    responses=error_responses({Forbidden: "wrong verify token"}),
)
def whatsapp_subscribe(
    runtime: AppRuntime,
    mode: Annotated[str, Query(alias="hub.mode")] = "",
    verify_token: Annotated[str, Query(alias="hub.verify_token")] = "",
    challenge: Annotated[str, Query(alias="hub.challenge")] = "",
) -> str:
    expected = runtime.settings.whatsapp_verify_token
    if mode != "subscribe" or expected is None or verify_token != expected.get_secret_value():
        raise Forbidden("wrong verify token")
    return challenge
