"""The public portal's web pages: server-rendered, phone-first, Bahasa Indonesia by default.

    /                         home
    /tilang                   look a notice up (notice number + plate, or plate + VIN)
    /tilang/surat/{number}    the notice: evidence, deadlines, timeline; answer it, pay
    /verifikasi[/{token}]     is this letter or message genuine? report a scam
    /statistik                transparency figures

Rules live in `etle.portal` and `etle.payments`; the JSON API for the same actions is
`api/routers/public_portal.py`. No page runs a script, so the CSP forbids them all.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.portal.headers import SecurityHeaders
from api.portal.pages import install_pages


def install_portal(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)
    install_pages(app)
