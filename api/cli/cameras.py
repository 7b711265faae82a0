"""`etle cameras`: the camera registry, and which cameras need attention."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli.common import DataDir, JsonFlag, err, operator, out, plural, print_json, runtime
from camera_ingest.health import camera_health
from etle.cameras.models import Camera
from etle.cameras.service import (
    add_camera,
    describe,
    disable_camera,
    list_cameras,
    rotate_token,
)
from etle.clock import format_local
from etle.db import session_scope

app = typer.Typer(
    help="Camera registry: add, list, disable, rotate tokens; camera health.",
    no_args_is_help=True,
)


def _camera_dict(camera: Camera) -> dict[str, Any]:
    return {
        "id": camera.id,
        **describe(camera),
        "created_at": camera.created_at.isoformat(),
        "token_rotated_at": camera.token_rotated_at.isoformat(),
    }


def _show_token(camera_id: str, token: str, json: bool) -> None:
    if json:
        print_json({"id": camera_id, "token": token})
        return
    out.print(f"camera {camera_id}: token (shown once; only its hash is kept):")
    out.print(token, highlight=False, soft_wrap=True)
    err.print("Configure the camera to send it as `Authorization: Bearer <token>`.")


@app.command("add")
def add(
    camera_id: Annotated[str, typer.Option("--id", help="Camera id: letters, digits, - or _.")],
    name: Annotated[str, typer.Option(help="Name people see, e.g. the junction.")],
    violation: Annotated[
        list[str] | None,
        typer.Option(
            "--violation",
            help="Violation code the camera may report (repeat the option for several; none: "
            "a camera that only records sightings).",
        ),
    ] = None,
    latitude: Annotated[float | None, typer.Option(help="Latitude, -90..90.")] = None,
    longitude: Annotated[float | None, typer.Option(help="Longitude, -180..180.")] = None,
    address: Annotated[str, typer.Option(help="Address of the site.")] = "",
    road: Annotated[str, typer.Option(help="Road name.")] = "",
    direction: Annotated[str, typer.Option(help="Direction of traffic watched.")] = "",
    speed_limit: Annotated[
        int | None, typer.Option("--speed-limit", help="Speed limit in km/h.")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Zone its times are shown in.")] = "Asia/Jakarta",
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Register a camera and print its token, once (only the token's hash is stored)."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        camera, token = add_camera(
            session,
            camera_id=camera_id,
            name=name,
            violation_codes=violation or [],
            actor=operator(),
            latitude=latitude,
            longitude=longitude,
            address=address,
            road=road,
            direction=direction,
            speed_limit_kmh=speed_limit,
            timezone=timezone,
        )
        camera_id = camera.id
    _show_token(camera_id, token, json)


@app.command("list")
def list_(
    active_only: Annotated[bool, typer.Option("--active", help="Only active cameras.")] = False,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """List registered cameras (never their tokens)."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        cameras = [_camera_dict(c) for c in list_cameras(session, include_disabled=not active_only)]
    if json:
        print_json(cameras)
        return
    table = Table("id", "name", "status", "violations", "place")
    for c in cameras:
        place = ", ".join(p for p in (c["road"], c["address"]) if p)
        table.add_row(c["id"], c["name"], c["status"], " ".join(c["violation_codes"]), place)
    out.print(table if cameras else "no cameras registered")


@app.command("disable")
def disable(
    camera_id: Annotated[str, typer.Argument(help="Camera id.")],
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Disable a camera: its frames are refused (401) from now on. Audited."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        camera = disable_camera(session, camera_id, actor=operator())
        result = {"id": camera.id, "status": str(camera.status)}
    if json:
        print_json(result)
    else:
        out.print(f"camera {result['id']} is {result['status']}")


@app.command("rotate-token")
def rotate(
    camera_id: Annotated[str, typer.Argument(help="Camera id.")],
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """Give a camera a new token and print it once; the old token stops working at once."""
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        camera, token = rotate_token(session, camera_id, actor=operator())
        camera_id = camera.id
    _show_token(camera_id, token, json)


@app.command("health")
def health(
    all_cameras: Annotated[
        bool, typer.Option("--all", help="List every camera, healthy ones too.")
    ] = False,
    data_dir: DataDir = None,
    json: JsonFlag = False,
) -> None:
    """List unhealthy cameras: silent too long, never sent a frame, or a drifting clock.

    Exits with status 2 when any active camera is unhealthy, for monitoring scripts.
    """
    with runtime(data_dir) as rt, session_scope(rt.sessions) as session:
        report = camera_health(session, rt.settings)
        zone = rt.settings.timezone
    shown = [h for h in report if all_cameras or not h.healthy]
    if json:
        print_json([h.as_dict() for h in shown])
    elif not shown:
        out.print(f"all {plural(len(report), 'camera')} healthy")
    else:
        table = Table("id", "status", "last frame", "frames/h", "problems")
        for h in shown:
            last = format_local(h.last_frame_at, zone) if h.last_frame_at else "never"
            table.add_row(
                h.camera_id, h.status, last, str(h.frames_last_hour), "; ".join(h.problems) or "ok"
            )
        out.print(table)
    if any(not h.healthy for h in report):
        raise typer.Exit(2)
