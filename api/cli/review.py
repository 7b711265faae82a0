"""`etle review`: accountability figures and overrides, for supervisors at the terminal."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, out, plural, print_json, runtime
from etle.cases.accountability import overrides, review_stats
from etle.clock import utcnow
from etle.db import session_scope

app = typer.Typer(help="Officer review: statistics and overrides.", no_args_is_help=True)


@app.command("stats")
def stats(
    days: Annotated[int, typer.Option(min=1, help="Look back this many days.")] = 30,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Per-officer decisions, time per decision and reversal rate; backlog; service level."""
    now = utcnow()
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        result = review_stats(
            session, settings=rt.settings, since=now - timedelta(days=days), now=now
        )
    if json:
        print_json(asdict(result))
        return
    b, s = result.backlog, result.service_level
    out.print(f"[bold]Review, last {days} days[/bold]")
    out.print(
        f"  backlog      {b.waiting} waiting ({b.leased} being reviewed), {b.at_risk} at risk, "
        f"{b.missed} past the {s.target_hours} h target"
    )
    if b.oldest_case_id is not None:
        out.print(f"  oldest       case {b.oldest_case_id}, {b.oldest_age_hours} h since capture")
    if s.notices:
        out.print(
            f"  to notice    {plural(s.notices, 'notice')}, median {s.median_hours} h, "
            f"p90 {s.p90_hours} h, {100 * (s.within_target_rate or 0):.0f}% within target"
        )
    out.print("  officer                  decisions  median s  reversals")
    for o in result.officers:
        rate = f"{100 * o.reversal_rate:.0f}%" if o.reversal_rate is not None else "-"
        median = f"{o.median_seconds:.0f}" if o.median_seconds is not None else "-"
        out.print(f"  {o.username:<24} {o.decisions:>9}  {median:>8}  {o.overturned:>3} ({rate})")


@app.command("overrides")
def list_overrides(
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 50,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Corrections, second confirmations and escalation outcomes, newest first."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        rows = overrides(session, limit=limit)
    if json:
        print_json([asdict(r) for r in rows])
        return
    for r in rows:
        change = f" {r.plate_before}→{r.plate_after}" if r.plate_after else ""
        after = (
            f" (after {r.overrides_officer}: {r.overrides_action})" if r.overrides_officer else ""
        )
        when = f"{r.decided_at:%Y-%m-%d %H:%M}"
        out.print(f"{when} case {r.case_id} {r.kind}: {r.officer} {r.action}{change}{after}")
