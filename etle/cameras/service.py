"""Camera registry: add, list, disable, rotate the credential. Every change is audited.

A camera authenticates with a bearer token shown once at creation (or rotation); only its
SHA-256 is stored, so a database leak does not let anyone push frames.
"""

from __future__ import annotations

import hashlib
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cameras.models import Camera, CameraStatus
from etle.clock import utcnow
from etle.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from etle.violations.catalogue import get_violation

TOKEN_PREFIX = "etlecam_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def is_camera_token(token: str) -> bool:
    """Camera tokens carry their own prefix, so no other credential (an officer's) is ever
    taken for a camera's, and a camera's is refused wherever an officer's is expected."""
    return token.startswith(TOKEN_PREFIX) and len(token) < 200


def describe(camera: Camera) -> dict[str, object]:
    """What a camera is and where it stands: nothing secret (no token, no token hash)."""
    return {
        "name": camera.name,
        "latitude": camera.latitude,
        "longitude": camera.longitude,
        "address": camera.address,
        "road": camera.road,
        "direction": camera.direction,
        "speed_limit_kmh": camera.speed_limit_kmh,
        "violation_codes": camera.violation_codes,
        "status": camera.status,
        "timezone": camera.timezone,
    }


def add_camera(
    session: Session,
    *,
    camera_id: str,
    name: str,
    violation_codes: list[str],
    actor: str,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str = "",
    road: str = "",
    direction: str = "",
    speed_limit_kmh: int | None = None,
    timezone: str = "Asia/Jakarta",
) -> tuple[Camera, str]:
    """Create a camera; returns it with its token (the only time the token is known)."""
    if (
        not camera_id
        or len(camera_id) > 64
        or not camera_id.replace("-", "").replace("_", "").isalnum()
    ):
        raise ValidationFailed("camera id must be letters, digits, '-' or '_' (at most 64)")
    if session.get(Camera, camera_id) is not None:
        raise Conflict(f"camera {camera_id} already exists")
    for code in violation_codes:
        get_violation(session, code)
    if latitude is not None and not -90 <= latitude <= 90:
        raise ValidationFailed("latitude must be between -90 and 90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise ValidationFailed("longitude must be between -180 and 180")
    if speed_limit_kmh is not None and not 0 < speed_limit_kmh <= 300:
        raise ValidationFailed("speed limit must be between 1 and 300 km/h")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {timezone!r}") from exc
    token = new_token()
    camera = Camera(
        id=camera_id,
        name=name,
        violation_codes=list(violation_codes),
        latitude=latitude,
        longitude=longitude,
        address=address,
        road=road,
        direction=direction,
        speed_limit_kmh=speed_limit_kmh,
        timezone=timezone,
        status=CameraStatus.ACTIVE,
        token_hash=hash_token(token),
    )
    session.add(camera)
    session.flush()
    record(
        session,
        actor=actor,
        action="camera.created",
        entity_type="camera",
        entity_id=camera.id,
        after=describe(camera),
    )
    return camera, token


def get_camera(session: Session, camera_id: str) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound(f"no camera {camera_id}")
    return camera


def list_cameras(session: Session, *, include_disabled: bool = True) -> list[Camera]:
    query = select(Camera).order_by(Camera.id)
    if not include_disabled:
        query = query.where(Camera.status == CameraStatus.ACTIVE)
    return list(session.scalars(query))


def authenticate(session: Session, token: str) -> Camera:
    if not is_camera_token(token):
        raise Unauthorized("not a camera token")
    camera = session.scalar(select(Camera).where(Camera.token_hash == hash_token(token)))
    if camera is None or camera.status != CameraStatus.ACTIVE:
        raise Unauthorized("unknown or disabled camera")
    return camera


def disable_camera(session: Session, camera_id: str, *, actor: str) -> Camera:
    camera = get_camera(session, camera_id)
    before = camera.status
    camera.status = CameraStatus.DISABLED
    session.flush()
    record(
        session,
        actor=actor,
        action="camera.disabled",
        entity_type="camera",
        entity_id=camera.id,
        before={"status": before},
        after={"status": camera.status},
    )
    return camera


def rotate_token(session: Session, camera_id: str, *, actor: str) -> tuple[Camera, str]:
    camera = get_camera(session, camera_id)
    token = new_token()
    camera.token_hash = hash_token(token)
    camera.token_rotated_at = utcnow()
    session.flush()
    record(
        session,
        actor=actor,
        action="camera.token_rotated",
        entity_type="camera",
        entity_id=camera.id,
    )
    return camera, token
