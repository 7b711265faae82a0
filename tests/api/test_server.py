"""The push contract through a real HTTP server (uvicorn on a free loopback port), where a test
client's shortcuts do not apply: the body arrives in pieces, and an oversized one must be
refused before it has all been sent."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings
from etle.cameras.service import add_camera
from etle.db import session_scope
from tests.factories import sample_variant
from tests.live_server import serving


@pytest.fixture
def server(fresh_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Runtime]]:
    rt = build_runtime(load_app_settings(data_dir=tmp_path, database_url=fresh_url))
    with session_scope(rt.sessions) as session:
        _camera, token = add_camera(
            session, camera_id="CAM-S", name="S", violation_codes=["red_light"], actor="t"
        )
    with serving(create_app(rt)) as url:
        yield url, token, rt
    rt.close()


def test_realistic_frame_through_the_server(server: tuple[str, str, Runtime]) -> None:
    url, token, rt = server
    image = sample_variant(3)  # a 1080p road scene
    metadata = {"captured_at": datetime.now(UTC).isoformat(), "violation": "red_light"}
    with httpx.Client(base_url=url) as client:
        pushed = client.post(
            "/api/v1/frames",
            headers={"Authorization": f"Bearer {token}"},
            files={"image": ("f.jpg", image, "image/jpeg")},
            data={"metadata": json.dumps(metadata)},
        )
        assert pushed.status_code == 202, pushed.text
        again = client.post(
            "/api/v1/frames",
            headers={"Authorization": f"Bearer {token}"},
            files={"image": ("f.jpg", image, "image/jpeg")},
            data={"metadata": json.dumps(metadata)},
        )
    assert again.status_code == 200
    assert again.json()["frame_id"] == pushed.json()["frame_id"]
    assert rt.queue.depth() == 1


def test_oversized_upload_is_refused_before_it_is_sent(server: tuple[str, str, Runtime]) -> None:
    url, token, _rt = server
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(
            b"POST /api/v1/frames HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=b\r\n"
            + b"Content-Length: 500000000\r\n\r\n"  # 500 MB announced ...
            + b"--b\r\n"  # ... and only a few bytes sent
        )
        received = b""
        while chunk := raw.recv(65536):  # the server answers and closes the connection
            received += chunk
    head, _, body = received.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 413 ")
    assert json.loads(body)["error"] == "payload_too_large"
