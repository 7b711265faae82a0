from __future__ import annotations

import os
import shutil
import tempfile
from typing import Annotated

import typer
import uvicorn

from api.cli.common import DataDir, settings
from api.logs import uvicorn_log_config
from api.protocol import HEADER_TIMEOUT_ENV, HeaderTimeoutProtocol

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
