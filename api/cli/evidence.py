"""`etle evidence`: export evidence with its hash, and verify the whole store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from api.cli.common import DataDir, JsonFlag, err, out, plural, print_json, progress, runtime
from etle.db import session_scope
from etle.errors import ValidationFailed
from etle.frames.evidence import EvidenceProblem, export_evidence, verify_evidence
from etle.frames.models import Frame

app = typer.Typer(help="Evidence: export with its SHA-256, verify the store.", no_args_is_help=True)


@app.command("export")
def export(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the copy into.")],
    frame: Annotated[int | None, typer.Option(help="Frame number.")] = None,
    case: Annotated[int | None, typer.Option(help="Case number (its evidence frame).")] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Copy a frame's (or a case's) evidence out, after checking it against its SHA-256.

    Evidence that no longer matches the hash kept with the frame and the case is refused.
    A NAME.sha256 file beside the copy lets anyone check it with `sha256sum -c`.
    """
    if (frame is None) == (case is None):
        raise ValidationFailed("give exactly one of --frame or --case")
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        exported = export_evidence(session, rt.evidence, out_dir, frame_id=frame, case_id=case)
    if json:
        print_json(
            {
                "frame_id": exported.frame_id,
                "sha256": exported.sha256,
                "path": str(exported.path),
                "checksum": str(exported.checksum_path),
            }
        )
    else:
        out.print(f"frame {exported.frame_id} verified and written to {exported.path}")


@app.command("verify")
def verify(data_dir: DataDir = None, json: JsonFlag = False) -> None:
    """Re-hash the evidence of every frame; list any that is missing or altered.

    Exits with status 2 when a problem is found.
    """
    problems: list[EvidenceProblem] = []
    checked = 0
    with (
        runtime(data_dir) as rt,
        session_scope(rt.sessions) as session,
        progress(quiet=json) as bar,
    ):
        total = session.scalar(select(func.count()).select_from(Frame)) or 0
        task = bar.add_task("verifying evidence", total=total)
        for item in verify_evidence(session, rt.evidence):
            checked += 1
            if isinstance(item, EvidenceProblem):
                problems.append(item)
            bar.advance(task)
    if json:
        print_json(
            {
                "checked": checked,
                "ok": not problems,
                "problems": [
                    {"frame_id": p.frame_id, "sha256": p.sha256, "problem": p.problem}
                    for p in problems
                ],
            }
        )
    else:
        for p in problems:
            err.print(f"[red]frame {p.frame_id}[/red]: evidence {p.problem} ({p.sha256[:12]})")
        out.print(f"{plural(checked, 'frame')} checked, {plural(len(problems), 'problem')}")
    if problems:
        raise typer.Exit(2)
