"""Refuse an oversized request from its headers, before a byte of its body is read.

The frame route also has FastAPI's `max_body_size`, which counts the bytes as they arrive (a
chunked upload declares no length) and stops the multipart parser at the limit. This middleware
adds the early answer for a declared `Content-Length`, in the API's JSON error shape: Starlette's
limiter answers that case in plain text.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body


class DeclaredBodyLimit:
    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_size:
                response = JSONResponse(
                    error_body(
                        "payload_too_large",
                        f"the request body is {declared} bytes; "
                        f"the limit is {self.max_body_size} bytes",
                    ),
                    status_code=413,
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
