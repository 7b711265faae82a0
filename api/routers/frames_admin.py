"""Supervisors: where every stored frame ended (invariant 8, nothing vanishes), the same
report as `etle frames account`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from api.security import StatsReader
from etle.clock import require_aware
from etle.errors import Forbidden, Unauthorized, ValidationFailed
from etle.frames.accounting import account_frames

router = APIRouter(prefix="/api/v1/admin/frames", tags=["admin: frames"], route_class=OneHopRoute)


class Tally(BaseModel):
    case: int
    sighting: int
    rejected: int
    queued: int
    retrying: int
    needs_plate: int
    unaccounted: int
    waiting: int
    total: int


class Unaccounted(BaseModel):
    frame_id: int
    camera_id: str
    status: str
    violation_code: str | None
    received_at: datetime


class FrameAccountOut(BaseModel):
    since: datetime | None
    until: datetime | None
    ok: bool
    totals: Tally
    cameras: dict[str, Tally]
    rejections: dict[str, int]
    unaccounted: list[Unaccounted]


@router.get(
    "/account",
    summary="Where every frame ended: case, sighting, rejected, or waiting; and any unaccounted",
    response_model=FrameAccountOut,
    responses=error_responses(
        {
            Unauthorized: "no valid officer token",
            Forbidden: "the role may not see the figures",
            ValidationFailed: "`since` without a time zone or out of range",
        }
    ),
)
def frames_account(
    session: DbSession,
    _officer: StatsReader,
    since: Annotated[
        datetime | None, Query(description="frames received from this time (with offset)")
    ] = None,
) -> Any:
    """Per camera and in total: frames in a case, sightings (no violation reported),
    rejections (the image cannot be read, with the reason), and those still waiting (queued,
    retrying after a failure that can heal, a case that needs a plate). `ok` is false, and
    `unaccounted` lists them, when a frame is in none of these."""
    try:
        start = require_aware(since, "since") if since is not None else None
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed(f"since: {exc}") from exc
    return account_frames(session, since=start).as_dict()
