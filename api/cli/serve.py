from __future__ import annotations

import os
import shutil
import socket
import tempfile
from typing import Annotated

import typer
import uvicorn

from api.cli.common import DataDir, settings
from api.logs import uvicorn_log_config
from api.protocol import HEADER_TIMEOUT_ENV, HeaderTimeoutProtocol
from api.settings import AppSettings
from etle.db import create_engine
from etle.errors import ConfigError
from etle.migrate import schema_problem

# uvicorn waits this long for requests in flight after SIGTERM or Ctrl-C before it closes them.
GRACEFUL_SHUTDOWN_SECONDS = 30


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (one or two per core).")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (costs CPU at high frame rates).")
    ] = True,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP API: camera intake, officer review, public portal; docs at /docs.

    SIGTERM or Ctrl-C stops taking connections and lets requests in flight finish (up to 30 s):
    a frame being pushed is committed and answered, or not stored at all.
    """
    if data_dir is not None:
        os.environ["ETLE_DATA_DIR"] = str(data_dir)  # read again by every worker process
    s = settings()  # refuse bad settings here, with one line, before any process starts
    check_schema(s)
    check_port_free(host, port)
    os.environ[HEADER_TIMEOUT_ENV] = str(s.header_timeout_seconds)  # read by every process
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every API process writes its counters here, so /metrics from any of them sums all.
        # A fresh folder per start: prometheus_client needs it empty when processes begin.
        metrics_dir = tempfile.mkdtemp(prefix="etle-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            http=HeaderTimeoutProtocol,  # closes connections that never finish a request head
            log_config=uvicorn_log_config(s.log_format),
            log_level="info",
            access_log=access_log,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def check_schema(s: AppSettings) -> None:
    """A database without this version's tables answers every request with an error: say what
    to run instead of starting. A database that cannot be reached is left to `/readyz` (it may
    come up after the server)."""
    s.data_dir.mkdir(parents=True, exist_ok=True)  # where the embedded default's file goes
    engine = create_engine(s.effective_database_url)
    try:
        problem = schema_problem(engine)
    except Exception:  # unreachable now: reported by /readyz, not a reason to refuse
        return
    finally:
        engine.dispose()
    if problem is not None:
        raise ConfigError(problem)


def check_port_free(host: str, port: int) -> None:
    """Bind the address as uvicorn will (SO_REUSEADDR), and let go at once: a port in use is
    refused here, before the application starts, not after "Application startup complete"."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                "(another server is using it? choose one with --port)"
            ) from exc
