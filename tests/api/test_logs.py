"""Logs carry no personal data and no secrets (invariant 7), proven on a real flow: the demo
(frames in, plates read, cases confirmed, letters, emails and messages out) and then the HTTP
doors a camera, an officer and a citizen use, with every logger of every library at its
production level and ours at DEBUG. Nothing a person could be identified by, and no token or
password, may appear in any line."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.demo import SAMPLES, run_demo
from api.logs import JsonFormatter, configure_logging, path_shape
from api.runtime import build_runtime
from api.settings import load_app_settings
from etle.cameras.service import add_camera
from etle.cases.models import Case
from etle.db import session_scope
from etle.notices.models import Notice
from etle.officers.models import Role
from etle.plates import format_plate
from tests import factories
from tests.api.conftest import PASSWORD
from tests.factories import jpeg


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    configure_logging("json", stream=buffer)
    for ours in ("etle", "camera_ingest", "notices", "api"):
        logging.getLogger(ours).setLevel(logging.DEBUG)
    yield buffer
    root.handlers[:], root.level = saved
    for ours in ("etle", "camera_ingest", "notices", "api"):
        logging.getLogger(ours).setLevel(logging.NOTSET)


def _personal_data() -> set[str]:
    values: set[str] = set()
    with (SAMPLES / "registry.csv").open() as f:
        for row in csv.DictReader(f):
            plate = row["plate"].replace(" ", "")
            values |= {plate, row["plate"], format_plate(plate), row["owner_name"]}
            values |= {row["address"], row["email"], row["phone"], row["nik"]}
            values |= {row["phone"].lstrip("+"), row["address"].split(",")[0]}
    return {v for v in values if v}


def test_a_whole_flow_logs_nothing_personal_and_no_secret(
    captured: io.StringIO, fresh_url: str, models_dir: Path, tmp_path: Path
) -> None:
    rt = build_runtime(
        load_app_settings(
            data_dir=tmp_path, database_url=fresh_url, models_dir=models_dir, queue_url=None
        )
    )
    secrets: set[str] = {PASSWORD, "Petugas Demo"}
    try:
        summary = run_demo(rt)
        assert summary.notices["letters"] > 0  # the flow really ran to the letters
        with session_scope(rt.sessions) as session:
            notice = session.scalars(select(Notice).order_by(Notice.id)).first()
            assert notice is not None
            case = session.get_one(Case, notice.case_id)
            number, plate = notice.notice_number, case.plate
            secrets |= {notice.verification_code, notice.recipient_name}
            _cam, camera_token = add_camera(
                session, camera_id="CAM-LOG", name="log", violation_codes=["red_light"], actor="t"
            )
            officer = factories.officer_with_password(session, PASSWORD, role=Role.REVIEWER)
            username = officer.username
        secrets.add(camera_token)
        with TestClient(create_app(rt)) as client:
            pushed = client.post(
                "/api/v1/frames",
                headers={"Authorization": f"Bearer {camera_token}"},
                files={"image": ("f.jpg", jpeg(seed=5), "image/jpeg")},
                data={"metadata": json.dumps({"captured_at": datetime.now(UTC).isoformat()})},
            )
            assert pushed.status_code == 202
            wrong = client.post(
                "/api/v1/auth/token", data={"username": username, "password": "Wrong-pass-123"}
            )
            assert wrong.status_code == 401
            signed_in = client.post(
                "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
            )
            officer_token = signed_in.json()["access_token"]
            secrets.add(officer_token)
            looked = client.get(f"/api/v1/public/notices/{number}", params={"plate": plate})
            assert looked.status_code == 200
            grant = looked.json()["access_token"]
            secrets.add(grant)
            details = client.get(
                f"/api/v1/public/notices/{number}/details",
                headers={"Authorization": f"Bearer {grant}"},
            )
            assert details.status_code == 200
            missed = client.get(f"/api/v1/public/notices/{number}", params={"plate": "Z9999ZZ"})
            assert missed.status_code == 404
            client.get(f"/api/v1/public/verify/{notice.verification_code}")
    finally:
        rt.close()
    # uvicorn's access line for a verification URL, and an exception that quotes a row.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "203.0.113.9:5555", "GET", f"/verifikasi/{notice.verification_code}?plate={plate}",
        "1.1", 200,
    )  # fmt: skip
    try:
        raise ValueError(f"duplicate key (plate)=({plate}) owner {notice.recipient_name}")
    except ValueError:
        logging.getLogger("etle.test").exception("insert failed")

    text = captured.getvalue()
    lines = text.splitlines()
    assert len(lines) > 5  # the flow did log: the check below is not vacuous
    for line in lines:
        json.loads(line)  # every line is one JSON object
    leaked = sorted(v for v in _personal_data() | secrets if v in text)
    assert leaked == [], [line for line in lines if any(v in line for v in leaked)]
    assert "203.0.113.9" not in text  # client addresses are personal data too
    assert '"exception": "ValueError"' in text


def test_paths_keep_their_shape_and_lose_their_data() -> None:
    assert path_shape("/api/v1/public/verify/AbC-123_x?plate=B1234ABC") == (
        "/api/v1/public/verify/:param"
    )
    assert path_shape("/tilang/surat/26110000000001/foto") == "/tilang/surat/:param/foto"
    assert path_shape("/console/cases/17") == "/console/cases/:param"
    assert path_shape("/healthz") == "/healthz"


def test_json_lines_name_the_level_logger_and_time() -> None:
    record = logging.LogRecord(
        "etle.x", logging.WARNING, __file__, 1, "frame %s failed", (42,), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "warning"
    assert entry["logger"] == "etle.x"
    assert entry["message"] == "frame 42 failed"
    assert entry["time"].endswith("+00:00")
