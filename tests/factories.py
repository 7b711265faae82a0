"""Factory functions for test data: each returns a flushed row with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cameras.service import add_camera
from etle.cases.models import Case, CaseStatus
from etle.cases.transitions import transition
from etle.evidence import sha256_hex
from etle.frames.models import Frame, FrameStatus, PlateRead, ReadDecision
from etle.jurisdictions.models import Jurisdiction
from etle.notices.service import issue_notice
from etle.officers.config import OfficerSettings
from etle.officers.login import LoginResult, begin_login, check_password, finish_login
from etle.officers.models import Officer, Role
from etle.registry.models import Owner, Ownership, Vehicle

_counter = iter(range(1, 10**9))


def camera(session: Session, **overrides: Any) -> Camera:
    values: dict[str, Any] = {
        "camera_id": f"CAM-T{next(_counter)}",
        "name": "Test camera",
        "violation_codes": ["red_light", "speeding"],
        "actor": "test",
        "road": "Jl. Test",
    }
    values.update(overrides)
    cam, _token = add_camera(session, **values)
    return cam


def owner(session: Session, **overrides: Any) -> Owner:
    values: dict[str, Any] = {
        "name": "Budi Santoso",
        "address": "Jl. Kebon Sirih 12, Jakarta",
        "postcode": "10340",
        "email": "budi@example.id",
        "phone": "+628121111000",
    }
    values.update(overrides)
    row = Owner(**values)
    session.add(row)
    session.flush()
    return row


def vehicle(session: Session, plate: str = "B1234ABC", **overrides: Any) -> Vehicle:
    holder = overrides.pop("owner", None) or owner(session)
    values: dict[str, Any] = {
        "plate": plate,
        "vehicle_class": "passenger_car",
        "brand": "Toyota",
        "colour": "merah",
        "owner_id": holder.id,
    }
    values.update(overrides)
    row = Vehicle(**values)
    session.add(row)
    session.flush()
    session.add(Ownership(vehicle_id=row.id, owner_id=holder.id))
    session.flush()
    return row


def frame(session: Session, cam: Camera, **overrides: Any) -> Frame:
    n = next(_counter)
    values: dict[str, Any] = {
        "camera_id": cam.id,
        "sha256": sha256_hex(f"frame{n}".encode()),
        "content_type": "image/jpeg",
        "size_bytes": 1000,
        "width": 1920,
        "height": 1080,
        "captured_at": datetime(2026, 11, 20, 0, 15, tzinfo=UTC),
        "violation_code": "red_light",
        "status": FrameStatus.QUEUED,
    }
    values.update(overrides)
    row = Frame(**values)
    session.add(row)
    session.flush()
    return row


def plate_read(
    session: Session, source: Frame, text: str = "B1234ABC", **overrides: Any
) -> PlateRead:
    values: dict[str, Any] = {
        "frame_id": source.id,
        "index": 0,
        "box": [100, 100, 300, 160],
        "text": text,
        "confidence": 0.99,
        "decision": ReadDecision.ACCEPT,
        "candidates": [{"text": text, "p": 0.99}],
        "model": "test",
    }
    values.update(overrides)
    row = PlateRead(**values)
    session.add(row)
    session.flush()
    return row


def case(session: Session, **overrides: Any) -> Case:
    cam = overrides.pop("camera", None) or camera(session)
    src = overrides.pop("frame", None) or frame(session, cam)
    values: dict[str, Any] = {
        "status": CaseStatus.PENDING_REVIEW,
        "plate": "B1234ABC",
        "camera_id": cam.id,
        "violation_code": "red_light",
        "first_captured_at": src.captured_at,
        "last_captured_at": src.captured_at,
        "evidence_frame_id": src.id,
        "evidence_sha256": src.sha256,
        "flags": [],
        "match_candidates": [],
    }
    values.update(overrides)
    row = Case(**values)
    session.add(row)
    session.flush()
    return row


def plate_less_case(session: Session, **frame_overrides: Any) -> Case:
    """A case the machine could not read: waiting in needs_plate, opened as the recognition job
    opens one, with a low-score detector box to offer the officer."""
    from etle.cases.manual_read import open_without_plate

    cam = frame_overrides.pop("camera", None) or camera(session)
    src = frame_overrides.pop("frame", None) or frame(session, cam, **frame_overrides)
    return open_without_plate(
        session,
        frame=src,
        violation_code=src.violation_code or "red_light",
        reads=[],
        weak_boxes=[((100, 100, 300, 160), 0.08)],
        extra_flags=[],
        actor="test",
    )


def officer(
    session: Session, username: str | None = None, role: Role = Role.REVIEWER, **overrides: Any
) -> Officer:
    row = Officer(
        username=username or f"officer{next(_counter)}",
        role=role,
        full_name="Test Officer",
        **overrides,
    )
    session.add(row)
    session.flush()
    return row


SAMPLE_FRAME = "sample_frames/frame01.jpg"


def confirmed_notice(
    session: Session,
    store: Any,
    settings: Any,
    *,
    speeding: tuple[float, int] | None = None,
    **owner_overrides: Any,
) -> Any:
    """A confirmed case with its notice and deliveries; the evidence is a real sample frame put
    in `store` (an evidence BlobStore). Owner fields (email, phone, address, language) may be
    overridden, e.g. `email="bounce@example.id"` or `address=""`. `speeding=(measured, limit)`
    makes it a speeding case: the frame's measured speed and the camera's limit in km/h."""
    from pathlib import Path

    from etle.cases.review import confirm

    n = next(_counter)
    # Bytes after the JPEG's end marker are ignored by decoders: a distinct evidence file (frames
    # are unique by hash) showing the same picture.
    data = (Path(__file__).resolve().parent.parent / SAMPLE_FRAME).read_bytes() + f"{n}".encode()
    digest = store.put(data)
    plate = f"B{1000 + n % 8000}ABC"
    holder = owner(session, **owner_overrides)
    vehicle(session, plate=plate, owner=holder)
    violation = "speeding" if speeding else "red_light"
    cam = camera(
        session, road="Jl. M.H. Thamrin", speed_limit_kmh=speeding[1] if speeding else None
    )
    # Read already (its plate read is below): no recognition job is due for it.
    src = frame(
        session,
        cam,
        sha256=digest,
        size_bytes=len(data),
        status=FrameStatus.READ,
        violation_code=violation,
        measured_speed_kmh=speeding[0] if speeding else None,
    )
    read = plate_read(session, src, text=plate, box=[795, 692, 1125, 805])
    row = case(
        session,
        camera=cam,
        frame=src,
        plate=plate,
        owner_id=holder.id,
        plate_read_id=read.id,
        evidence_sha256=digest,
        violation_code=violation,
    )
    reviewer = officer(session)
    return confirm(session, case=row, officer=reviewer, settings=settings)


def format_plate_of(session: Session, notice: Any) -> str:
    from etle.plates import format_plate

    return format_plate(session.get_one(Case, notice.case_id).plate)


def long_date_id(day: Any) -> str:
    from notices.wording import long_date

    return long_date(day, "id")


def unique_plate() -> str:
    """A valid, not yet used passenger-car plate (B 1000 AAA ... B 9999 ZZZ)."""
    n = next(_counter)
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    suffix = letters[(n // 9000) % 23] + letters[(n // 207000) % 23] + "T"
    return f"B{n % 9000 + 1000}{suffix}"


def registered_case(
    session: Session,
    plate: str | None = None,
    *,
    owner_nik: str | None = None,
    captured_at: datetime | None = None,
    **overrides: Any,
) -> Case:
    """A case waiting for review whose plate is registered, with the read it was opened on."""
    plate = plate or unique_plate()
    car = overrides.pop("vehicle", None)
    holder = overrides.pop("owner", None)
    if car is None:
        holder = holder or owner(session, nik=owner_nik)
        car = vehicle(session, plate, owner=holder)
    cam = overrides.pop("camera", None) or camera(session)
    when = captured_at or datetime(2026, 11, 20, 0, 15, tzinfo=UTC)
    src = overrides.pop("frame", None) or frame(session, cam, captured_at=when)
    read = plate_read(session, src, plate, slot_confidence=[0.99] * len(plate))
    values: dict[str, Any] = {
        "camera": cam,
        "frame": src,
        "plate": plate,
        "vehicle_id": car.id,
        "owner_id": car.owner_id,
        "plate_read_id": read.id,
        "first_captured_at": when,
        "last_captured_at": when,
    }
    values.update(overrides)
    return case(session, **values)


def officer_with_password(
    session: Session, password: str, username: str | None = None, role: Role = Role.REVIEWER
) -> Officer:
    from etle.officers.service import add_officer

    return add_officer(
        session,
        username=username or f"officer{next(_counter)}",
        role=role,
        password=password,
        actor="test",
    )


def stored_frame(session: Session, store: Any, cam: Camera, data: bytes, **overrides: Any) -> Frame:
    """A frame whose evidence really is in `store` (a BlobStore), with its true size."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    values: dict[str, Any] = {"sha256": store.put(data), "width": width, "height": height}
    values.update(overrides)
    return frame(session, cam, **values)


def jurisdiction(session: Session, **overrides: Any) -> Jurisdiction:
    values: dict[str, Any] = {
        "code": f"POLDA-T{next(_counter)}",
        "name": "Polda Test",
        "respond_days": 10,
        "pay_days": 5,
    }
    values.update(overrides)
    row = Jurisdiction(**values)
    session.add(row)
    session.flush()
    return row


def noticed_case(session: Session, **overrides: Any) -> Case:
    """A case with a registered vehicle, confirmed and sent: status notice_sent, one notice."""
    car = overrides.pop("vehicle", None) or vehicle(session, overrides.pop("plate", "B1234ABC"))
    row = case(
        session,
        status=CaseStatus.CONFIRMED,
        plate=car.plate,
        vehicle_id=car.id,
        owner_id=car.owner_id,
        **overrides,
    )
    issue_notice(session, row, respond_days=8, zone="Asia/Jakarta", actor="test")
    transition(session, row, CaseStatus.NOTICE_SENT, actor="test")
    return row


def set_status(session: Session, cases: Any, status: Any) -> None:
    """Put cases in a status directly, as a fixture would. Test setup only: the application
    changes a status only through `transition()` (a flush guard refuses anything else), so this
    writes with an UPDATE statement that bypasses the ORM's unit of work."""
    from sqlalchemy import update

    ids = [c.id for c in (cases if isinstance(cases, list | tuple) else [cases])]
    if ids:
        session.execute(
            update(Case)
            .where(Case.id.in_(ids))
            .values(status=status)
            .execution_options(synchronize_session="fetch")
        )


def jpeg(seed: int = 0, width: int = 640, height: int = 480, quality: int = 85) -> bytes:
    """A JPEG of a noisy gradient: each seed gives different bytes (and so a different frame)."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, width, dtype=np.float32)[None, :, None]
    pixels = np.clip(ramp + rng.normal(0, 25, (height, width, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(seed: int = 0, width: int = 320, height: int = 240) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


def sample_variant(i: int) -> bytes:
    """Sample frame number i % 8, re-encoded with its own noise and JPEG quality: a realistic
    1080p road scene whose bytes (and SHA-256) differ for every i, with the same plate on it."""
    import io
    from pathlib import Path

    import numpy as np
    from PIL import Image

    source = Path(__file__).resolve().parent.parent / "sample_frames" / f"frame0{i % 8 + 1}.jpg"
    rng = np.random.default_rng(i)
    pixels = np.asarray(Image.open(source).convert("RGB"), dtype=np.int16)
    pixels = np.clip(pixels + rng.integers(-2, 3, pixels.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=80 + i % 15)
    return out.getvalue()


def street_frame() -> tuple[bytes, list[int], list[int]]:
    """A roadside frame with two cars: sample frame 1's red car (plate B 1234 ABC) and, smaller
    in the next lane, sample frame 2's grey car (D 1567 XY). Returns the JPEG, the red car's
    plate box and the grey car's plate box (the plate the public photo must blur)."""
    import io
    from pathlib import Path

    from PIL import Image

    samples = Path(__file__).resolve().parent.parent / "sample_frames"
    scene = Image.open(samples / "frame01.jpg").convert("RGB")
    other = Image.open(samples / "frame02.jpg").convert("RGB")
    left, top, scale, at = 300, 320, 0.42, (30, 568)
    car = other.crop((left, top, 1340, 960))
    scene.paste(car.resize((round(car.width * scale), round(car.height * scale))), at)
    x1, y1, x2, y2 = 655, 692, 985, 805  # frame 2's plate
    other_box = [
        round((x1 - left) * scale) + at[0],
        round((y1 - top) * scale) + at[1],
        round((x2 - left) * scale) + at[0],
        round((y2 - top) * scale) + at[1],
    ]
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=90)
    return out.getvalue(), [795, 692, 1125, 805], other_box


def sent_notice(
    session: Session,
    store: Any,
    settings: Any,
    *,
    plate: str | None = None,
    vin: str | None = "MHKA1BA1JFK012345",
    speeding: tuple[float, int] | None = None,
    **owner_overrides: Any,
) -> Any:
    """A notice as the public portal meets it: confirmed by an officer and sent (case status
    notice_sent). The evidence is `street_frame()` (stored in `store`), with the reader's two
    plate reads (the case's car and another car); the vehicle has a VIN. Returns the Notice."""
    from etle.cases.review import confirm

    n = next(_counter)
    data, own_box, other_box = street_frame()
    data += f"{n}".encode()  # a distinct evidence file showing the same picture
    digest = store.put(data)
    plate = plate or unique_plate()
    holder = owner(session, **owner_overrides)
    vehicle(session, plate=plate, owner=holder, vin=vin, model="Avanza")
    cam = camera(
        session,
        name="Simpang Sarinah",
        road="Jl. M.H. Thamrin",
        address="Jakarta Pusat",
        speed_limit_kmh=speeding[1] if speeding else None,
    )
    violation = "speeding" if speeding else "red_light"
    src = frame(
        session,
        cam,
        sha256=digest,
        size_bytes=len(data),
        violation_code=violation,
        measured_speed_kmh=speeding[0] if speeding else None,
    )
    read = plate_read(session, src, text=plate, box=own_box)
    plate_read(session, src, text="D1567XY", box=other_box, index=1)
    row = case(
        session,
        camera=cam,
        frame=src,
        violation_code=violation,
        plate=plate,
        vehicle_id=session.query(Vehicle.id).filter(Vehicle.plate == plate).scalar(),
        owner_id=holder.id,
        plate_read_id=read.id,
        evidence_sha256=digest,
    )
    notice = confirm(session, case=row, officer=officer(session), settings=settings)
    transition(session, row, CaseStatus.NOTICE_SENT, actor="system:dispatcher")
    return notice


def attempt_login(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    settings: OfficerSettings,
    now: datetime | None = None,
) -> LoginResult:
    """`etle.officers.login.sign_in`'s steps in one session (the test's, rolled back), at a
    moment the test chooses."""
    pending = begin_login(session, username=username, address=address, settings=settings, now=now)
    if pending.refusal is not None:
        return LoginResult(None, pending.refusal)
    return finish_login(session, pending, password=password, ok=check_password(pending, password))
