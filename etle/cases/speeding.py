"""A speeding notice a recipient can check: the speed measured and the limit it broke.

A notice for speeding that names neither cannot be checked by the person who gets it, nor
defended by the officer who confirmed it. So a speeding case is confirmed only when its evidence
frame carries the camera's measured speed, its camera has a speed limit, and the one is above
the other; the notice keeps both as they were at issue time (letter, email, message, portal).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cameras.models import Camera
from etle.cases.models import Case
from etle.errors import Conflict
from etle.frames.models import Frame

SPEEDING = "speeding"


@dataclass(frozen=True, slots=True)
class Speed:
    measured_kmh: float | None  # from the camera's radar, with the evidence frame
    limit_kmh: int | None  # the camera's posted limit


def speed_of(session: Session, case: Case) -> Speed | None:
    """The measured speed and the limit of a speeding case; None for other violations."""
    if case.violation_code != SPEEDING:
        return None
    measured = session.scalar(
        select(Frame.measured_speed_kmh).where(Frame.id == case.evidence_frame_id)
    )
    limit = session.scalar(select(Camera.speed_limit_kmh).where(Camera.id == case.camera_id))
    return Speed(measured, limit)


def speeding_refusal(session: Session, case: Case) -> str | None:
    """Why this speeding case cannot be confirmed, in one line; None when it can (or when it is
    not a speeding case)."""
    speed = speed_of(session, case)
    if speed is None:
        return None
    if speed.measured_kmh is None:
        return (
            f"speeding case {case.id} has no measured speed from the camera: "
            "reject it (no violation shown)"
        )
    if speed.limit_kmh is None:
        return (
            f"camera {case.camera_id} has no speed limit set: a speeding case cannot be "
            "confirmed until it has one"
        )
    if speed.measured_kmh <= speed.limit_kmh:
        return (
            f"the measured speed {speed.measured_kmh:g} km/h is not above the limit "
            f"{speed.limit_kmh} km/h: reject the case (no violation)"
        )
    return None


def check_speeding(session: Session, case: Case) -> None:
    """Refuse (409) to confirm a speeding case whose notice could not state speed and limit."""
    refusal = speeding_refusal(session, case)
    if refusal is not None:
        raise Conflict(refusal)
