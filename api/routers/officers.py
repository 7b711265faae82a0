"""Administrators: the officer accounts (creating them and passwords stay on the CLI, where a
password never travels through a browser)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from api.security import Administrator
from etle.errors import NotFound
from etle.officers.models import Officer
from etle.officers.service import disable_officer, list_officers

router = APIRouter(prefix="/api/v1/officers", tags=["officers: accounts"], route_class=OneHopRoute)


class OfficerRow(BaseModel):
    username: str
    full_name: str
    role: str
    active: bool
    nik_recorded: bool
    created_at: datetime


def _row(o: Officer) -> OfficerRow:
    return OfficerRow(
        username=o.username,
        full_name=o.full_name,
        role=o.role,
        active=o.active,
        nik_recorded=o.nik is not None,
        created_at=o.created_at,
    )


@router.get("", summary="Every officer account", response_model=list[OfficerRow])
def officers(session: DbSession, _admin: Administrator) -> list[OfficerRow]:
    return [_row(o) for o in list_officers(session)]


@router.post(
    "/{username}/disable",
    summary="Disable an account: its sessions end and its cases return to the queue at once",
    response_model=OfficerRow,
    responses=error_responses({NotFound: "no such officer"}),
)
def disable(username: str, session: DbSession, admin: Administrator) -> OfficerRow:
    return _row(disable_officer(session, username, actor=admin.actor))
