"""Suspected cloned plates: one plate seen by two cameras too far apart for the time between.

For a confident read at a camera with known coordinates, other confident reads of the same plate
(frames with a violation and sightings without one) at other cameras within a day are compared:
the great-circle (haversine) distance between the cameras over the time between the frames is
the speed the vehicle would have needed. Above `ETLE_CLONE_MAX_SPEED_KMH` two vehicles carry the
plate, and every open case involving either read is flagged `suspected_clone` with both
sightings, for an officer to look at. Camera clocks may differ a little, so a minute is added to
the gap before dividing; cameras a few hundred metres apart never trip it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.flags import add_flags
from etle.cases.models import Case, CaseFlag, CaseFrame
from etle.cases.transitions import TERMINAL
from etle.frames.models import Frame, PlateRead, ReadDecision

EARTH_RADIUS_KM = 6371.0088
CLOCK_TOLERANCE = timedelta(seconds=60)
WINDOW = timedelta(hours=24)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def needed_speed_kmh(distance_km: float, gap: timedelta) -> float:
    hours = (abs(gap) + CLOCK_TOLERANCE).total_seconds() / 3600
    return distance_km / hours


@dataclass(frozen=True, slots=True)
class Sighting:
    plate_read_id: int
    frame_id: int
    camera_id: str
    captured_at: datetime
    distance_km: float
    speed_kmh: float


def impossible_sightings(
    session: Session,
    *,
    plate: str,
    camera: Camera,
    captured_at: datetime,
    frame_id: int,
    max_speed_kmh: float,
) -> list[Sighting]:
    """Confident reads of `plate` elsewhere that no single vehicle could have made as well."""
    if camera.latitude is None or camera.longitude is None:
        return []
    here_lat, here_lon = camera.latitude, camera.longitude
    rows = session.execute(
        select(
            PlateRead.id,
            Frame.id,
            Frame.captured_at,
            Camera.id,
            Camera.latitude,
            Camera.longitude,
        )
        .join(Frame, Frame.id == PlateRead.frame_id)
        .join(Camera, Camera.id == Frame.camera_id)
        .where(
            PlateRead.text == plate,
            PlateRead.decision == ReadDecision.ACCEPT,
            Frame.id != frame_id,
            Frame.camera_id != camera.id,
            Frame.captured_at >= captured_at - WINDOW,
            Frame.captured_at <= captured_at + WINDOW,
            Camera.latitude.is_not(None),
            Camera.longitude.is_not(None),
        )
    )
    found = []
    for read_id, other_frame, other_at, other_camera, lat, lon in rows:
        if lat is None or lon is None:  # excluded by the query; narrows the type
            continue
        distance = haversine_km(here_lat, here_lon, lat, lon)
        speed = needed_speed_kmh(distance, other_at - captured_at)
        if speed > max_speed_kmh:
            found.append(Sighting(read_id, other_frame, other_camera, other_at, distance, speed))
    return sorted(found, key=lambda s: -s.speed_kmh)


def flag_clones(
    session: Session,
    *,
    frame: Frame,
    camera: Camera,
    read: PlateRead,
    max_speed_kmh: float,
    actor: str,
) -> list[int]:
    """Flag the open cases of this read and of the reads it conflicts with; returns their ids."""
    if read.decision != ReadDecision.ACCEPT:
        return []  # a doubtful read accuses no one
    sightings = impossible_sightings(
        session,
        plate=read.text,
        camera=camera,
        captured_at=frame.captured_at,
        frame_id=frame.id,
        max_speed_kmh=max_speed_kmh,
    )
    if not sightings:
        return []
    by_read = {s.plate_read_id: s for s in sightings}
    cases = session.execute(
        select(Case, CaseFrame.plate_read_id)
        .join(CaseFrame, CaseFrame.case_id == Case.id)
        .where(
            CaseFrame.plate_read_id.in_([read.id, *by_read]),
            Case.status.not_in([s.value for s in TERMINAL]),
        )
        .order_by(Case.id)
    ).all()
    flagged: list[int] = []
    for case, read_id in cases:
        if read_id is None:  # never: the query asked for these reads (a frame without a read)
            continue
        pairs = sightings if read_id == read.id else [by_read[read_id]]
        for sighting in pairs:
            detail = {
                "plate": read.text,
                "frames": sorted([frame.id, sighting.frame_id]),
                "cameras": sorted([camera.id, sighting.camera_id]),
                "distance_km": round(sighting.distance_km, 1),
                "minutes_apart": round(
                    abs((sighting.captured_at - frame.captured_at).total_seconds()) / 60, 1
                ),
                "speed_needed_kmh": round(sighting.speed_kmh),
            }
            if (
                add_flags(
                    session,
                    case,
                    [],
                    actor=actor,
                    details={CaseFlag.SUSPECTED_CLONE: detail},
                )
                and case.id not in flagged
            ):
                flagged.append(case.id)
    return flagged
