"""Officer-confirmed plates as training data: how an operator improves the models on its own
cameras (docs/recognition.md).

Every case whose plate an officer confirmed (as read, corrected or keyed by hand, and in the
last two cases confirmed by a second officer) gives one labelled plate: its box on the frame
and its text. The export uses the layout of the training sets the shipped models were trained
on, so `python -m training.detector --extra DIR` and `python -m training.reader --extra DIR`
read it as they read those:

    DIR/scenes/images/<id>.jpg    the frame, re-encoded without its metadata (EXIF)
    DIR/scenes/labels/<id>.txt    one line per plate: `0 cx cy w h PLATE` (box normalised)
    DIR/ocr/<id>_<n>.png          the plate, cut with a small margin
    DIR/ocr/labels.csv            image,plate,source
    DIR/manifest.json             counts; what is in it and what is not

No personal data: no owner, no vehicle record, no camera, place or time; files are named by
the frame's evidence hash. The plate text is the label itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from etle.cases.models import Case, CaseStatus, ReviewAction, ReviewDecision
from etle.errors import EvidenceTampered, NotFound
from etle.evidence import BlobStore
from etle.frames.models import Frame, PlateRead

S = CaseStatus
# A plate counts once an officer confirmed it and nothing undid that since.
CONFIRMED = (
    S.CONFIRMED,
    S.NOTICE_SENT,
    S.OWNER_RESPONDED,
    S.PAYMENT_ISSUED,
    S.OVERDUE,
    S.REGISTRATION_BLOCKED,
    S.PAID,
    S.CLOSED,
)
CROP_MARGIN = 0.1
SOURCE = "officer"


@dataclass(frozen=True, slots=True)
class Labelled:
    frame_id: int
    sha256: str
    content_type: str
    width: int
    height: int
    box: list[int]
    plate: str
    how: str  # read (confirmed as read), correct, key


@dataclass
class ExportReport:
    frames: int = 0
    plates: int = 0
    skipped: int = 0  # evidence missing or altered: left out, never exported unchecked

    def as_dict(self) -> dict[str, int]:
        return {"frames": self.frames, "plates": self.plates, "skipped": self.skipped}


def confirmed_plates(session: Session) -> Iterator[Labelled]:
    """Each confirmed case's plate with its box, by frame."""
    confirmed = exists().where(
        ReviewDecision.case_id == Case.id, ReviewDecision.action == ReviewAction.CONFIRM.value
    )
    rows = session.execute(
        select(Case.id, Case.plate, PlateRead, Frame)
        .join(PlateRead, PlateRead.id == Case.plate_read_id)
        .join(Frame, Frame.id == PlateRead.frame_id)
        .where(Case.status.in_([s.value for s in CONFIRMED]), confirmed)
        .order_by(Frame.id, Case.id)
    )
    for case_id, plate, read, frame in rows:
        how = session.scalar(
            select(ReviewDecision.action)
            .where(
                ReviewDecision.case_id == case_id,
                ReviewDecision.action.in_([ReviewAction.CORRECT.value, ReviewAction.KEY.value]),
            )
            .order_by(ReviewDecision.id.desc())
            .limit(1)
        )
        yield Labelled(
            frame.id,
            frame.sha256,
            frame.content_type,
            frame.width,
            frame.height,
            list(read.box),
            plate,
            str(how or "read"),
        )


def export_training_data(
    session: Session,
    store: BlobStore,
    out: Path,
    *,
    advance: Callable[[], None] = lambda: None,
) -> ExportReport:
    images, labels, crops = out / "scenes" / "images", out / "scenes" / "labels", out / "ocr"
    for folder in (images, labels, crops):
        folder.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    by_frame: dict[int, list[Labelled]] = {}
    for item in confirmed_plates(session):
        by_frame.setdefault(item.frame_id, []).append(item)
    rows: list[tuple[str, str, str]] = []
    for items in by_frame.values():
        first = items[0]
        name = first.sha256[:24]
        try:
            image = _decoded(store.get(first.sha256))
        except (EvidenceTampered, NotFound):
            report.skipped += len(items)
            advance()
            continue
        image.save(images / f"{name}.jpg", format="JPEG", quality=95)  # no EXIF carried over
        lines = []
        for n, item in enumerate(items):
            x1, y1, x2, y2 = item.box
            cx, cy = (x1 + x2) / 2 / item.width, (y1 + y2) / 2 / item.height
            w, h = (x2 - x1) / item.width, (y2 - y1) / item.height
            lines.append(f"0 {cx:.6f} {cy:.6f} {w:.6f} {h:.6f} {item.plate}")
            crop_name = f"{name}_{n}.png"
            _crop(image, item.box).save(crops / crop_name, format="PNG")
            rows.append((crop_name, item.plate, f"{SOURCE}:{item.how}"))
        (labels / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        report.frames += 1
        report.plates += len(items)
        advance()
    with (crops / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "plate", "source"])
        writer.writerows(rows)
    manifest = {
        **report.as_dict(),
        "layout": "scenes/images + scenes/labels (YOLO: 0 cx cy w h PLATE); ocr/ + labels.csv",
        "contains": "officer-confirmed plates (as read, corrected or keyed) with their boxes",
        "excludes": "owners, vehicles, cameras, places, times, image metadata",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return report


def frames_to_export(session: Session) -> int:
    return len({item.frame_id for item in confirmed_plates(session)})


def _decoded(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert("RGB")
    except OSError as exc:
        raise EvidenceTampered(f"stored evidence cannot be decoded: {exc}") from exc


def _crop(image: Image.Image, box: list[int]) -> Image.Image:
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * CROP_MARGIN, (y2 - y1) * CROP_MARGIN
    return image.crop(
        (
            max(0, int(x1 - mx)),
            max(0, int(y1 - my)),
            min(image.width, int(x2 + mx)),
            min(image.height, int(y2 + my)),
        )
    )
