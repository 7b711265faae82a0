"""A server that cannot work says so before it starts: a database without tables (readiness
names it, `etle serve` says what to run) and a port already in use."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import build_runtime
from api.settings import load_app_settings
from etle.db import create_engine
from etle.migrate import upgrade

SERVE = [sys.executable, "-c", "from api.cli.main import main; main()", "serve"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETLE_")}
    env["ETLE_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_readiness_names_a_database_without_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    rt = build_runtime(load_app_settings(data_dir=tmp_path, database_url=url, queue_url=None))
    try:
        with TestClient(create_app(rt)) as client:
            answer = client.get("/readyz")
    finally:
        rt.close()
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready"
    assert body["database"] == (
        "failed: SchemaMissing: the database has no tables yet: run `etle db upgrade`"
    )


def test_serve_refuses_a_database_without_tables_and_says_what_to_run(tmp_path: Path) -> None:
    started = subprocess.run(
        [*SERVE, "--port", "0"], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 1
    assert "no tables yet: run `etle db upgrade`" in started.stderr
    assert "Application startup complete" not in started.stdout + started.stderr


def test_serve_refuses_a_port_in_use_before_the_application_starts(tmp_path: Path) -> None:
    env = _env(tmp_path)
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'etle.db'}")
    upgrade(engine)
    engine.dispose()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = subprocess.run(
            [*SERVE, "--port", str(port)], env=env, capture_output=True, text=True, timeout=60
        )
    assert started.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in started.stderr
    assert "Application startup complete" not in started.stdout + started.stderr
