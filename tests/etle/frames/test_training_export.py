"""`etle training export`: the plates officers confirmed, corrected or keyed load back with
exactly the boxes and texts they decided, in the training sets' layout, with nothing personal."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy.orm import Session

from etle.cases.config import ReviewSettings
from etle.cases.models import Case, RejectReason, ReviewAction
from etle.cases.review import Decision, decide
from etle.evidence import LocalBlobStore
from etle.frames.models import PlateRead
from etle.frames.training_export import export_training_data
from etle.officers.models import Officer
from tests import factories

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
SETTINGS = ReviewSettings()


def _decide(session: Session, officer: Officer, case: Case, decision: Decision) -> None:
    # As a claim of this very case would leave it (the queue's order is not under test here).
    case.lease_officer_id, case.claimed_at = officer.id, NOW
    case.lease_expires_at = NOW + timedelta(minutes=10)
    decide(session, case_id=case.id, officer=officer, decision=decision, settings=SETTINGS, now=NOW)


def _jpeg_with_exif(seed: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Camera maker with a secret"  # Make
    out = io.BytesIO()
    with Image.open(io.BytesIO(factories.jpeg(seed, width=800, height=600))) as image:
        image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_exported_labels_are_what_officers_decided(session: Session, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "evidence")
    cam = factories.camera(session)
    reviewer, second = factories.officer(session), factories.officer(session)

    def case_on_stored_frame(seed: int, plate: str | None) -> Case:
        src = factories.stored_frame(session, store, cam, _jpeg_with_exif(seed))
        if plate is None:
            return factories.plate_less_case(session, camera=cam, frame=src)
        return factories.registered_case(session, plate, camera=cam, frame=src)

    as_read = case_on_stored_frame(1, factories.unique_plate())
    corrected = case_on_stored_frame(2, factories.unique_plate())
    keyed = case_on_stored_frame(3, None)
    rejected = case_on_stored_frame(4, factories.unique_plate())
    waiting = case_on_stored_frame(5, None)
    new_plate, keyed_plate = factories.unique_plate(), factories.unique_plate()
    factories.vehicle(session, new_plate)
    factories.vehicle(session, keyed_plate)

    _decide(session, reviewer, as_read, Decision(ReviewAction.CONFIRM))
    _decide(session, reviewer, corrected, Decision(ReviewAction.CORRECT, plate=new_plate))
    _decide(session, second, corrected, Decision(ReviewAction.CONFIRM))
    box = [200, 300, 420, 360]
    _decide(session, reviewer, keyed, Decision(ReviewAction.KEY, plate=keyed_plate, box=box))
    _decide(session, second, keyed, Decision(ReviewAction.CONFIRM))
    _decide(
        session,
        reviewer,
        rejected,
        Decision(ReviewAction.REJECT, reason=RejectReason.OTHER, text="x"),
    )
    assert waiting.status == "needs_plate"

    report = export_training_data(session, store, tmp_path / "out")
    assert report.as_dict() == {"frames": 3, "plates": 3, "skipped": 0}

    expected = {}
    for case in (as_read, corrected, keyed):
        read = session.get_one(PlateRead, case.plate_read_id)
        expected[case.evidence_sha256[:24]] = (case.plate, read.box)
    labels = {}
    for path in sorted((tmp_path / "out" / "scenes" / "labels").glob("*.txt")):
        klass, cx, cy, w, h, plate = path.read_text().split()
        with Image.open(tmp_path / "out" / "scenes" / "images" / f"{path.stem}.jpg") as image:
            assert not image.getexif()  # no metadata carried over
            width, height = image.size
        x1 = round((float(cx) - float(w) / 2) * width)
        y1 = round((float(cy) - float(h) / 2) * height)
        x2 = round((float(cx) + float(w) / 2) * width)
        y2 = round((float(cy) + float(h) / 2) * height)
        assert klass == "0"
        labels[path.stem] = (plate, [x1, y1, x2, y2])
    assert labels == expected
    assert expected[keyed.evidence_sha256[:24]] == (keyed_plate, box)

    with (tmp_path / "out" / "ocr" / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["plate"], r["source"]) for r in rows) == sorted(
        [
            (as_read.plate, "officer:read"),
            (new_plate, "officer:correct"),
            (keyed_plate, "officer:key"),
        ]
    )
    for row in rows:
        with Image.open(tmp_path / "out" / "ocr" / row["image"]) as crop:
            assert crop.width > crop.height > 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["plates"] == 3
    exported = " ".join(p.name for p in (tmp_path / "out").rglob("*"))
    assert cam.id not in exported
