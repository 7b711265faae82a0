"""The portal's pages for violators: look a notice up, see it, answer it, pay.

Each page is a thin translation of HTTP to `etle.portal` (and `etle.payments`); a refused answer
is rolled back before the page says why, in the reader's language, keeping what they typed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from api.deps import AppRuntime, CommitsEvenIfRefused, DbSession
from api.hops import OneHopRoute
from api.portal import public_pages
from api.portal.render import HERE, error_key, https, page
from api.portal.security import (
    PORTAL_COOKIE,
    PORTAL_PATH,
    GrantCookie,
    GrantForm,
    PortalRefused,
    anonymous_form_ok,
    citizen,
)
from api.portal.uploads import read_photo
from api.security import client_address
from etle.errors import EtleError, NotFound, RateLimited, ValidationFailed
from etle.payments.service import issue_payment_code, payment_of
from etle.portal import lookup
from etle.portal.grants import Grant, issue_grant, merge, read_grant
from etle.portal.photo import case_photo, case_plate_crop
from etle.portal.responses import (
    Driver,
    PortalInputError,
    buyer_details,
    respond_driver,
    respond_not_mine,
    respond_sold,
)
from etle.portal.view import Opened, build_view, current_notice, open_notice
from notices.receipt import issue_receipt

router = APIRouter(include_in_schema=False, route_class=OneHopRoute)
NOTICE_PATH = f"{PORTAL_PATH}/surat"
IMAGE_HEADERS = {"Cache-Control": "private, no-store"}
DONE = ("driver", "sold", "not_mine", "pay")


def notice_url(number: str, done: str | None = None, anchor: str = "") -> str:
    return f"{NOTICE_PATH}/{number}" + (f"?done={done}" if done else "") + anchor


@router.get("/", response_class=HTMLResponse)
def home(request: Request, rt: AppRuntime) -> HTMLResponse:
    return page(request, rt, "home.html", {}, private=False)


ASSETS = {"portal.css": "text/css", "favicon.svg": "image/svg+xml"}


@router.get("/aset/{name}")
def asset(name: str) -> Response:
    """The stylesheet and the icon: the pages' only other files (no script anywhere)."""
    if name not in ASSETS:
        raise NotFound("no such file")
    return Response(
        (HERE / "static" / name).read_bytes(),
        media_type=ASSETS[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )


def _lookup_page(
    request: Request,
    rt: AppRuntime,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
    mode: str = "notice",
) -> HTMLResponse:
    return page(
        request,
        rt,
        "lookup.html",
        {"error": error, "values": values or {}, "mode": mode},
        status_code=status_code,
        form_token=True,
        here=PORTAL_PATH,
    )


@router.get(PORTAL_PATH, response_class=HTMLResponse)
def lookup_page(request: Request, rt: AppRuntime, reason: str | None = None) -> HTMLResponse:
    known = reason if reason in ("session_ended", "form_expired") else None
    return _lookup_page(request, rt, error=known)


@router.post(PORTAL_PATH, response_model=None)
def lookup_submit(
    request: Request,
    rt: AppRuntime,
    units: CommitsEvenIfRefused,
    mode: Annotated[str, Form(max_length=8)] = "notice",
    notice_number: Annotated[str, Form(max_length=40)] = "",
    plate: Annotated[str, Form(max_length=20)] = "",
    vin: Annotated[str, Form(max_length=20)] = "",
    code: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    values = {"notice_number": notice_number, "plate": plate, "vin": vin, "code": code}
    mode = "vin" if mode == "vin" else "notice"
    if not anonymous_form_ok(request, rt, csrf_token):
        return _lookup_page(request, rt, error="form_expired", values=values, status_code=403)
    s = rt.settings
    try:
        # Its own transaction: the attempt is counted even when the lookup misses.
        with units() as session:
            if mode == "vin":
                result = lookup.by_vin(
                    session,
                    plate=plate,
                    vin_tail=vin,
                    address=client_address(request),
                    settings=s,
                    key=s.signing_key,
                )
            else:
                result = lookup.by_notice(
                    session,
                    notice_number=notice_number,
                    plate=plate,
                    address=client_address(request),
                    settings=s,
                    key=s.signing_key,
                    code=code,
                )
        cases = result.granted()
    except RateLimited as exc:
        guarded = isinstance(exc.detail, dict) and exc.detail.get("code") == lookup.PLATE_GUARDED
        return _lookup_page(
            request,
            rt,
            error=lookup.PLATE_GUARDED if guarded else "rate_limited",
            values=values,
            status_code=exc.status_code,
            mode=mode,
        )
    except NotFound as exc:
        return _lookup_page(
            request, rt, error="not_found", values=values, status_code=exc.status_code, mode=mode
        )
    except ValidationFailed as exc:
        return _lookup_page(
            request,
            rt,
            error=error_key(exc.detail),
            values=values,
            status_code=exc.status_code,
            mode=mode,
        )
    previous = _held_grant(request, rt)
    token, grant = issue_grant(
        merge(previous, cases),
        signing_key=s.signing_key,
        lifetime=_lifetime(rt),
    )
    with units() as session:
        if len(cases) == 1:
            target = notice_url(current_notice(session, cases[0][0]).notice_number)
        else:
            target = NOTICE_PATH
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        PORTAL_COOKIE,
        token,
        max_age=s.portal_session_minutes * 60,
        path=PORTAL_PATH,
        httponly=True,
        samesite="strict",
        secure=https(request),
    )
    return response


def _lifetime(rt: AppRuntime) -> timedelta:
    return timedelta(minutes=rt.settings.portal_session_minutes)


def _held_grant(request: Request, rt: AppRuntime) -> Grant | None:
    cookie = request.cookies.get(PORTAL_COOKIE)
    if not cookie:
        return None
    try:
        return read_grant(cookie, signing_key=rt.settings.signing_key)
    except EtleError:
        return None


@router.get(NOTICE_PATH, response_class=HTMLResponse)
def my_notices(
    request: Request, session: DbSession, rt: AppRuntime, grant: GrantCookie
) -> HTMLResponse:
    views = []
    for case_id, _owner in sorted(grant.cases, reverse=True):
        try:
            number = current_notice(session, case_id).notice_number
            views.append(build_view(session, open_notice(session, grant, number)))
        except NotFound:
            continue
    return page(request, rt, "choose.html", {"views": views, "csrf": grant.csrf})


def _opened(session: Session, grant: Grant, notice_number: str) -> Opened:
    return open_notice(session, grant, notice_number)


def _notice_page(
    request: Request,
    session: Session,
    rt: AppRuntime,
    grant: Grant,
    opened: Opened,
    *,
    done: str | None = None,
    error: str | None = None,
    form: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = build_view(session, opened)
    return page(
        request,
        rt,
        "notice.html",
        {
            "v": view,
            "csrf": grant.csrf,
            "done": done if done in DONE else None,
            "error": error,
            "form": form,
            "values": values or {},
            "base": f"{NOTICE_PATH}/{view.notice_number}",
            "max_photo_mb": rt.settings.max_upload_bytes // (1024 * 1024),
        },
        status_code=status_code,
        here=f"{NOTICE_PATH}/{view.notice_number}",
    )


def _not_found(request: Request, rt: AppRuntime) -> HTMLResponse:
    return _lookup_page(request, rt, error="not_found", status_code=404)


@router.get(NOTICE_PATH + "/{notice_number}", response_model=None)
def notice_page(
    notice_number: str,
    request: Request,
    session: DbSession,
    rt: AppRuntime,
    grant: GrantCookie,
    done: str | None = None,
) -> Response:
    try:
        opened = _opened(session, grant, notice_number)
    except NotFound:
        return _not_found(request, rt)
    if opened.notice.notice_number != notice_number:
        return RedirectResponse(notice_url(opened.notice.notice_number, done), status_code=303)
    return _notice_page(request, session, rt, grant, opened, done=done)


@router.get(NOTICE_PATH + "/{notice_number}/foto")
def notice_photo(
    notice_number: str, session: DbSession, rt: AppRuntime, grant: GrantCookie
) -> Response:
    opened = _opened(session, grant, notice_number)
    data = case_photo(session, rt.evidence, opened.case)
    return Response(data, media_type="image/jpeg", headers=IMAGE_HEADERS)


@router.get(NOTICE_PATH + "/{notice_number}/pelat")
def notice_plate(
    notice_number: str, session: DbSession, rt: AppRuntime, grant: GrantCookie
) -> Response:
    opened = _opened(session, grant, notice_number)
    data = case_plate_crop(session, rt.evidence, opened.case)
    return Response(data, media_type="image/png", headers=IMAGE_HEADERS)


@router.get(NOTICE_PATH + "/{notice_number}/kuitansi")
def notice_receipt(
    notice_number: str, session: DbSession, rt: AppRuntime, grant: GrantCookie
) -> Response:
    return receipt_response(session, rt, grant, notice_number)


def receipt_response(
    session: Session, rt: AppRuntime, grant: Grant, notice_number: str
) -> Response:
    opened = _opened(session, grant, notice_number)
    payment = None if opened.transferred else payment_of(session, opened.case.id)
    if payment is None or payment.paid_at is None:
        raise NotFound("this notice has no receipt yet")
    digest = issue_receipt(
        session,
        rt.documents,
        payment,
        portal_url=rt.settings.portal_url,
        templates_dir=rt.settings.templates_dir,
    )
    name = f"tanda-terima-{opened.notice.notice_number}.pdf"
    return Response(
        rt.documents.get(digest),  # the store re-checks the hash
        media_type="application/pdf",
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="{name}"',
        },
    )


def _answer(
    request: Request,
    session: Session,
    rt: AppRuntime,
    grant: Grant,
    notice_number: str,
    *,
    form: str,
    values: dict[str, str],
    act: Any,
) -> Response:
    """Run one answer; on a refusal roll everything back and show the page with the reason."""
    try:
        opened = _opened(session, grant, notice_number)
    except NotFound:
        return _not_found(request, rt)
    try:
        act(opened)
    except EtleError as exc:
        session.rollback()
        opened = _opened(session, grant, notice_number)
        key = error_key(exc.detail, "error_photo" if form == "not_mine" else "error_other")
        return _notice_page(
            request,
            session,
            rt,
            grant,
            opened,
            error=key,
            form=form,
            values=values,
            status_code=exc.status_code,
        )
    number = current_notice(session, opened.case.id).notice_number
    if opened.case.owner_id != opened.owner_id:
        number = opened.notice.notice_number  # sold: the seller stays on their own notice
    return RedirectResponse(notice_url(number, form, "#hasil"), status_code=303)


@router.post(NOTICE_PATH + "/{notice_number}/pengemudi", response_model=None)
def answer_driver(
    notice_number: str,
    request: Request,
    session: DbSession,
    rt: AppRuntime,
    grant: GrantForm,
    driver: Annotated[str, Form(max_length=8)] = "self",
    name: Annotated[str, Form(max_length=200)] = "",
    nik: Annotated[str, Form(max_length=32)] = "",
    address: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    def act(opened: Opened) -> None:
        named = Driver.checked(name, nik, address) if driver == "other" else None
        respond_driver(
            session,
            opened=opened,
            driver=named,
            citizen=citizen(request, rt, "web"),
            settings=rt.settings,
        )

    values = {"name": name, "nik": nik, "address": address}
    return _answer(
        request, session, rt, grant, notice_number, form="driver", values=values, act=act
    )


@router.post(NOTICE_PATH + "/{notice_number}/dijual", response_model=None)
def answer_sold(
    notice_number: str,
    request: Request,
    session: DbSession,
    rt: AppRuntime,
    grant: GrantForm,
    buyer_name: Annotated[str, Form(max_length=200)] = "",
    buyer_nik: Annotated[str, Form(max_length=32)] = "",
    buyer_address: Annotated[str, Form(max_length=400)] = "",
    buyer_phone: Annotated[str, Form(max_length=32)] = "",
    sold_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def act(opened: Opened) -> None:
        try:
            day = date.fromisoformat(sold_on)
        except ValueError as exc:
            raise PortalInputError("not a date", field="sold_on", code="sold_on") from exc
        buyer = buyer_details(
            name=buyer_name, nik=buyer_nik, address=buyer_address, phone=buyer_phone
        )
        respond_sold(
            session,
            opened=opened,
            buyer=buyer,
            sold_on=day,
            citizen=citizen(request, rt, "web"),
            settings=rt.settings,
        )

    values = {
        "buyer_name": buyer_name,
        "buyer_nik": buyer_nik,
        "buyer_address": buyer_address,
        "buyer_phone": buyer_phone,
        "sold_on": sold_on,
    }
    return _answer(request, session, rt, grant, notice_number, form="sold", values=values, act=act)


@router.post(NOTICE_PATH + "/{notice_number}/bukan-milik-saya", response_model=None)
def answer_not_mine(
    notice_number: str,
    request: Request,
    session: DbSession,
    rt: AppRuntime,
    grant: GrantForm,
    photo: Annotated[UploadFile | None, File()] = None,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    def act(opened: Opened) -> None:
        if photo is None:
            raise PortalInputError("a photo is needed", field="photo", code="photo")
        data, content_type = read_photo(photo, rt.settings)
        respond_not_mine(
            session,
            opened=opened,
            photo_sha256=rt.evidence.put(data),
            content_type=content_type,
            note=note,
            citizen=citizen(request, rt, "web"),
        )

    return _answer(
        request, session, rt, grant, notice_number, form="not_mine", values={"note": note}, act=act
    )


@router.post(NOTICE_PATH + "/{notice_number}/bayar", response_model=None)
def pay_late(
    notice_number: str, request: Request, session: DbSession, rt: AppRuntime, grant: GrantForm
) -> Response:
    def act(opened: Opened) -> None:
        if opened.transferred:
            raise NotFound("no such notice")
        issue_payment_code(
            session,
            case=opened.case,
            notice=opened.notice,
            settings=rt.settings,
            actor=f"citizen:notice:{opened.notice.notice_number}",
        )

    return _answer(request, session, rt, grant, notice_number, form="pay", values={}, act=act)


@router.post(PORTAL_PATH + "/keluar")
def sign_out(_grant: GrantForm) -> RedirectResponse:
    response = RedirectResponse(PORTAL_PATH, status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path=PORTAL_PATH)
    return response


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalRefused)
    response = RedirectResponse(f"{PORTAL_PATH}?reason={exc.reason}", status_code=303)
    if exc.status_code == 401:
        response.delete_cookie(PORTAL_COOKIE, path=PORTAL_PATH)
    return response


def install_pages(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(public_pages.router)
    app.add_exception_handler(PortalRefused, _refused)
