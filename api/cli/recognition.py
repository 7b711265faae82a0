"""`etle recognize` and `etle eval`: plate recognition from the command line.

Neither touches the database: they load the models (shipped, or ETLE_MODELS_DIR) and read
files, so an operator can check a camera's frames or score a new model on labelled photos.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.common import JsonFlag, err, out, print_json, progress, settings
from camera_ingest.recognition.evaluation import (
    FRAME_SUFFIXES,
    Report,
    calibrate,
    evaluate,
    labelled_frames,
    most_probable_wrong,
)
from camera_ingest.recognition.loading import load_baseline, load_recognizer
from camera_ingest.recognition.pipeline import FrameRecognizer, FrameResult, Recognizer
from camera_ingest.recognition.views import VIEWS
from etle.errors import EtleError, ValidationFailed

FULL_SIZE = 1 << 30  # a working side no frame reaches at half size: never reduce

Views = Annotated[
    str | None,
    typer.Option(
        "--views",
        help="Detector views, comma-separated (plain, inverted, yellow, yellow-inverted); "
        "default: ETLE_DETECTOR_VIEWS or the detector's own.",
    ),
]
Tiles = Annotated[
    int | None,
    typer.Option(
        "--tiles", help="Also detect on n x n overlapping tiles (default: ETLE_DETECTOR_TILES)."
    ),
]


def _recognizer(views: str | None, tiles: int | None) -> Recognizer:
    overrides: dict[str, Any] = {}
    if views is not None:
        overrides["detector_views"] = views
    if tiles is not None:
        overrides["detector_tiles"] = tiles
    return load_recognizer(settings(**overrides))


def frame_paths(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise ValidationFailed(f"{path}: no such file or folder")
    return found


def frame_json(path: Path, result: FrameResult) -> dict[str, Any]:
    return {
        "frame": str(path),
        "width": result.width,
        "height": result.height,
        "ms": result.ms,
        "plates": [
            {
                "box": list(p.box),
                "text": p.text,
                "confidence": p.confidence,
                "decision": p.decision.value,
                "candidates": [{"text": c.text, "p": c.p} for c in p.candidates],
            }
            for p in result.plates
        ],
    }


def recognize(
    paths: Annotated[list[Path], typer.Argument(help="Frames (JPEG, PNG) or folders of frames.")],
    json: Annotated[
        bool, typer.Option("--json", help="One JSON object per frame, one per line.")
    ] = False,
    views: Views = None,
    tiles: Tiles = None,
) -> None:
    """Read the plates in frames: box (original-frame pixels), text, confidence, decision."""
    files = frame_paths(paths)
    recognizer = _recognizer(views, tiles)
    failures = 0
    for path in files:
        try:
            result = recognizer.recognize_bytes(path.read_bytes())
        except (EtleError, OSError) as exc:
            failures += 1
            message = exc.message if isinstance(exc, EtleError) else str(exc)
            if json:
                print_json({"frame": str(path), "error": message})
            else:
                line = f"[red]{escape(str(path))}:[/red] {escape(message)}"
                err.print(line, highlight=False, soft_wrap=True)
            continue
        if json:
            print_json(frame_json(path, result))
            continue
        out.print(f"{path}  {result.width}x{result.height}  {result.ms:.0f} ms", highlight=False)
        if not result.plates:
            out.print("  no plate found")
        for p in result.plates:
            out.print(
                f"  {p.text or '?':<10} {p.decision.value:<10} "
                f"p={p.confidence:.3f}  box={list(p.box)}",
                highlight=False,
            )
    if failures:
        raise typer.Exit(1)


def eval_command(
    folder: Annotated[Path, typer.Argument(help="Folder of frames, each with a .txt of labels.")],
    json: JsonFlag = False,
    calibrate_: Annotated[
        bool,
        typer.Option(
            "--calibrate", help="Also print accepted and wrong reads for a grid of thresholds."
        ),
    ] = False,
    views: Views = None,
    tiles: Tiles = None,
    full_size: Annotated[
        bool,
        typer.Option(
            "--full-size",
            help="Decode frames at full size instead of reduced (to measure what reduced "
            "decoding costs in accuracy).",
        ),
    ] = False,
    crop_views: Annotated[
        str | None,
        typer.Option(
            "--crop-views",
            help="Views each plate crop is read in, comma-separated (default: plain,inverted).",
        ),
    ] = None,
    margins: Annotated[
        str | None,
        typer.Option(
            "--margins",
            help="Crop margins per plate as x:y fractions, comma-separated "
            "(default: 0.05:0.05,0.25:0.15).",
        ),
    ] = None,
    baseline: Annotated[
        bool,
        typer.Option(
            "--baseline",
            help="Score the plainest recognizer instead (one detector pass, greedy OCR string, "
            "every read accepted), to compare with.",
        ),
    ] = False,
    true_boxes: Annotated[
        bool,
        typer.Option(
            "--true-boxes",
            help="Read the labelled plate boxes instead of detecting plates: the reader alone "
            "(crops, OCR model, decoder, decision), as if the camera had sent the boxes.",
        ),
    ] = False,
) -> None:
    """Score recognition on labelled frames: recall, exact reads, wrong accepted reads, speed.

    Labels: one line per plate, `class cx cy w h PLATE`, the box normalised to the frame.
    """
    frames = labelled_frames(folder)
    recognizer: FrameRecognizer = (
        load_baseline(settings()) if baseline else _recognizer(views, tiles)
    )
    if isinstance(recognizer, Recognizer):
        # A copy: the loaded recognizer is shared by the process (models load once).
        recognizer = copy.copy(recognizer)
        recognizer.context_for_all = calibrate_
        if full_size:
            recognizer.working_side = FULL_SIZE
        if crop_views:
            recognizer.crop_views = parse_views(crop_views)
        if margins:
            recognizer.margins = parse_margins(margins)
    with progress(quiet=json) as bar:
        task = bar.add_task("reading frames", total=len(frames))
        report = evaluate(
            recognizer, frames, on_frame=lambda _: bar.advance(task), true_boxes=true_boxes
        )
    summary = report.summary()
    rows = calibrate(report.outcomes) if calibrate_ else []
    if json:
        data: dict[str, Any] = {"model": recognizer.model_name, **summary}
        data["failed"] = [{"frame": f, "error": e} for f, e in report.failed]
        data["accepted_on_unlabelled_reads"] = [
            {"frame": f, "text": t} for f, t in report.unlabelled_accepted
        ]
        if calibrate_:
            data["calibration"] = [vars_of(r) for r in rows]
            data["most_probable_wrong_read"] = round(most_probable_wrong(report.outcomes), 4)
        print_json(data)
        return
    _print_report(recognizer.model_name, report, summary)
    if calibrate_:
        table = Table("accept when p >=", "accepted", "wrong accepted", title="calibration")
        for r in rows:
            table.add_row(f"{r.accept_p:.2f}", str(r.accepted), str(r.wrong_accepted))
        out.print(table)
        worst = most_probable_wrong(report.outcomes)
        out.print(f"most probable wrong read that passes the structural rules: p = {worst:.3f}")


def parse_views(text: str) -> tuple[str, ...]:
    views = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [v for v in views if v not in VIEWS]
    if unknown or not views:
        raise ValidationFailed(f"unknown views {unknown}; choose from {sorted(VIEWS)}")
    return views


def parse_margins(text: str) -> tuple[tuple[float, float], ...]:
    try:
        pairs = [part.split(":") for part in text.split(",") if part.strip()]
        margins = tuple((float(x), float(y)) for x, y in pairs)
    except ValueError as exc:
        raise ValidationFailed(f"margins must look like 0.05:0.05,0.25:0.15, not {text!r}") from exc
    if not margins or any(not (0 <= m <= 2) for pair in margins for m in pair):
        raise ValidationFailed("margins are fractions of the box between 0 and 2")
    return margins


def vars_of(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__slots__}


def _print_report(model: str, report: Report, summary: dict[str, float | int]) -> None:
    table = Table("measure", "value", title=f"recognition on {summary['frames']} frames ({model})")
    table.add_row("labelled plates", str(summary["labelled_plates"]))
    table.add_row("plate recall (IoU >= 0.5)", f"{summary['recall_iou50']:.1%}")
    table.add_row("exact-read rate", f"{summary['exact_read_rate']:.1%}")
    table.add_row("accepted", f"{summary['accepted']} ({summary['share_accepted']:.1%} of plates)")
    table.add_row("wrong accepted reads", str(summary["wrong_accepted"]))
    table.add_row("accepted reads on unlabelled boxes", str(summary["accepted_on_unlabelled"]))
    table.add_row(
        "ms per frame (median / mean)",
        f"{summary['ms_per_frame_median']} / {summary['ms_per_frame_mean']}",
    )
    if report.failed:
        table.add_row("frames that failed", str(len(report.failed)))
    out.print(table)
