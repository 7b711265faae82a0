"""uvicorn's HTTP protocol with a deadline on the request head (slow or half-open clients).

uvicorn has no such time-out (its issue 157 lists `--timeout-request-start` as never done):
`timeout_keep_alive` only closes a connection idle *between* requests, and it is reset by every
byte received. A client that opens a connection and sends nothing, or trickles a request head
one byte at a time, held its connection (a file descriptor, a slot in the server's connection
set) for as long as it liked: 500 such sockets stayed open for 80 s in the attack run of issue
17. No ASGI middleware can help: the application sees a request only once its head is parsed.

Here a timer starts when a connection opens and whenever a new request begins on it, and stops
once the request head is complete; if it fires first, the connection is closed. Bodies are not
limited by it (a camera may upload a large frame slowly); requests in progress are never cut.
`etle serve` uses it (`ETLE_HEADER_TIMEOUT_SECONDS`, read from the environment because each
worker process builds its own protocol objects).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_ENV = "ETLE_HEADER_TIMEOUT_SECONDS"
DEFAULT_HEADER_TIMEOUT = 10.0


class HeaderTimeoutProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = float(os.environ.get(HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT))
        self.header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.header_timer is None:  # the next request on a kept-alive connection
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self.header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _expired(self) -> None:
        self.header_timer = None
        if not self.transport.is_closing():
            self.transport.close()
