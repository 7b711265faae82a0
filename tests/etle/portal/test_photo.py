"""The public photo: every other vehicle's plate unreadable, the case's own plate untouched."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageStat
from sqlalchemy.orm import Session

from api.settings import AppSettings
from etle.cases.models import Case
from etle.errors import EvidenceTampered
from etle.evidence import LocalBlobStore
from etle.notices.models import Notice
from etle.portal.photo import PUBLIC_WIDTH, case_photo, case_plate_crop, public_photo
from tests import factories


def _region(data: bytes, box: list[int], scale: float) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        x1, y1, x2, y2 = (round(v * scale) for v in box)
        return np.asarray(image.convert("L").crop((x1, y1, x2, y2)), dtype=float)


def test_other_plates_are_unreadable_and_the_cases_plate_is_kept(
    session: Session, settings: AppSettings, notice: Notice, store: LocalBlobStore
) -> None:
    frame, own_box, other_box = factories.street_frame()
    case = session.get_one(Case, notice.case_id)
    public = case_photo(session, store, case)
    with Image.open(io.BytesIO(public)) as image:
        assert image.format == "JPEG"
        assert image.width == PUBLIC_WIDTH
    scale = PUBLIC_WIDTH / 1920
    reference = Image.open(io.BytesIO(frame)).convert("RGB").resize((PUBLIC_WIDTH, 720))
    ref = io.BytesIO()
    reference.save(ref, format="PNG")
    # The other car's plate: the characters' contrast is gone (pixel spread a fraction of
    # the original's) and the pixels differ widely from the original.
    before, after = _region(ref.getvalue(), other_box, scale), _region(public, other_box, scale)
    assert after.std() < before.std() * 0.35
    assert np.abs(after - before).mean() > 25
    # The case's own plate: the same picture, up to JPEG noise.
    before, after = _region(ref.getvalue(), own_box, scale), _region(public, own_box, scale)
    assert np.abs(after - before).mean() < 6
    assert after.std() > before.std() * 0.8


def test_the_plate_crop_is_the_cases_plate_enlarged(
    session: Session, notice: Notice, store: LocalBlobStore
) -> None:
    crop = case_plate_crop(session, store, session.get_one(Case, notice.case_id))
    with Image.open(io.BytesIO(crop)) as image:
        assert image.format == "PNG"
        assert image.width == 640
        assert ImageStat.Stat(image.convert("L")).stddev[0] > 20  # characters, not a blur


def test_tampered_evidence_is_never_shown(
    session: Session, notice: Notice, store: LocalBlobStore
) -> None:
    case = session.get_one(Case, notice.case_id)
    path = store.path_for(case.evidence_sha256)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(EvidenceTampered):
        case_photo(session, store, case)


def test_a_large_frame_is_reduced_and_boxes_follow() -> None:
    big = Image.new("RGB", (4000, 3000), (90, 90, 90))
    for x in range(1000, 1400, 20):  # a striped "plate"
        big.paste((250, 250, 250), (x, 1000, x + 10, 1100))
    out = io.BytesIO()
    big.save(out, format="JPEG", quality=92)
    public = public_photo(out.getvalue(), blur=[[1000, 1000, 1400, 1100]])
    with Image.open(io.BytesIO(public)) as image:
        assert image.size == (PUBLIC_WIDTH, 960)
        region = np.asarray(image.convert("L").crop((326, 326, 454, 352)), dtype=float)
    assert region.std() < 15  # the stripes are gone
