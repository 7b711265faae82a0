"""`etle training export`: officer-confirmed plates as training data for the models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, out, print_json, progress, runtime
from api.cli.schema import require_schema
from etle.db import session_scope
from etle.frames.training_export import export_training_data, frames_to_export

app = typer.Typer(help="Training data from officers' decisions.", no_args_is_help=True)


@app.command("export")
def export(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write (created if missing).")],
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Write every plate an officer confirmed, corrected or keyed, with its box: the frames
    with YOLO labels (`0 cx cy w h PLATE`) and the plate crops with `labels.csv`, in the layout
    the training commands read (`--extra DIR`). No owner, vehicle, camera, place or time, and
    no image metadata, is written (docs/recognition.md).
    """
    with (
        runtime(data_dir) as rt,
        session_scope(rt.sessions) as session,
        progress(quiet=json) as bar,
    ):
        require_schema(rt.engine)
        task = bar.add_task("exporting frames", total=frames_to_export(session))
        report = export_training_data(
            session, rt.evidence, out_dir, advance=lambda: bar.advance(task)
        )
    if json:
        print_json({**report.as_dict(), "out": str(out_dir.resolve())})
        return
    out.print(
        f"{report.plates} plate(s) on {report.frames} frame(s) written to {out_dir}"
        + (f"; {report.skipped} left out (evidence missing or altered)" if report.skipped else "")
    )
