"""Overload is answered, not queued (DESIGN invariant 10).

A request takes a place in its lane before it reaches the application, and gives it back when
its answer has been sent. When the lane is full the request is answered at once, from the event
loop, with `503 overloaded` and `Retry-After`: it never waits for a thread or a database
connection that it might not get in time. The lanes together admit `ETLE_REQUESTS_AT_ONCE`
requests, and the thread pool and the database pool are sized to that number
(`api/runtime.py`), so an admitted request never waits for either.

Lanes keep one kind of caller from using up another's share: a flood on the public portal
leaves cameras, officers and the bank their places. Signing in has a small lane of its own
because each password check costs a core for a good part of a second (argon2id). `/healthz`
takes no place at all: it answers from the event loop while everything else is busy.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from etle.metrics import count_overload

log = logging.getLogger(__name__)

# Share of ETLE_REQUESTS_AT_ONCE for each lane, in 32nds.
SHARES = {"cameras": 8, "officers": 6, "sign_in": 2, "public": 8, "bank": 4, "operations": 4}
RETRY_AFTER_SECONDS = 1

# First match wins; a path outside the table is "public" (the portal's pages, unknown paths).
ROUTES: tuple[tuple[str, str | None], ...] = (
    ("/healthz", None),
    ("/api/v1/frames", "cameras"),
    ("/api/v1/auth/token", "sign_in"),
    ("/console/login", "sign_in"),
    ("/api/v1/public/", "public"),
    ("/api/v1/payments/", "bank"),
    ("/api/v1/webhooks/", "bank"),
    ("/api/v1/", "officers"),
    ("/console", "officers"),
    ("/readyz", "operations"),
    ("/metrics", "operations"),
    ("/docs", "operations"),
    ("/openapi.json", "operations"),
)


@dataclass
class Lane:
    name: str
    capacity: int
    in_use: int = 0


def lanes_for(requests_at_once: int) -> dict[str, Lane]:
    return {
        name: Lane(name, max(1, requests_at_once * share // sum(SHARES.values())))
        for name, share in SHARES.items()
    }


def lane_name(path: str) -> str | None:
    for prefix, name in ROUTES:
        if path == prefix or path.startswith(prefix):
            return name
    return "public"


OVERLOADED = json.dumps(
    {
        "error": "overloaded",
        "message": "too many requests at once; retry after the number of seconds in Retry-After",
    }
).encode()


class Admission:
    """Pure ASGI middleware. The counters are touched only by the event loop, so no lock."""

    def __init__(self, app: ASGIApp, requests_at_once: int) -> None:
        self.app = app
        self.lanes = lanes_for(requests_at_once)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = lane_name(scope["path"])
        if name is None:
            await self.app(scope, receive, send)
            return
        lane = self.lanes[name]
        if lane.in_use >= lane.capacity:
            count_overload(name)
            await _refuse(send)
            return
        lane.in_use += 1
        try:
            await self.app(scope, receive, send)
        finally:
            lane.in_use -= 1


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(OVERLOADED)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": OVERLOADED})
