"""The FastAPI application: camera intake, officer review and the public portal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api.admission import Admission
from api.console.routes import install_console
from api.errors import install_error_handlers
from api.limits import DeclaredBodyLimit
from api.metrics import install_metrics
from api.openapi_doc import install_openapi
from api.portal import install_portal
from api.routers import (
    auth,
    cameras,
    frames,
    frames_admin,
    health,
    notices_admin,
    officers,
    payments,
    public_portal,
    public_verify,
    review,
    webhooks,
)
from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings


def create_app(runtime: Runtime | None = None) -> FastAPI:
    rt = runtime or build_runtime(load_app_settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # A thread for every request the lanes admit at once, and some to spare for what runs
        # outside them: an admitted request never waits for a thread (api/admission.py).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, rt.settings.requests_at_once + 8)
        yield
        if runtime is None:  # built here, so closed here
            rt.close()

    app = FastAPI(
        title="ETLE back office",
        summary="Electronic traffic law enforcement: camera intake, officer review, notices, "
        "public portal.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served with local files by api/openapi_doc.py
        redoc_url=None,  # would load from a CDN
    )
    app.state.runtime = rt
    install_error_handlers(app)
    max_body = rt.settings.max_upload_bytes + frames.FORM_OVERHEAD_BYTES
    app.add_middleware(DeclaredBodyLimit, max_body_size=max_body)
    app.include_router(health.router)
    install_metrics(app)
    app.include_router(frames.router, max_body_size=max_body)
    app.include_router(cameras.router)
    app.include_router(public_verify.router)
    app.include_router(webhooks.router)
    app.include_router(notices_admin.router)
    app.include_router(frames_admin.router)
    app.include_router(auth.router)
    app.include_router(review.router)
    app.include_router(officers.router)
    app.include_router(public_portal.router)
    app.include_router(payments.router)
    install_console(app)
    install_portal(app)
    install_openapi(app)
    # Outermost: a request over its lane's share is answered before any other work.
    app.add_middleware(Admission, requests_at_once=rt.settings.requests_at_once)
    return app
