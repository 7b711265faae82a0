from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import JsonFlag, out, print_json, progress, report_failures, runtime
from api.demo import SAMPLES, DemoSummary, run_demo


def demo(
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="Folder for the demo's database, evidence and outputs."),
    ] = Path("etle-demo"),
    samples: Annotated[
        Path, typer.Option(help="Folder with frames.json, cameras.json and registry.csv.")
    ] = SAMPLES,
    json: JsonFlag = False,
) -> None:
    """Run the whole flow on the sample frames, from camera push to notices.

    Imports the sample registry, ingests the sample frames as camera pushes, reads the plates
    with the real models, has a demo officer confirm the cases, and sends the notices by post
    (print batch), email (.eml files) and message (JSON Lines outbox).

    Uses an SQLite database, an SQLite queue and folders inside DATA_DIR, whatever ETLE_* says,
    and needs the plate models (ETLE_MODELS_DIR, or internet for the libraries' hubs).
    Running it again on the same folder adds nothing twice. Exits with status 1, naming the
    cause, when frames could not be read (fix it, then `etle frames retry --failed`).
    """
    with (
        progress(quiet=json) as bar,
        runtime(data_dir, database_url=None, queue_url=None, email_backend="folder") as rt,
    ):

        def step(label: str, total: int) -> Callable[[], None]:
            task = bar.add_task(label, total=total)
            return lambda: bar.advance(task)

        summary = run_demo(rt, samples, step)
    if json:
        print_json(summary.as_dict())
    else:
        _print(summary)
    report_failures(summary.failures)


def _print(s: DemoSummary) -> None:
    n = s.notices
    out.print(f"[bold]ETLE demo[/bold] in {s.data_dir}")
    out.print(f"  frames        {s.frames} stored ({s.new.get('frames', 0)} new this run)")
    out.print(f"  plates read   {s.plates_read}")
    statuses = ", ".join(f"{count} {status}" for status, count in s.cases_by_status.items())
    out.print(f"  cases         {s.cases} ({statuses})")
    out.print(
        f"  notices       {n['letters']} letters: post {n['post']}, email {n['email']}, "
        f"message {n['message']}"
    )
    out.print(
        f"  audit trail   {s.audit_events} events, "
        f"chain {'intact' if s.audit_chain_ok else 'BROKEN'}"
    )
    out.print("  files")
    for name, path in s.files.items():
        out.print(f"    {name:<9} {path}")
