"""The evidence photo as the public sees it: every other vehicle's plate made unreadable.

The stored evidence never changes (invariant 1): the public copy is made on request from the
hash-checked file, reduced to a phone-friendly size, with each plate the reader found on the
frame other than the case's own pixelated and blurred (with a margin, so a box a little off
still covers the plate). A plate the reader never found cannot be blurred: the public copy is
no better at finding plates than the reader was (docs/portal.md).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence

from PIL import Image, ImageFilter
from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cases.models import Case
from etle.errors import EvidenceTampered, NotFound
from etle.evidence import BlobStore
from etle.frames.crop import plate_crop
from etle.frames.models import Frame, PlateRead

PUBLIC_WIDTH = 1280  # pixels: sharp on a phone, a fraction of a 4K frame's bytes
MARGIN = 0.2  # of the box's width and height, on each side
Box = Sequence[int]


def _cover(image: Image.Image, box: Box, scale: float) -> None:
    x1, y1, x2, y2 = (float(v) * scale for v in box[:4])
    mx, my = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right, bottom = min(image.width, int(x2 + mx) + 1), min(image.height, int(y2 + my) + 1)
    if right - left < 2 or bottom - top < 2:
        return
    region = image.crop((left, top, right, bottom))
    # Pixelate to blocks about a third of the plate's height, then blur the blocks' edges:
    # no character survives either step.
    block = max(2, (bottom - top) // 3)
    small = region.resize(
        (max(1, region.width // block), max(1, region.height // block)), Image.Resampling.BOX
    )
    covered = small.resize(region.size, Image.Resampling.NEAREST).filter(
        ImageFilter.GaussianBlur(radius=block / 2)
    )
    image.paste(covered, (left, top))


def public_photo(image: bytes, *, blur: Sequence[Box], width: int = PUBLIC_WIDTH) -> bytes:
    """JPEG of the frame at most `width` wide with the boxes (in the frame's pixels) covered."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as frame:
                original_width = frame.width
                frame.draft("RGB", (width, max(1, frame.height * width // frame.width)))
                picture = frame.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombWarning) as exc:
        raise EvidenceTampered(f"stored evidence cannot be decoded: {exc}") from exc
    if picture.width > width:
        picture = picture.resize(
            (width, max(1, round(picture.height * width / picture.width))),
            Image.Resampling.LANCZOS,
        )
    scale = picture.width / original_width
    for box in blur:
        if len(box) >= 4:
            _cover(picture, box, scale)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue()


def _evidence(session: Session, store: BlobStore, case: Case) -> tuple[Frame, bytes]:
    frame = session.get_one(Frame, case.evidence_frame_id)
    if frame.sha256 != case.evidence_sha256:
        raise EvidenceTampered(f"case {case.id}: the evidence frame no longer matches the case")
    return frame, store.get(case.evidence_sha256)  # the store re-hashes the file


def case_photo(session: Session, store: BlobStore, case: Case) -> bytes:
    """The case's evidence with every plate but the case's own covered."""
    frame, data = _evidence(session, store, case)
    reads = session.scalars(select(PlateRead).where(PlateRead.frame_id == frame.id)).all()
    own = [r.box for r in reads if r.id == case.plate_read_id or r.text == case.plate]
    # A second read of the case's own plate (another view, another text) is the same plate.
    others = [
        r.box for r in reads if r.box not in own and not any(_iou(r.box, b) > 0.5 for b in own)
    ]
    return public_photo(data, blur=others)


def _iou(a: Box, b: Box) -> float:
    if len(a) < 4 or len(b) < 4:
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def case_plate_crop(session: Session, store: BlobStore, case: Case) -> bytes:
    """The zoomed plate the case was opened on (PNG), from the hash-checked evidence."""
    if case.plate_read_id is None:
        raise NotFound("this notice has no plate picture")
    read = session.get_one(PlateRead, case.plate_read_id)
    if read.frame_id != case.evidence_frame_id:
        data = store.get(session.get_one(Frame, read.frame_id).sha256)
    else:
        data = _evidence(session, store, case)[1]
    return plate_crop(data, read.box)
