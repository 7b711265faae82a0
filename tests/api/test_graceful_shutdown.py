"""`etle serve` stopped (SIGTERM, as an orchestrator does) while a camera is half-way through
sending a frame: the upload in flight is finished, committed and answered, and the process then
exits cleanly. A real server process, as deployed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from api.runtime import build_runtime
from api.settings import load_app_settings
from etle.cameras.service import add_camera
from etle.db import session_scope
from etle.frames.models import Frame
from tests.conftest import REPO
from tests.factories import jpeg

BOUNDARY = "etle-test-boundary"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigterm_lets_a_frame_in_flight_finish(fresh_url: str, tmp_path: Path) -> None:
    rt = build_runtime(load_app_settings(data_dir=tmp_path, database_url=fresh_url, queue_url=None))
    with session_scope(rt.sessions) as session:
        _camera, token = add_camera(
            session, camera_id="CAM-G", name="g", violation_codes=["red_light"], actor="t"
        )
    env = {**os.environ, "ETLE_DATA_DIR": str(tmp_path), "ETLE_DATABASE_URL": fresh_url}
    env.pop("ETLE_QUEUE_URL", None)
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-c", "from api.cli.main import main; main()", "serve",
         "--port", str(port), "--no-access-log"],
        cwd=REPO, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

        metadata = json.dumps({"captured_at": datetime.now(UTC).isoformat(), "sequence": 1})
        body = (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
                f"{metadata}\r\n--{BOUNDARY}\r\n"
                'Content-Disposition: form-data; name="image"; filename="f.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + jpeg(seed=3, width=1280, height=720)
            + f"\r\n--{BOUNDARY}--\r\n".encode()
        )
        head = (
            f"POST /api/v1/frames HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as camera:
            camera.sendall(head + body[: len(body) // 2])
            time.sleep(0.5)  # the server is reading this request
            server.send_signal(signal.SIGTERM)
            time.sleep(1.0)  # it is shutting down now, with the upload half-way
            assert server.poll() is None  # still waiting for the request in flight
            camera.sendall(body[len(body) // 2 :])
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = camera.recv(65536)
                if not chunk:
                    break
                answer += chunk
        status = int(answer.split(b" ", 2)[1])
        assert status == 202, answer.decode(errors="replace")
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["duplicate"] is False
        # uvicorn re-raises the signal once it has finished: the exit status says "stopped by
        # SIGTERM", which is what a supervisor expects of a clean stop.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    with session_scope(rt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Frame)) == 1
    rt.close()
