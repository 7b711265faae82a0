"""Rendering portal pages: the words in the reader's language, the security headers, caching.

The language is Bahasa Indonesia unless the reader chose English (`?lang=en` on any page, then
remembered in a cookie). Pages about a notice are never cached; public pages briefly.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import AppRuntime
from api.portal.headers import PORTAL_CSP
from api.portal.security import FORM_COOKIE, LANG_COOKIE, new_form_token
from notices.letter import rupiah
from notices.wording import long_date, number

HERE = Path(__file__).parent
LANGUAGES = ("id", "en")
FORM_SECONDS = 3600


@cache
def words(language: str) -> dict[str, str]:
    with (HERE / "words" / f"{language}.toml").open("rb") as handle:
        return dict(tomllib.load(handle))


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in LANGUAGES else "id"


def _long_date(day: date | None, lang: str) -> str:
    return long_date(day, lang) if day else ""


def _decimal(value: float | None, lang: str = "id") -> str:
    """`71,6` in Bahasa Indonesia (decimal comma), `71.6` in English."""
    if value is None:
        return "–"
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "id" else text


def _percent(share: float | None, lang: str = "id") -> str:
    return "–" if share is None else _decimal(share * 100, lang) + "%"


def _short_date(day: date) -> str:
    return f"{day:%d-%m-%Y}"


_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_env.filters["rupiah"] = rupiah
_env.filters["long_date"] = _long_date
_env.filters["percent"] = _percent
_env.filters["decimal"] = _decimal
_env.filters["short_date"] = _short_date
_env.filters["number"] = number
templates = Jinja2Templates(env=_env)


def https(request: Request) -> bool:
    return request.url.scheme == "https"


def page(
    request: Request,
    rt: AppRuntime,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    private: bool = True,
    form_token: bool = False,
    here: str | None = None,
) -> HTMLResponse:
    """A portal page. `form_token`: the page has a form without a grant (double-submit CSRF)."""
    lang = language(request)
    full: dict[str, Any] = {
        "t": words(lang),
        "lang": lang,
        "portal": rt.settings.portal_url,
        "here": here or request.url.path,
        **context,
    }
    token = new_form_token(rt) if form_token else None
    if token is not None:
        full["form_token"] = token
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    response.headers["Content-Security-Policy"] = PORTAL_CSP
    response.headers["Cache-Control"] = "no-store" if private else "public, max-age=300"
    if token is not None:
        response.set_cookie(
            FORM_COOKIE,
            token,
            max_age=FORM_SECONDS,
            path="/",
            httponly=True,
            samesite="strict",
            secure=https(request),
        )
    remember(request, response)
    return response


def remember(request: Request, response: Response) -> None:
    """Keep a language chosen with `?lang=` for the next pages."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, asked, max_age=365 * 86400, path="/", samesite="lax", secure=https(request)
        )


def error_key(detail: object, fallback: str = "error_other") -> str:
    """The words key for a domain error's detail code (`{"code": ...}`), if the words have it."""
    code = detail.get("code") if isinstance(detail, dict) else None
    key = f"error_{code}"
    return key if code and key in words("id") else fallback
