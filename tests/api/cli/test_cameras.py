"""`etle cameras`: what an operator types, and what a camera then experiences."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli.main import app
from api.runtime import build_runtime
from api.settings import load_app_settings
from etle.audit.chain import verify
from etle.audit.models import AuditEvent
from etle.db import session_scope
from tests.factories import jpeg


@pytest.fixture
def etle(fresh_url: str, tmp_path: Path) -> Any:
    runner = CliRunner()
    env = {"ETLE_DATABASE_URL": fresh_url, "ETLE_DATA_DIR": str(tmp_path)}

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    run.env = env  # type: ignore[attr-defined]
    return run


def _push(env: dict[str, str], token: str, seed: int) -> int:
    rt = build_runtime(
        load_app_settings(data_dir=env["ETLE_DATA_DIR"], database_url=env["ETLE_DATABASE_URL"])
    )
    with TestClient(create_app(rt)) as client:
        answer = client.post(
            "/api/v1/frames",
            headers={"Authorization": f"Bearer {token}"},
            files={"image": ("f.jpg", jpeg(seed), "image/jpeg")},
            data={"metadata": json.dumps({"captured_at": datetime.now(UTC).isoformat()})},
        )
    rt.close()
    return answer.status_code


def _add(etle: Any, camera_id: str) -> str:
    added = etle(
        "cameras", "add", "--id", camera_id, "--name", "x", "--violation", "red_light", "--json"
    )
    token: str = json.loads(added.stdout)["token"]
    return token


def test_add_prints_the_token_once_and_stores_only_its_hash(etle: Any) -> None:
    added = json.loads(
        etle(
            "cameras", "add", "--id", "CAM-1", "--name", "Simpang Sarinah",
            "--violation", "red_light", "--violation", "stop_line",
            "--latitude", "-6.18", "--longitude", "106.82", "--road", "Jl. Thamrin",
            "--json",
        ).stdout
    )  # fmt: skip
    assert added["id"] == "CAM-1"
    assert added["token"].startswith("etlecam_")
    listed = json.loads(etle("cameras", "list", "--json").stdout)
    assert [c["id"] for c in listed] == ["CAM-1"]
    assert listed[0]["violation_codes"] == ["red_light", "stop_line"]
    assert listed[0]["status"] == "active"
    assert added["token"] not in etle("cameras", "list", "--json").stdout
    assert added["token"] not in etle("cameras", "list").stdout
    assert _push(etle.env, added["token"], 1) == 202


def test_token_shown_to_people_too(etle: Any) -> None:
    shown = etle("cameras", "add", "--id", "CAM-2", "--name", "B", "--violation", "speeding")
    assert "etlecam_" in shown.stdout
    assert "shown once" in shown.stdout


def test_disable_then_frames_are_refused(etle: Any) -> None:
    token = _add(etle, "CAM-3")
    assert json.loads(etle("cameras", "disable", "CAM-3", "--json").stdout) == {
        "id": "CAM-3",
        "status": "disabled",
    }
    assert _push(etle.env, token, 2) == 401
    assert json.loads(etle("cameras", "list", "--active", "--json").stdout) == []


def test_rotate_token_retires_the_old_one(etle: Any) -> None:
    old = _add(etle, "CAM-4")
    new = json.loads(etle("cameras", "rotate-token", "CAM-4", "--json").stdout)["token"]
    assert new != old
    assert new.startswith("etlecam_")
    assert _push(etle.env, old, 3) == 401
    assert _push(etle.env, new, 3) == 202


def test_every_registry_change_is_audited(etle: Any) -> None:
    etle("cameras", "add", "--id", "CAM-5", "--name", "E", "--violation", "red_light")
    etle("cameras", "rotate-token", "CAM-5")
    etle("cameras", "disable", "CAM-5")
    rt = build_runtime(
        load_app_settings(
            data_dir=etle.env["ETLE_DATA_DIR"], database_url=etle.env["ETLE_DATABASE_URL"]
        )
    )
    with session_scope(rt.sessions) as session:
        events = session.query(AuditEvent).order_by(AuditEvent.seq).all()
        actions = [e.action for e in events if e.entity_type == "camera"]
        assert actions == ["camera.created", "camera.token_rotated", "camera.disabled"]
        assert all(e.actor.startswith("operator:") for e in events if e.entity_type == "camera")
        assert verify(session).ok
    rt.close()


def test_bad_input_is_refused(etle: Any) -> None:
    etle("cameras", "add", "--id", "CAM-6", "--name", "F", "--violation", "red_light")
    duplicate = etle(
        "cameras", "add", "--id", "CAM-6", "--name", "F", "--violation", "red_light", code=1
    )
    assert "already exists" in str(duplicate.exception)
    unknown = etle("cameras", "add", "--id", "CAM-7", "--name", "G", "--violation", "nope", code=1)
    assert "unknown violation" in str(unknown.exception)
    assert "no camera" in str(etle("cameras", "disable", "CAM-404", code=1).exception)
    zone = etle(
        "cameras", "add", "--id", "CAM-8", "--name", "H", "--timezone", "Mars/Olympus", code=1
    )
    assert "unknown time zone" in str(zone.exception)
    bad_id = etle("cameras", "add", "--id", "CAM 9!", "--name", "I", code=1)
    assert "letters, digits" in str(bad_id.exception)


def test_errors_are_one_line_without_traceback(fresh_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from api.cli.main import main; main()", "cameras", "disable", "X"],
        env={"ETLE_DATABASE_URL": fresh_url, "ETLE_DATA_DIR": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no camera X"


def test_health_lists_unhealthy_cameras_and_exits_2(etle: Any) -> None:
    token = _add(etle, "CAM-8")
    etle("cameras", "add", "--id", "CAM-9", "--name", "I", "--violation", "red_light")
    assert _push(etle.env, token, 4) == 202
    report = json.loads(etle("cameras", "health", "--json", code=2).stdout)
    assert [(c["camera_id"], c["problems"]) for c in report] == [
        ("CAM-9", ["no frame received yet"])
    ]
    everything = json.loads(etle("cameras", "health", "--all", "--json", code=2).stdout)
    assert {c["camera_id"]: c["frames_last_hour"] for c in everything} == {
        "CAM-8": 1,
        "CAM-9": 0,
    }
    etle("cameras", "disable", "CAM-9")
    assert "healthy" in etle("cameras", "health").stdout


def test_every_command_has_help(etle: Any) -> None:
    for command in ("add", "list", "disable", "rotate-token", "health"):
        assert "Usage" in etle("cameras", command, "--help").stdout
