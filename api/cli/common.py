"""Shared pieces of CLI commands: settings with overrides, output for people or `--json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.runtime import Runtime, build_runtime
from api.settings import AppSettings, load_app_settings
from etle.frames.accounting import Failure

out = Console()
err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $ETLE_DATA_DIR or ./etle-data)."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts.")]


def settings(data_dir: Path | None = None, **overrides: Any) -> AppSettings:
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return load_app_settings(**overrides)


@contextmanager
def runtime(data_dir: Path | None = None, **overrides: Any) -> Iterator[Runtime]:
    rt = build_runtime(settings(data_dir, **overrides))
    try:
        yield rt
    finally:
        rt.close()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def progress(*, quiet: bool = False) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=True,
    )


def report_failures(failures: list[Failure]) -> None:
    """One line per cause on stderr, and exit 1, when frames could not be read."""
    if not failures:
        return
    for failure in failures:
        err.print(f"[red]error:[/red] {failure.describe()}", highlight=False)
    err.print(
        "fix the cause, then `etle frames retry --failed` (failed frames are also retried "
        "by themselves); `etle frames account` shows where every frame is"
    )
    raise typer.Exit(1)
