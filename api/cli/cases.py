from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, out, print_json, runtime
from api.cli.schema import require_schema
from etle.cases.lifecycle import void_case
from etle.cases.models import Case
from etle.clock import local, utcnow
from etle.db import session_scope
from etle.errors import NotFound, ValidationFailed
from etle.escalation.lists import write_lists
from etle.escalation.service import escalate
from etle.officers.access import Permission
from etle.officers.service import officer_with

app = typer.Typer(help="Cases: the daily deadlines job, voiding.", no_args_is_help=True)


@app.command("escalate")
def cases_escalate(
    today: Annotated[
        str | None,
        typer.Option(help="Run as of this date (YYYY-MM-DD); default: today in ETLE_TIMEZONE."),
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """The daily deadlines job (run it once a day, e.g. from cron at 01:00).

    Marks cases past their deadline overdue, blocks the registration of their vehicles, lifts
    the blocks of cases paid or voided, closes paid cases, and writes the lists for the
    registration office (ETLE_REGISTRATION_DIR): blocks-DATE.csv, unblocks-DATE.csv and
    active-blocks.csv. Running it again the same day changes nothing.
    """
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        if today is None:
            day = local(utcnow(), rt.settings.timezone).date()
        else:
            try:
                day = date.fromisoformat(today)
            except ValueError as exc:
                raise ValidationFailed(f"--today {today!r} is not a date (YYYY-MM-DD)") from exc
        with session_scope(rt.sessions) as session:
            report = escalate(session, today=day)
        # After the commit: the lists are rebuilt from what was committed, so a crash here is
        # repaired by running the job again.
        with session_scope(rt.sessions) as session:
            files = write_lists(session, rt.settings.registration_folder, day)
    body = {**report.as_dict(), "files": {k: str(v) for k, v in files.items()}}
    if json:
        print_json(body)
        return
    out.print(
        f"{day}: {len(report.overdue)} overdue, {len(report.blocked)} blocked, "
        f"{len(report.lifted)} unblocked, {len(report.closed)} closed"
    )
    for name, path in files.items():
        out.print(f"  {name:<9} {path}")


@app.command("void")
def cases_void(
    case_id: Annotated[int, typer.Argument(help="Case number.")],
    reason: Annotated[str, typer.Option(help="Why the case is void (kept in the audit trail).")],
    as_officer: Annotated[str, typer.Option("--as", help="Your officer username (a supervisor).")],
    data_dir: DataDir = None,
) -> None:
    """Void a case at any stage (supervisors). A registration block on it is lifted."""
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        with session_scope(rt.sessions) as session:
            officer = officer_with(session, as_officer, Permission.VOID_CASES)
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound(f"no case {case_id}")
            void_case(session, case=case, officer=officer, reason=reason)
    out.print(f"case {case_id}: void")
