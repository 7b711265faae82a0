"""The bank's payment callback. No login: each request proves itself with an HMAC signature
over its timestamp, request id and body (`etle.payments.callback`); the contract a bank
implements is in docs/portal.md. A repeat of a transaction answers as the first time; a replayed
request, a wrong amount or an unknown code is refused with its own error code, changing nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.deps import AppRuntime, DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from api.params import sane_time
from etle.clock import utcnow
from etle.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from etle.payments.callback import verify_callback
from etle.payments.service import BankPayment, record_bank_payment
from notices.receipt import issue_receipt

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/payments", tags=["payments: bank"], route_class=OneHopRoute)
ERRORS = error_responses(
    {
        Unauthorized: "bad_signature or stale_timestamp: fix the signing or the clock",
        NotFound: "callback not configured, or unknown_payment_code",
        Conflict: "replayed_request, transaction_id_reused, already_paid, not_payable "
        "(the last two: refund the payer)",
        ValidationFailed: "amount_mismatch, or the body is not a payment notification",
    }
)


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
    payment_code: str = Field(min_length=5, max_length=24, pattern=r"^[0-9]+$")
    # strict: a JSON number without a fraction; "500000" or 500000.0 is a bank bug to refuse.
    amount_rp: int = Field(gt=0, lt=10**12, strict=True, description="whole rupiah")
    paid_at: datetime = Field(description="ISO 8601 with offset, e.g. 2026-11-25T10:15:00+07:00")
    channel: str | None = Field(default=None, max_length=32, description="ATM, teller, mobile")

    @field_validator("paid_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return sane_time(value)


class CallbackOut(BaseModel):
    status: str
    duplicate: bool
    transaction_id: str
    payment_code: str
    amount_rp: int
    case_status: str
    receipt_sha256: str | None


async def signed_callback(
    request: Request,
    runtime: AppRuntime,
    x_etle_timestamp: Annotated[str | None, Header()] = None,
    x_etle_request_id: Annotated[str | None, Header()] = None,
    x_etle_signature: Annotated[str | None, Header()] = None,
) -> tuple[str, bytes]:
    """The request id and body, once the signature and the timestamp check out."""
    s = runtime.settings
    if s.payment_callback_secret is None:
        raise NotFound("the payment callback is not configured (ETLE_PAYMENT_CALLBACK_SECRET)")
    body = await request.body()
    request_id = verify_callback(
        secret=s.payment_callback_secret.get_secret_value(),
        body=body,
        timestamp=x_etle_timestamp,
        request_id=x_etle_request_id,
        signature=x_etle_signature,
        max_age=s.payment_callback_max_age_seconds,
    )
    return request_id, body


@router.post(
    "/callback",
    summary="The bank reports a payment (HMAC-signed; idempotent by transaction_id)",
    response_model=CallbackOut,
    responses=ERRORS,
)
def payment_callback(
    signed: Annotated[tuple[str, bytes], Depends(signed_callback)],
    session: DbSession,
    rt: AppRuntime,
) -> CallbackOut:
    request_id, body = signed
    try:
        data = CallbackIn.model_validate_json(body)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        raise ValidationFailed("the body is not a payment notification", detail=problems) from exc
    # Our clock may trail the bank's by the same margin the signature's timestamp may.
    latest = utcnow() + timedelta(seconds=rt.settings.payment_callback_max_age_seconds)
    if data.paid_at > latest:
        raise ValidationFailed(
            "paid_at is in the future: nothing was recorded; check the bank server's clock",
            detail=[{"field": "paid_at", "problem": "in the future"}],
        )
    recorded = record_bank_payment(
        session,
        BankPayment(
            transaction_id=data.transaction_id,
            payment_code=data.payment_code,
            amount_rp=data.amount_rp,
            paid_at=data.paid_at,
            channel=data.channel,
        ),
        request_id=request_id,
    )
    receipt = recorded.payment.receipt_sha256
    if receipt is None:
        try:
            with session.begin_nested():  # a failure here leaves the payment as recorded
                receipt = issue_receipt(
                    session,
                    rt.documents,
                    recorded.payment,
                    portal_url=rt.settings.portal_url,
                    templates_dir=rt.settings.templates_dir,
                )
        except Exception:  # the payment stands; the receipt is rendered on first request
            log.exception("receipt not rendered for payment %s", recorded.payment.id)
    return CallbackOut(
        status="paid",
        duplicate=recorded.duplicate,
        transaction_id=data.transaction_id,
        payment_code=recorded.payment.payment_code,
        amount_rp=recorded.payment.amount_rp,
        case_status=recorded.case.status,
        receipt_sha256=receipt,
    )
