"""Slow and half-open clients are cut off (issue 17, finding 8): a connection that does not
finish its request head within the deadline is closed, one that does is served as before.
The server here is `etle serve`'s protocol with a short deadline; each test waits at most 10 s
for the server to close (a socket time-out means it did not)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.protocol import HEADER_TIMEOUT_ENV, HeaderTimeoutProtocol
from api.runtime import Runtime
from tests.live_server import serving


@pytest.fixture
def port(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv(HEADER_TIMEOUT_ENV, "0.5")
    with serving(create_app(rt), http=HeaderTimeoutProtocol) as url:
        yield int(url.rsplit(":", 1)[1])


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize(
    "sent", [b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"POST /api/v1/frames HTTP/1.1\r\n"]
)
def test_an_unfinished_request_head_is_cut_off(port: int, sent: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(sent)
        assert _closed_by_server(sock)


def test_a_slow_trickle_is_cut_off_too(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break  # closed while trickling: what is wanted
            time.sleep(0.1)
        assert _closed_by_server(sock)


def test_whole_requests_are_served_on_a_kept_alive_connection(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        for _ in range(2):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b'{"status":"ok"}'):
                answer += sock.recv(1024)
            assert answer.startswith(b"HTTP/1.1 200")
            time.sleep(0.8)  # idle past the head deadline between requests: still open
