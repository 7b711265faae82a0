"""`etle notices ...`: the delivery ledger, print batches, returned letters, verification."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import (
    DataDir,
    JsonFlag,
    err,
    operator,
    out,
    plural,
    print_json,
    progress,
    runtime,
)
from etle.clock import local, utcnow
from etle.db import session_scope
from etle.notices import ledger
from etle.notices.models import Notice
from etle.notices.tokens import token_from_url
from etle.notices.verify import verify_code, verify_token
from notices.dispatch import portal_refusal
from notices.post_batches import export_post, list_batches

app = typer.Typer(
    help="Notices: delivery ledger, print batches, returned letters.", no_args_is_help=True
)


@app.command("status")
def status(data_dir: DataDir = None, json: JsonFlag = False) -> None:
    """Count deliveries per channel and state, retries waiting, notices needing an officer."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        result = ledger.ledger_status(session)
        held = portal_refusal(rt.dispatch)
    if json:
        print_json({**result.as_dict(), "held": held})
        return
    if held is not None:
        err.print(f"[yellow]held:[/yellow] {held}", highlight=False, soft_wrap=True)
    states = list(next(iter(result.deliveries.values())).keys())
    out.print(f"{'channel':<9}" + "".join(f"{s:>11}" for s in states))
    for channel, counts in result.deliveries.items():
        out.print(f"{channel:<9}" + "".join(f"{counts.get(s, 0):>11}" for s in states))
    out.print(
        f"notices {result.notices}; waiting for a retry {result.waiting_retry}; "
        f"needing an officer {result.needs_attention}"
    )
    batches = ", ".join(f"{n} {s}" for s, n in result.batches.items())
    out.print(f"post batches: {batches}")


@app.command("export-post")
def export_post_command(
    data_dir: DataDir = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many letters in the batch.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Collect letters waiting for the post into a print batch.

    Writes POST_DIR/batch-<time>/ with one PDF per letter, manifest.csv (notice number, name,
    street, district, city, postcode, file) and SHA256SUMS, and marks the letters sent with the
    batch.
    """
    with runtime(data_dir) as rt, progress(quiet=json) as bar:
        task = bar.add_task("rendering letters", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        batch = export_post(rt.dispatch, actor=operator(), limit=limit, on_letter=advance)
    if json:
        print_json(
            {
                "batch": batch.name if batch else None,
                "folder": str(batch.folder) if batch else None,
                "letters": batch.letters if batch else 0,
                "set_aside": batch.skipped if batch else 0,
            }
        )
    elif batch is None:
        out.print("no letters waiting for the post")
    else:
        out.print(f"{plural(batch.letters, 'letter')} in {batch.folder}")
        if batch.skipped:
            out.print(f"{batch.skipped} set aside for an officer (see `etle notices status`)")


@app.command("batches")
def batches(data_dir: DataDir = None, json: JsonFlag = False) -> None:
    """List print batches, newest first, with their status."""
    with runtime(data_dir) as rt:
        rows = list_batches(rt.dispatch)
        zone = rt.settings.timezone
    data = [
        {
            "name": b.name,
            "status": b.status,
            "letters": b.letters,
            "exported_at": b.exported_at,
            "handed_over_at": b.handed_over_at,
            "sha256sums": b.sums_sha256,
        }
        for b in rows
    ]
    if json:
        print_json(data)
        return
    for b in rows:
        when = local(b.exported_at, zone).strftime("%d-%m-%Y %H:%M")
        out.print(f"{b.name}  {b.status:<12} {plural(b.letters, 'letter'):>14}  exported {when}")


@app.command("hand-over")
def hand_over(
    batch: Annotated[str, typer.Argument(help="Batch name, e.g. batch-20261122T090000000000Z.")],
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Record that the postal service took a print batch."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        row = ledger.hand_over(session, batch, actor=operator())
        letters = row.letters
        result = {"batch": row.name, "status": row.status, "letters": letters}
    if json:
        print_json(result)
    else:
        out.print(f"{batch}: handed over ({plural(letters, 'letter')})")


@app.command("returned")
def returned(
    notice_number: Annotated[str, typer.Argument(help="Notice number printed on the letter.")],
    reason: Annotated[
        str, typer.Option(help="Why it came back, e.g. 'alamat tidak dikenal'.")
    ] = "returned by the postal service",
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Record a returned letter: the notice's other channels take over, or an officer does."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        delivery = ledger.mark_returned(session, notice_number, reason=reason, actor=operator())
        notice = session.get_one(Notice, delivery.notice_id)
        result = {"notice_number": notice_number, "attention": notice.attention}
    if json:
        print_json(result)
    elif result["attention"]:
        out.print(f"{notice_number}: returned; no other channel left, flagged for an officer")
    else:
        out.print(f"{notice_number}: returned; the other channels carry the notice")


@app.command("verify")
def verify(
    value: Annotated[str, typer.Argument(help="Verification code, QR token or QR URL.")],
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Check a notice's verification code or QR code the way the portal does."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        s = rt.settings
        token = token_from_url(value, s.portal_url) or (value if value.count(".") == 2 else None)
        if token is not None:
            result = verify_token(
                session, token, key=s.signing_key, today=local(utcnow(), s.timezone).date()
            )
        else:
            result = verify_code(session, value)
    if json:
        print_json(result.as_dict())
    elif result.genuine:
        out.print(f"genuine: notice {result.notice_number}, plate {result.plate}")
    else:
        out.print(f"NOT genuine ({result.reason})")
        raise typer.Exit(1)
