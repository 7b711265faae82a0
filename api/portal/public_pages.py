"""Pages for everyone: is this letter or message genuine (by code or QR), report a scam, and the
transparency figures. Nothing here needs or shows anyone's personal data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import AppRuntime, CommitsEvenIfRefused, DbSession
from api.hops import OneHopRoute
from api.portal.render import error_key, page
from api.portal.security import anonymous_form_ok
from api.security import client_address
from etle.clock import local, utcnow
from etle.db import read_only
from etle.errors import EtleError, RateLimited
from etle.notices.tokens import VERIFY_PAGE_PATH
from etle.notices.verify import Verification, verify_token
from etle.portal.scams import CHANNELS, report_scam
from etle.portal.statistics import MAX_DAYS, transparency
from etle.portal.verification import check_code
from notices.links import portal_host

router = APIRouter(include_in_schema=False, route_class=OneHopRoute)
STATS_PATH = "/statistik"


def _verify_page(
    request: Request,
    rt: AppRuntime,
    *,
    result: Verification | None = None,
    code: str = "",
    error: str | None = None,
    report_error: str | None = None,
    reported: bool = False,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        rt,
        "verify.html",
        {
            "result": result,
            "code": code,
            "error": error,
            "report_error": report_error,
            "reported": reported,
            "values": values or {},
            "channels": CHANNELS,
            "portal_host": portal_host(rt.settings.portal_url),
        },
        status_code=status_code,
        form_token=True,
        here=VERIFY_PAGE_PATH,
    )


@router.get(VERIFY_PAGE_PATH, response_class=HTMLResponse)
def verify_page(
    request: Request,
    rt: AppRuntime,
    units: CommitsEvenIfRefused,
    kode: str = "",
    dilaporkan: bool = False,
) -> HTMLResponse:
    code = kode.strip()[:32]
    if not code:
        return _verify_page(request, rt, reported=dilaporkan)
    try:
        # Its own transaction: a wrong code is counted even though the page says "not found".
        with units() as session:
            checked = check_code(
                session, code, address=client_address(request), settings=rt.settings
            )
        result = checked.answer()
    except RateLimited as exc:
        return _verify_page(
            request, rt, code=code, error="rate_limited", status_code=exc.status_code
        )
    return _verify_page(request, rt, result=result, code=code)


@router.get(VERIFY_PAGE_PATH + "/{token}", response_class=HTMLResponse)
def verify_qr(token: str, request: Request, session: DbSession, rt: AppRuntime) -> HTMLResponse:
    """What a notice's QR code opens."""
    s = rt.settings
    today = local(utcnow(), s.timezone).date()
    result = verify_token(session, token[:80], key=s.signing_key, today=today)
    return _verify_page(request, rt, result=result)


@router.post(VERIFY_PAGE_PATH + "/laporan", response_model=None)
def report(
    request: Request,
    rt: AppRuntime,
    units: CommitsEvenIfRefused,
    channel: Annotated[str, Form(max_length=16)] = "",
    sender: Annotated[str, Form(max_length=200)] = "",
    link: Annotated[str, Form(max_length=500)] = "",
    message: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    values = {"channel": channel, "sender": sender, "link": link, "message": message}
    if not anonymous_form_ok(request, rt, csrf_token):
        return _verify_page(
            request, rt, report_error="form_expired", values=values, status_code=403
        )
    try:
        with units() as session:
            result = report_scam(
                session,
                channel=channel,
                message=message,
                sender=sender,
                link=link,
                address=client_address(request),
                settings=rt.settings,
            )
        result.accepted()
    except RateLimited as exc:
        return _verify_page(
            request, rt, report_error="rate_limited", values=values, status_code=exc.status_code
        )
    except EtleError as exc:
        return _verify_page(
            request,
            rt,
            report_error=error_key(exc.detail),
            values=values,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"{VERIFY_PAGE_PATH}?dilaporkan=1#laporan", status_code=303)


@router.get(STATS_PATH, response_class=HTMLResponse)
def statistics_page(
    request: Request, session: DbSession, rt: AppRuntime, hari: int = 30
) -> HTMLResponse:
    figures = rt.figures.get(
        max(1, min(hari, MAX_DAYS)),
        lambda period: transparency(read_only(session), settings=rt.settings, days=period),
    )
    top = max((n for _d, n in figures.by_day), default=0)
    return page(
        request, rt, "stats.html", {"s": figures, "top_day": top}, private=False, here=STATS_PATH
    )
