"""Camera operations: which cameras are unhealthy (silent, or with a clock that drifts)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import AppRuntime, DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from api.security import officer_auth
from camera_ingest.health import camera_health
from etle.errors import Forbidden, Unauthorized
from etle.officers.access import Permission

router = APIRouter(prefix="/api/v1/cameras", tags=["camera operations"], route_class=OneHopRoute)


class CameraHealthOut(BaseModel):
    camera_id: str
    name: str
    status: str
    healthy: bool
    last_frame_at: datetime | None
    frames_last_hour: int
    skewed_last_hour: int
    latest_skew_seconds: float | None
    reused_sequences_last_hour: int
    problems: list[str]


@router.get(
    "/health",
    summary="Unhealthy cameras (supervisors and administrators)",
    response_model=list[CameraHealthOut],
    dependencies=[Depends(officer_auth(Permission.MONITOR_CAMERAS))],
    responses=error_responses(
        {
            Unauthorized: "No valid officer token.",
            Forbidden: "This officer's role may not monitor cameras.",
        }
    ),
)
def cameras_health(
    session: DbSession,
    runtime: AppRuntime,
    all_cameras: Annotated[
        bool, Query(alias="all", description="List every camera, healthy ones too.")
    ] = False,
) -> list[CameraHealthOut]:
    """Cameras that are silent for too long, never sent a frame, or whose clock drifts (their
    frames are marked for review). `?all=true` lists healthy and disabled cameras too."""
    report = camera_health(session, runtime.settings)
    return [CameraHealthOut(**h.as_dict()) for h in report if all_cameras or not h.healthy]
