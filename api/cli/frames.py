"""`etle frames`: where every stored frame ended, and sending failed frames again."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from api.cli.common import DataDir, JsonFlag, out, print_json, runtime
from api.cli.schema import require_schema
from camera_ingest.jobs import retry_frames
from etle.clock import format_local
from etle.db import session_scope
from etle.errors import ValidationFailed
from etle.frames.accounting import Ending, account_frames

app = typer.Typer(
    help="Frames: where each one ended (accounting), and retrying failed ones.",
    no_args_is_help=True,
)

COLUMNS = (
    (Ending.CASE, "case"),
    (Ending.SIGHTING, "sighting"),
    (Ending.REJECTED, "rejected"),
    (Ending.QUEUED, "queued"),
    (Ending.RETRYING, "retrying"),
    (Ending.NEEDS_PLATE, "needs plate"),
    (Ending.UNACCOUNTED, "UNACCOUNTED"),
)


def parse_since(value: str | None, zone: str) -> datetime | None:
    """A date (midnight in the zone) or a date and time with an offset."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.min, tzinfo=ZoneInfo(zone))
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(f"{value!r} is not a date (YYYY-MM-DD) or an ISO time") from exc
    if moment.tzinfo is None:
        raise ValidationFailed(f"{value!r} needs a time zone offset, e.g. +07:00")
    return moment


@app.command("account")
def account(
    since: Annotated[
        str | None,
        typer.Option(help="Frames received from this date (YYYY-MM-DD, ETLE_TIMEZONE) or time."),
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Where every stored frame ended, per camera: in a case, a sighting (no violation), a
    rejection (the image cannot be read), or still waiting (queued, retrying after a failure,
    a case that needs a plate).

    Lists every frame in none of them and exits with status 1 if there is any: a violation
    that vanished without an officer's decision.
    """
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        zone = rt.settings.timezone
        with session_scope(rt.sessions) as session:
            report = account_frames(session, since=parse_since(since, zone))
    if json:
        print_json(report.as_dict())
    else:
        table = Table("camera", *(label for _, label in COLUMNS), "total")
        for camera, tally in [*report.by_camera.items(), ("all", report.totals)]:
            table.add_row(
                camera,
                *(str(tally.counts[ending.value]) for ending, _ in COLUMNS),
                str(tally.total),
            )
        out.print(table)
        for reason, count in report.rejections.items():
            out.print(f"rejected: {count} × {reason}")
        for frame in report.unaccounted:
            out.print(
                f"[red]unaccounted[/red] frame {frame.frame_id} ({frame.camera_id}, "
                f"{frame.status}, violation {frame.violation_code or 'camera default'}, "
                f"received {format_local(frame.received_at, zone)})"
            )
        missing = report.totals.counts[Ending.UNACCOUNTED.value]
        out.print(
            f"{report.totals.total} frame(s); "
            + (f"[red]{missing} unaccounted[/red]" if missing else "every one accounted for")
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command("retry")
def retry(
    failed: Annotated[
        bool, typer.Option("--failed", help="Every frame whose recognition failed.")
    ] = False,
    frame: Annotated[
        int | None,
        typer.Option(
            "--frame",
            help="This frame: failed, rejected, or read as a violation that is in no case.",
        ),
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Send frames to plate recognition again now, once the cause of their failure is fixed
    (model files restored, a service back). Failed frames are also retried by themselves with
    back-off; a running `etle worker` reads them, or run `etle worker --burst`.
    """
    if failed == (frame is not None):
        raise ValidationFailed("say which frames: --failed, or --frame N")
    with runtime(data_dir) as rt:
        require_schema(rt.engine)
        ids = retry_frames(rt.queue, rt.ingest, frame_id=frame)
    if json:
        print_json({"queued": ids})
    else:
        out.print(f"{len(ids)} frame(s) queued for recognition again")
