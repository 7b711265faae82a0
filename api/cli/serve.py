from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from api.cli.common import DataDir, settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (one or two per core).")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (costs CPU at high frame rates).")
    ] = True,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP API: camera intake, officer review, public portal; docs at /docs."""
    if data_dir is not None:
        os.environ["ETLE_DATA_DIR"] = str(data_dir)  # read again by every worker process
    settings()  # refuse bad settings here, with one line, before any process starts
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        access_log=access_log,
    )
