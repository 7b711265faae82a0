"""The public portal as JSON: the same actions as the web pages (`api/portal/`), for apps.

Look a notice up with its second factor and receive a short-lived bearer token (the grant);
with it, read the notice, its photo and plate, answer it, get the payment code and the receipt.
A miss answers 404 with the same body whatever its reason; too many misses answer 429. The
statistics and scam reports need no token. Rules live in `etle.portal` and `etle.payments`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from api.access import PublicRoute
from api.deps import AppRuntime, CommitsEvenIfRefused, DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from api.portal.pages import receipt_response
from api.portal.security import GrantBearer, citizen
from api.portal.uploads import read_photo
from api.security import client_address
from etle.clock import utcnow
from etle.db import read_only
from etle.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UnsupportedMedia,
    ValidationFailed,
)
from etle.payments.codes import format_code
from etle.payments.models import Payment
from etle.payments.service import issue_payment_code
from etle.portal import lookup
from etle.portal.grants import Grant, issue_grant
from etle.portal.photo import case_photo, case_plate_crop
from etle.portal.responses import (
    Driver,
    actor_for,
    buyer_details,
    respond_driver,
    respond_not_mine,
    respond_sold,
)
from etle.portal.scams import report_scam
from etle.portal.statistics import MAX_DAYS, transparency
from etle.portal.view import build_view, current_notice, open_notice

router = APIRouter(prefix="/api/v1/public", tags=["public portal"], route_class=OneHopRoute)
LOOKUP_ERRORS = error_responses(
    {
        NotFound: "no notice matches (the same answer for every miss)",
        ValidationFailed: "malformed notice number, plate or VIN",
        RateLimited: "too many misses from this client, or for this plate "
        "(`detail.code` `plate_guarded`: send the letter's verification code as `code`)",
    }
)
GRANTS = {
    Unauthorized: "no token, or an expired or forged one: look the notice up again",
    NotFound: "the token does not open this notice",
}
GRANT_ERRORS = error_responses(GRANTS)
ANSWER_ERRORS = error_responses(
    GRANTS,
    {
        Conflict: "the notice was answered already or is no longer open",
        PayloadTooLarge: "photo too large",
        UnsupportedMedia: "photo is not JPEG or PNG",
        ValidationFailed: "a field is invalid (detail names it)",
    },
)
NO_STORE = {"Cache-Control": "private, no-store"}


class Access(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class LookupOut(Access):
    notice: dict[str, Any]


class NoticesOut(Access):
    notices: list[dict[str, Any]]


class PaymentOut(BaseModel):
    payment_code: str
    payment_code_display: str
    amount_rp: int
    pay_by: date | None
    status: str


class DriverIn(BaseModel):
    driver: Literal["self", "other"]
    name: str | None = Field(default=None, max_length=200)
    nik: str | None = Field(default=None, max_length=32, description="16 digits (KTP)")
    address: str | None = Field(default=None, max_length=400)


class SoldIn(BaseModel):
    buyer_name: str = Field(max_length=200)
    buyer_nik: str = Field(max_length=32, description="16 digits (KTP)")
    buyer_address: str = Field(max_length=400)
    buyer_postcode: str | None = Field(default=None, max_length=10)
    buyer_phone: str | None = Field(default=None, max_length=32)
    buyer_email: str | None = Field(default=None, max_length=254)
    sold_on: date


class Answered(BaseModel):
    status: str


class ScamIn(BaseModel):
    channel: Literal["sms", "whatsapp", "email", "letter", "phone", "social", "other"]
    message: str | None = Field(default=None, max_length=2000)
    sender: str | None = Field(default=None, max_length=200)
    link: str | None = Field(default=None, max_length=500)


def _payment_out(payment: Payment) -> PaymentOut:
    return PaymentOut(
        payment_code=payment.payment_code,
        payment_code_display=format_code(payment.payment_code),
        amount_rp=payment.amount_rp,
        pay_by=payment.pay_by,
        status=payment.status,
    )


def _token(rt: AppRuntime, cases: list[tuple[int, int]]) -> tuple[str, int]:
    minutes = rt.settings.portal_session_minutes
    token, _ = issue_grant(
        cases, signing_key=rt.settings.signing_key, lifetime=timedelta(minutes=minutes)
    )
    return token, minutes * 60


@router.get(
    "/notices/{notice_number}",
    summary="Look a notice up by its number and the plate; a bearer token for the rest",
    response_model=LookupOut,
    responses=LOOKUP_ERRORS,
    dependencies=[PublicRoute],
)
def lookup_notice(
    notice_number: str,
    request: Request,
    rt: AppRuntime,
    units: CommitsEvenIfRefused,
    plate: Annotated[str, Query(max_length=20, description="the plate, e.g. B 1234 ABC")],
    code: Annotated[
        str,
        Query(
            max_length=32,
            description="the verification code printed on the letter: needed only when a "
            "lookup answered 429 `plate_guarded` (too many wrong attempts for this plate)",
        ),
    ] = "",
) -> LookupOut:
    s = rt.settings
    with units() as session:
        result = lookup.by_notice(
            session,
            notice_number=notice_number[:40],
            plate=plate,
            address=client_address(request),
            settings=s,
            key=s.signing_key,
            code=code,
        )
    cases = result.granted()
    token, seconds = _token(rt, cases)
    # The number as the lookup read it (spaces and dashes gone): the one it found.
    number = lookup.clean_notice_number(notice_number[:40])
    with units() as session:
        opened = open_notice(session, Grant(frozenset(cases), utcnow(), ""), number)
        view = build_view(session, opened)
    return LookupOut(access_token=token, expires_in=seconds, notice=view.as_dict())


@router.get(
    "/notices",
    summary="Look a vehicle's notices up by its plate and the last 5 characters of its VIN",
    response_model=NoticesOut,
    responses=LOOKUP_ERRORS,
    dependencies=[PublicRoute],
)
def lookup_by_vin(
    request: Request,
    rt: AppRuntime,
    units: CommitsEvenIfRefused,
    plate: Annotated[str, Query(max_length=20, description="the plate, e.g. B 1234 ABC")],
    vin: Annotated[str, Query(max_length=20, description="last 5 characters of the VIN")],
) -> NoticesOut:
    s = rt.settings
    with units() as session:
        result = lookup.by_vin(
            session,
            plate=plate,
            vin_tail=vin,
            address=client_address(request),
            settings=s,
            key=s.signing_key,
        )
    cases = result.granted()
    token, seconds = _token(rt, cases)
    grant = Grant(frozenset(cases), utcnow(), "")
    with units() as session:
        views = [
            build_view(
                session,
                open_notice(session, grant, current_notice(session, case_id).notice_number),
            ).as_dict()
            for case_id, _owner in cases
        ]
    return NoticesOut(access_token=token, expires_in=seconds, notices=views)


@router.get(
    "/notices/{notice_number}/details",
    summary="The notice, its status, payment and timeline (bearer token from a lookup)",
    responses=GRANT_ERRORS,
)
def notice_details(notice_number: str, session: DbSession, grant: GrantBearer) -> dict[str, Any]:
    return build_view(session, open_notice(session, grant, notice_number)).as_dict()


@router.get(
    "/notices/{notice_number}/photo",
    summary="The evidence photo (JPEG), every other vehicle's plate blurred",
    responses=GRANT_ERRORS,
    response_class=Response,
)
def notice_photo(
    notice_number: str, session: DbSession, rt: AppRuntime, grant: GrantBearer
) -> Response:
    opened = open_notice(session, grant, notice_number)
    return Response(
        case_photo(session, rt.evidence, opened.case), media_type="image/jpeg", headers=NO_STORE
    )


@router.get(
    "/notices/{notice_number}/plate",
    summary="The plate, enlarged from the evidence (PNG)",
    responses=GRANT_ERRORS,
    response_class=Response,
)
def notice_plate(
    notice_number: str, session: DbSession, rt: AppRuntime, grant: GrantBearer
) -> Response:
    opened = open_notice(session, grant, notice_number)
    return Response(
        case_plate_crop(session, rt.evidence, opened.case), media_type="image/png", headers=NO_STORE
    )


@router.get(
    "/notices/{notice_number}/receipt",
    summary="The payment receipt (PDF), once the bank has confirmed the payment",
    responses=GRANT_ERRORS,
    response_class=Response,
)
def notice_receipt(
    notice_number: str, session: DbSession, rt: AppRuntime, grant: GrantBearer
) -> Response:
    return receipt_response(session, rt, grant, notice_number)


@router.post(
    "/notices/{notice_number}/driver",
    summary="Say who was driving: yourself, or another person (name, NIK, address)",
    response_model=PaymentOut,
    responses=ANSWER_ERRORS,
)
def answer_driver(
    notice_number: str,
    body: DriverIn,
    request: Request,
    session: DbSession,
    rt: AppRuntime,
    grant: GrantBearer,
) -> PaymentOut:
    opened = open_notice(session, grant, notice_number)
    driver = Driver.checked(body.name, body.nik, body.address) if body.driver == "other" else None
    payment = respond_driver(
        session,
        opened=opened,
        driver=driver,
        citizen=citizen(request, rt, "api"),
        settings=rt.settings,
    )
    return _payment_out(payment)


@router.post(
    "/notices/{notice_number}/sold",
    summary="The vehicle was sold before the violation: the buyer receives a fresh notice",
    response_model=Answered,
    responses=ANSWER_ERRORS,
)
def answer_sold(
    notice_number: str,
    body: SoldIn,
    request: Request,
    session: DbSession,
    rt: AppRuntime,
    grant: GrantBearer,
) -> Answered:
    opened = open_notice(session, grant, notice_number)
    buyer = buyer_details(
        name=body.buyer_name,
        nik=body.buyer_nik,
        address=body.buyer_address,
        postcode=body.buyer_postcode,
        phone=body.buyer_phone,
        email=body.buyer_email,
    )
    respond_sold(
        session,
        opened=opened,
        buyer=buyer,
        sold_on=body.sold_on,
        citizen=citizen(request, rt, "api"),
        settings=rt.settings,
    )
    return Answered(status="transferred")


@router.post(
    "/notices/{notice_number}/not-mine",
    summary="Not my vehicle (cloned plate): a photo of your own vehicle; a supervisor checks",
    response_model=Answered,
    responses=ANSWER_ERRORS,
)
def answer_not_mine(
    notice_number: str,
    request: Request,
    session: DbSession,
    rt: AppRuntime,
    grant: GrantBearer,
    photo: Annotated[UploadFile, File(description="JPEG or PNG of your own vehicle")],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Answered:
    opened = open_notice(session, grant, notice_number)
    data, content_type = read_photo(photo, rt.settings)
    respond_not_mine(
        session,
        opened=opened,
        photo_sha256=rt.evidence.put(data),
        content_type=content_type,
        note=note,
        citizen=citizen(request, rt, "api"),
    )
    return Answered(status="under_review")


@router.post(
    "/notices/{notice_number}/payment",
    summary="The payment code of a case past its deadline (answered cases get one at once)",
    response_model=PaymentOut,
    responses=ANSWER_ERRORS,
)
def payment_code(
    notice_number: str, session: DbSession, rt: AppRuntime, grant: GrantBearer
) -> PaymentOut:
    opened = open_notice(session, grant, notice_number)
    if opened.transferred:
        raise NotFound("no such notice")
    payment = issue_payment_code(
        session,
        case=opened.case,
        notice=opened.notice,
        settings=rt.settings,
        actor=actor_for(opened.notice),
    )
    return _payment_out(payment)


@router.get(
    "/statistics",
    summary="Transparency figures: violations per type, camera and day; review outcomes",
    dependencies=[PublicRoute],
)
def statistics(
    session: DbSession,
    rt: AppRuntime,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
) -> dict[str, Any]:
    return rt.figures.get(
        days, lambda period: transparency(read_only(session), settings=rt.settings, days=period)
    ).as_dict()


@router.post(
    "/scam-reports",
    summary="Report a message pretending to be an ETLE notice (no personal data needed)",
    status_code=201,
    responses=error_responses({ValidationFailed: "nothing to report"}, RateLimited),
    dependencies=[PublicRoute],
)
def scam_report(
    body: ScamIn, request: Request, rt: AppRuntime, units: CommitsEvenIfRefused
) -> dict[str, Any]:
    with units() as session:
        result = report_scam(
            session,
            channel=body.channel,
            message=body.message,
            sender=body.sender,
            link=body.link,
            address=client_address(request),
            settings=rt.settings,
        )
    report = result.accepted()
    return {"received": True, "report_id": report.id}
