"""`GET /metrics` for Prometheus, and the middleware that counts frame pushes.

The counters live in `etle.metrics`; this module only serves them. Several API processes on one
machine share a `PROMETHEUS_MULTIPROC_DIR` (set by `etle serve --workers N`), so any of them
answers with the sum. The state gauges (queue, backlog, deliveries, audit head) are read from the
database at each scrape. `/metrics` needs `ETLE_METRICS_TOKEN` as a bearer token and answers 404
while that setting is unset.
"""

from __future__ import annotations

import hmac
import os
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import AppRuntime
from api.errors import error_responses
from etle.errors import NotFound, Unauthorized
from etle.metrics import StateCollector, count_frame_push

FRAME_PUSH_PATH = "/api/v1/frames"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

router = APIRouter(tags=["health"])
metrics_bearer = HTTPBearer(scheme_name="MetricsToken", auto_error=False)


class FramePushCounter:
    """Counts every answer of the frame push by outcome (pure ASGI: a few microseconds)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != FRAME_PUSH_PATH:
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                count_frame_push(int(message["status"]))
            await send(message)

        await self.app(scope, receive, counting_send)


def _process_counts() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@router.get(
    "/metrics",
    summary="Prometheus metrics (bearer ETLE_METRICS_TOKEN; 404 while unset)",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"},
        **error_responses(
            {
                Unauthorized: "No or wrong metrics token.",
                NotFound: "ETLE_METRICS_TOKEN is not set: metrics are off.",
            }
        ),
    },
)
def metrics(
    runtime: AppRuntime,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(metrics_bearer)],
) -> Response:
    token = runtime.settings.metrics_token
    if token is None:
        raise NotFound("not found")
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise Unauthorized("send ETLE_METRICS_TOKEN as `Authorization: Bearer ...`")
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector(runtime.sessions, runtime.queue.depth))
    return Response(_process_counts() + generate_latest(state), media_type=CONTENT_TYPE)


def install_metrics(app: FastAPI) -> None:
    app.add_middleware(FramePushCounter)
    app.include_router(router)
