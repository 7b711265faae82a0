"""`etle ingest`: frames from cameras that do not push over HTTP (folder drop, video stream)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DataDir, JsonFlag, err, out, plural, print_json, runtime
from api.runtime import Runtime
from camera_ingest.folder import FileOutcome, FolderIngest
from camera_ingest.sources import IntakeContext, check_camera
from camera_ingest.stream import Sample, sample_stream

app = typer.Typer(
    help="Take frames from a folder (FTP drop) or a video stream, as a camera.",
    no_args_is_help=True,
)

CameraOption = Annotated[
    str, typer.Option("--camera", help="Id of the registered camera the frames come from.")
]


def _context(rt: Runtime) -> IntakeContext:
    return IntakeContext(rt.sessions, rt.evidence, rt.settings, rt.enqueue_recognition)


@app.command("watch")
def watch(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder the camera uploads into.", exists=True, file_okay=False, dir_okay=True
        ),
    ],
    camera: CameraOption,
    settle: Annotated[
        float,
        typer.Option(help="Seconds a file must stay unchanged before it is taken (uploads)."),
    ] = 2.0,
    once: Annotated[
        bool, typer.Option("--once", help="Take the files there now, then exit.")
    ] = False,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Take images as they land in DIRECTORY, as frames of one camera.

    Each image is moved to DIRECTORY/processed/ once stored (or found to be a duplicate), or
    to DIRECTORY/rejected/ with a NAME.reason.txt saying why. Metadata comes from NAME.json
    beside the image (the push API's metadata JSON) or else from the image's EXIF capture
    time. Files are left in place while the database is unreachable, and taken later. Running
    it again, or over files already taken, stores nothing twice. --json prints one JSON line
    per file.
    """

    def report(outcome: FileOutcome) -> None:
        if json:
            print_json(outcome.as_dict())
        elif outcome.outcome == "rejected":
            err.print(f"[red]rejected[/red] {outcome.name}: {outcome.reason}", highlight=False)
        elif outcome.outcome == "retry":
            err.print(f"[yellow]retry later[/yellow] {outcome.name}: {outcome.reason}")
        else:
            out.print(f"{outcome.outcome} {outcome.name} as frame {outcome.frame_id}")

    with runtime(data_dir) as rt:
        ctx = _context(rt)
        check_camera(ctx, camera)
        folder = FolderIngest(ctx, directory, camera_id=camera, settle_seconds=settle)
        if once:
            for outcome in folder.scan():
                report(outcome)
            return
        if not json:
            err.print(f"watching {directory} for camera {camera}; Ctrl-C stops")
        folder.watch(on_file=report)


@app.command("stream")
def stream(
    url: Annotated[str, typer.Argument(help="rtsp://..., http://... or a video file.")],
    camera: CameraOption,
    every: Annotated[
        float, typer.Option("--every", help="Take one frame every SECONDS.", min=0.01)
    ] = 1.0,
    violation: Annotated[
        str | None,
        typer.Option(help="Violation code the frames report (default: the camera's own)."),
    ] = None,
    max_frames: Annotated[
        int | None, typer.Option("--max-frames", help="Stop after this many frames.")
    ] = None,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Sample a video stream every SECONDS with OpenCV and ingest each sample as a frame.

    A live stream that drops is reopened (with a growing pause) until Ctrl-C; a file is read
    to its end. --json prints one JSON line per frame.
    """

    def report(sample: Sample) -> None:
        if json:
            print_json(sample.as_dict())
        elif sample.error:
            err.print(f"[red]frame at {sample.position_seconds:.1f} s[/red]: {sample.error}")
        else:
            out.print(f"frame at {sample.position_seconds:.1f} s stored as {sample.frame_id}")

    with runtime(data_dir) as rt:
        ctx = _context(rt)
        check_camera(ctx, camera)
        taken = sample_stream(
            ctx,
            url,
            camera_id=camera,
            every_seconds=every,
            violation=violation,
            max_frames=max_frames,
            on_sample=report,
        )
    if not json:
        err.print(f"{plural(taken, 'frame')} ingested")
