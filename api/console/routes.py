"""The reviewers' console: sign in, take the next case, decide it with one key, go on.

Pages are rendered on the server (Jinja2, autoescaped) with the little CSS and script they need
inline, so a case is one HTML request and two images. After a decision the next case is claimed
in the same request, so the officer lands on it straight away. Rules live in `etle.cases`; a
refused decision is rolled back before the page says why.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api.console import labels, messages
from api.deps import AppRuntime, CommitsEvenIfRefused, DbSession
from api.hops import OneHopRoute
from api.params import RECORD_ID_MAX, CaseId
from api.security import (
    CONSOLE_COOKIE,
    CONSOLE_PATH,
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    AnyConsoleForm,
    ConsoleForm,
    ConsoleOfficer,
    ConsoleRefused,
    check_same_origin,
    client_address,
    login_csrf_ok,
    new_login_csrf,
)
from etle.cases.casefile import build_case_file
from etle.cases.eligibility import queue_filter
from etle.cases.evidence_access import frame_image, plate_image
from etle.cases.lease import claim, held_by
from etle.cases.models import Case, RejectReason, ReviewAction
from etle.cases.review import Decision, decide
from etle.clock import utcnow
from etle.errors import EtleError, ValidationFailed
from etle.officers.login import sign_in
from etle.officers.models import Officer
from etle.officers.service import sign_out
from etle.officers.tokens import Audience, issue
from etle.portal.disputes import owner_photo, owner_report
from notices.wording import number

router = APIRouter(
    prefix=CONSOLE_PATH,
    tags=["officers: console"],
    include_in_schema=False,
    route_class=OneHopRoute,
)

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
# Numbers as the portal's statistics write them: a decimal comma (`5,5 jam`).
_env.filters["decimal"] = lambda value: number(float(value), "id")
templates = Jinja2Templates(env=_env)
LOGIN_CSRF_SECONDS = 1800
IMAGE_CACHE = "private, max-age=300"
ACTION_WORDS = {
    "confirm": "dikonfirmasi",
    "correct": "dikoreksi, menunggu konfirmasi kedua",
    "reject": "ditolak",
    "escalate": "dieskalasi ke supervisor",
    "key": "platnya diketik, menunggu konfirmasi kedua",
}


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _page(
    request: Request, name: str, context: dict[str, object], status_code: int = 200
) -> HTMLResponse:
    # A fresh nonce per page: only the page's own script blocks run, never an injected one.
    nonce = secrets.token_urlsafe(16)
    context = {
        "labels": labels,
        "csrf_field": CSRF_FIELD,
        "csp_nonce": nonce,
        "indonesian": messages.indonesian,
        **context,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    # Officers' pages hold personal data: never cached, never framed by another site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self'; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _login_page(
    request: Request,
    rt: AppRuntime,
    *,
    error: str | None = None,
    info: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = new_login_csrf(rt.settings.signing_key)
    context: dict[str, object] = {"csrf": token, "error": error, "info": info}
    response = _page(request, "login.html", context, status_code)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_CSRF_SECONDS,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, rt: AppRuntime, signed_out: bool = False) -> HTMLResponse:
    return _login_page(request, rt, info="Anda telah keluar." if signed_out else None)


@router.post("/login", response_model=None)
def login(
    request: Request,
    rt: AppRuntime,
    units: CommitsEvenIfRefused,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_same_origin(request)
    if not login_csrf_ok(
        rt.settings.signing_key, request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token
    ):
        return _login_page(
            request, rt, error="Formulir kedaluwarsa; silakan coba lagi.", status_code=403
        )
    result = sign_in(
        units.sessions,
        username=username,
        password=password,
        address=client_address(request),
        settings=rt.settings,
    )
    if result.refusal is not None or result.officer is None:
        status = result.refusal.status_code if result.refusal else 401
        message = (
            "Terlalu banyak percobaan gagal; tunggu beberapa menit."
            if status == 429
            else "Nama pengguna atau kata sandi salah, atau akun dinonaktifkan."
        )
        return _login_page(request, rt, error=message, status_code=status)
    hours = rt.settings.console_session_hours
    token, _ = issue(
        result.officer,
        signing_key=rt.settings.signing_key,
        audience=Audience.CONSOLE,
        lifetime=timedelta(hours=hours),
    )
    response = RedirectResponse(CONSOLE_PATH, status_code=303)
    response.set_cookie(
        CONSOLE_COOKIE,
        token,
        max_age=hours * 3600,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=CONSOLE_PATH)
    return response


@router.post("/logout")
def logout(signed_in: AnyConsoleForm, session: DbSession) -> RedirectResponse:
    sign_out(session, signed_in.officer)  # a copied cookie stops working too
    response = RedirectResponse(f"{CONSOLE_PATH}/login?signed_out=1", status_code=303)
    response.delete_cookie(CONSOLE_COOKIE, path=CONSOLE_PATH)
    return response


def _waiting_for(session: Session, officer: Officer) -> int:
    now = utcnow()
    query = (
        select(func.count())
        .select_from(Case)
        .where(
            queue_filter(officer),
            or_(Case.lease_officer_id.is_(None), Case.lease_expires_at <= now),
        )
    )
    return int(session.scalar(query) or 0)


def _last(decided: int | None, action: str | None) -> str | None:
    if decided is None or action not in ACTION_WORDS:
        return None
    return f"Kasus #{decided} {ACTION_WORDS[action]}."


@router.get("", response_model=None)
def home(
    request: Request,
    session: DbSession,
    current: ConsoleOfficer,
    decided: Annotated[int | None, Query(ge=1, le=RECORD_ID_MAX)] = None,
    action: str | None = None,
) -> Response:
    held = held_by(session, current.officer)
    if held is not None:
        return RedirectResponse(f"{CONSOLE_PATH}/cases/{held.id}", status_code=303)
    return _page(
        request,
        "idle.html",
        {
            "officer": current.officer,
            "csrf": current.credential.csrf,
            "waiting": _waiting_for(session, current.officer),
            "last": _last(decided, action),
        },
    )


@router.post("/claim")
def claim_next(session: DbSession, current: ConsoleForm, rt: AppRuntime) -> RedirectResponse:
    case = claim(session, officer=current.officer, settings=rt.settings)
    target = f"{CONSOLE_PATH}/cases/{case.id}" if case else CONSOLE_PATH
    return RedirectResponse(target, status_code=303)


def _case_page(
    request: Request,
    session: Session,
    current: ConsoleOfficer,
    rt: AppRuntime,
    case: Case,
    *,
    error: str | None = None,
    last: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    file = build_case_file(session, case, officer=current.officer, settings=rt.settings)
    return _page(
        request,
        "review.html",
        {
            "officer": current.officer,
            "csrf": current.credential.csrf,
            "case": file,
            "error": error,
            "last": last,
            "reasons": [(r, *labels.REJECT_REASONS[r]) for r in file.reject_reasons],
            "lease_seconds": max(0, int((file.lease_expires_at - utcnow()).total_seconds()))
            if file.lease_expires_at
            else 0,
            "owner_report": owner_report(session, case.id),
        },
        status_code,
    )


@router.get("/cases/{case_id}", response_model=None)
def case_page(
    case_id: CaseId,
    request: Request,
    session: DbSession,
    current: ConsoleOfficer,
    rt: AppRuntime,
    decided: Annotated[int | None, Query(ge=1, le=RECORD_ID_MAX)] = None,
    action: str | None = None,
) -> Response:
    held = held_by(session, current.officer)
    if held is None or held.id != case_id:
        return RedirectResponse(CONSOLE_PATH, status_code=303)
    return _case_page(request, session, current, rt, held, last=_last(decided, action))


@router.post("/cases/{case_id}/decision", response_model=None)
def decision(
    case_id: CaseId,
    request: Request,
    session: DbSession,
    current: ConsoleForm,
    rt: AppRuntime,
    action: Annotated[str, Form(max_length=16)],
    plate: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
    text: Annotated[str, Form(max_length=500)] = "",
    box: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    officer = current.officer
    try:
        chosen = Decision(
            ReviewAction(action),
            plate=plate or None,
            reason=RejectReason(reason) if reason else None,
            text=text or None,
            box=[int(v) for v in box.split(",")] if box else None,
        )
    except ValueError:
        chosen = None
    try:
        if chosen is None:
            raise ValidationFailed("pilih tindakan dan alasan yang sah")
        decide(
            session,
            case_id=case_id,
            officer=officer,
            decision=chosen,
            settings=rt.settings,
        )
    except EtleError as exc:
        session.rollback()  # nothing of a refused decision may be committed
        held = held_by(session, officer)
        if held is None or held.id != case_id:
            return RedirectResponse(CONSOLE_PATH, status_code=303)
        return _case_page(
            request,
            session,
            current,
            rt,
            held,
            error=messages.indonesian(exc.message),
            status_code=exc.status_code,
        )
    following = claim(session, officer=officer, settings=rt.settings)
    done = f"decided={case_id}&action={action}"
    target = f"{CONSOLE_PATH}/cases/{following.id}" if following else CONSOLE_PATH
    return RedirectResponse(f"{target}?{done}", status_code=303)


@router.get("/cases/{case_id}/frame")
def frame(case_id: CaseId, session: DbSession, current: ConsoleOfficer, rt: AppRuntime) -> Response:
    data, content_type = frame_image(session, rt.evidence, case_id=case_id, officer=current.officer)
    return Response(data, media_type=content_type, headers={"Cache-Control": IMAGE_CACHE})


@router.get("/cases/{case_id}/plate")
def plate_crop(
    case_id: CaseId, session: DbSession, current: ConsoleOfficer, rt: AppRuntime
) -> Response:
    data = plate_image(session, rt.evidence, case_id=case_id, officer=current.officer)
    return Response(data, media_type="image/png", headers={"Cache-Control": IMAGE_CACHE})


@router.get("/cases/{case_id}/owner-photo")
def owner_photo_page(
    case_id: CaseId, session: DbSession, current: ConsoleOfficer, rt: AppRuntime
) -> Response:
    data, content_type = owner_photo(session, rt.evidence, case_id=case_id, officer=current.officer)
    return Response(data, media_type=content_type, headers={"Cache-Control": IMAGE_CACHE})


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefused)
    if exc.status_code == 401:
        response: Response = RedirectResponse(f"{CONSOLE_PATH}/login", status_code=303)
        response.delete_cookie(CONSOLE_COOKIE, path=CONSOLE_PATH)
        return response
    return _page(
        request, "refused.html", {"message": messages.indonesian(exc.message)}, exc.status_code
    )


def install_console(app: FastAPI) -> None:
    app.include_router(router)
    app.add_exception_handler(ConsoleRefused, _refused)
