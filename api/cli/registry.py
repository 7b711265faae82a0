from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from api.cli.common import DataDir, JsonFlag, err, operator, out, plural, print_json, runtime
from api.cli.schema import require_schema
from etle.db import session_scope
from etle.registry.importer import ImportReport, import_file
from etle.registry.importer import Progress as ImportProgress

app = typer.Typer(
    help="The vehicle registry (Regident/ERI): import vehicles and their owners.",
    no_args_is_help=True,
)

SHOWN_ERRORS = 50


@app.command("import")
def registry_import(
    file: Annotated[
        Path, typer.Argument(help="CSV with a header row, a JSON array, or JSON Lines (.jsonl).")
    ],
    check: Annotated[
        bool, typer.Option("--check", help="Only validate and report; import nothing.")
    ] = False,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Import vehicles and owners: every row is validated first, then all or nothing.

    Columns: plate, owner_name, vehicle_type (car, motorcycle, bus, truck, ...), the address as
    street, district, city (or one address column "street, district, city"); optional nik
    (16 digits), postcode, email, phone, brand, model, colour, year, vin, engine_number,
    registration_valid_until (YYYY-MM-DD). Every problem of a bad row is reported with its line
    number and nothing is imported (exit code 1). Importing the same file again changes
    nothing; a row with another owner than the vehicle's current one records a change of owner.
    """
    started = time.perf_counter()
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with _bar(quiet=json) as on_progress, session_scope(rt.sessions) as session:
            report = import_file(
                session, file, actor=operator(), progress=on_progress, check_only=check
            )
    seconds = time.perf_counter() - started
    if json:
        print_json({**report.as_dict(), "seconds": round(seconds, 1)})
    else:
        _print(report, seconds, check)
    if not report.ok:
        raise typer.Exit(1)


def _print(report: ImportReport, seconds: float, check: bool) -> None:
    if not report.ok:
        problems = plural(report.error_count, "problem")
        err.print(
            f"[red]{report.source}: {problems} in {plural(report.bad_rows, 'row')} of "
            f"{report.rows:,}; nothing was imported[/red]",
            highlight=False,
            soft_wrap=True,
        )
        for line, problem in report.errors[:SHOWN_ERRORS]:
            err.print(f"  line {line}: {problem}", highlight=False, markup=False, soft_wrap=True)
        if report.error_count > SHOWN_ERRORS:
            err.print(
                f"  ... and {report.error_count - SHOWN_ERRORS:,} more (--json lists up to 1000)"
            )
        return
    if check:
        out.print(
            f"{report.source}: {plural(report.rows, 'row')}, all valid (nothing imported: --check)"
        )
        return
    changed = (
        f", {plural(report.owners_changed, 'vehicle')} to a new owner"
        if report.owners_changed
        else ""
    )
    out.print(
        f"{report.source}: {plural(report.rows, 'row')} in {seconds:.1f} s: "
        f"{plural(report.created, 'vehicle')} created with their owners, "
        f"{report.updated:,} updated{changed}, {report.unchanged:,} unchanged",
        highlight=False,
        soft_wrap=True,
    )


@contextmanager
def _bar(*, quiet: bool) -> Iterator[ImportProgress]:
    """Two bars: validating (bytes of the file), then importing (rows)."""
    progress = Progress(
        TextColumn("{task.description:<11}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=max(total, 1))
        progress.update(tasks[phase], completed=done, total=max(total, 1))

    with progress:
        yield update
