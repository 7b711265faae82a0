"""The `etle` command."""

from __future__ import annotations

import logging
import sys

import typer

from api.cli import (
    audit,
    cameras,
    cases,
    db,
    demo,
    evidence,
    frames,
    ingest,
    jurisdictions,
    notices,
    officers,
    portal,
    recognition,
    registry,
    review,
    serve,
    training,
    violations,
    worker,
)
from api.cli.common import err
from etle.errors import EtleError

app = typer.Typer(
    help="ETLE back office: camera frames in, plates read, officer review, notices out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(notices.app, name="notices")
app.add_typer(officers.app, name="officers")
app.add_typer(review.app, name="review")
app.add_typer(registry.app, name="registry")
app.add_typer(violations.app, name="violations")
app.add_typer(jurisdictions.app, name="jurisdictions")
app.add_typer(cases.app, name="cases")
app.add_typer(audit.app, name="audit")
app.add_typer(cameras.app, name="cameras")
app.add_typer(ingest.app, name="ingest")
app.add_typer(frames.app, name="frames")
app.add_typer(training.app, name="training")
app.add_typer(evidence.app, name="evidence")
app.add_typer(portal.app, name="portal")
app.command("demo")(demo.demo)
app.command("worker")(worker.worker)
app.command("serve")(serve.serve)
app.command("recognize")(recognition.recognize)
app.command("eval")(recognition.eval_command)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except EtleError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
