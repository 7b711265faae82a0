"""Shared pieces of CLI commands: settings with overrides, who is running the command (for the
audit trail), output for people or `--json`."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
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


# An audit event's actor is at most this long (etle.audit.models.AuditEvent.actor).
ACTOR_MAX = 100


def operator() -> str:
    """The audit trail's name for whoever runs a command: `operator:<login name>`, or
    `operator:cli` on a machine with no user name (a bare container: no USER or LOGNAME, and
    no entry for its uid). Events written by earlier releases keep what they say (`cli:<user>`
    for cameras, `system:cli` for notices): the chain covers them as written."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # KeyError: no passwd entry; OSError from Python 3.13 on
        return "operator:cli"
    return f"operator:{name}"[:ACTOR_MAX]


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 letter`, `2 letters`, `50,000 owners`: the count with the word it needs."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


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
        # One line per cause, as promised, whatever the terminal's width.
        line = f"[red]error:[/red] {escape(failure.describe())}"
        err.print(line, highlight=False, soft_wrap=True)
    err.print(
        "fix the cause, then `etle frames retry --failed` (failed frames are also retried "
        "by themselves); `etle frames account` shows where every frame is"
    )
    raise typer.Exit(1)
