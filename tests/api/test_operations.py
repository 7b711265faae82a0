"""Running it: readiness names what is wrong, and `/metrics` counts what a camera and an
officer would see happen (frames accepted, repeated and refused; backlog; deliveries)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings
from etle.cameras.service import add_camera
from etle.db import session_scope
from tests import factories
from tests.factories import jpeg

METRICS_TOKEN = "metrics-scraper-token-0123456789"


def _client(rt: Runtime) -> TestClient:
    return TestClient(create_app(rt))


@pytest.fixture
def make_rt(fresh_url: str, tmp_path: Path) -> Iterator[object]:
    made: list[Runtime] = []

    def make(**overrides: object) -> Runtime:
        overrides = {"queue_url": None, **overrides}
        settings = load_app_settings(
            data_dir=tmp_path / "data", database_url=fresh_url, **overrides
        )
        made.append(build_runtime(settings))
        return made[-1]

    yield make
    for rt in made:
        rt.close()


def test_ready_when_database_queue_disk_and_models_are_fine(make_rt, models_dir: Path) -> None:  # type: ignore[no-untyped-def]
    with _client(make_rt(models_dir=models_dir)) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "database": "ok",
        "queue": "ok",
        "disk": "ok",
        "models": "ok",
    }


def test_not_ready_names_each_failed_check(make_rt, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty_models = tmp_path / "no-models"
    empty_models.mkdir()
    rt = make_rt(
        models_dir=empty_models,
        min_free_disk_mb=2**40,  # more than any disk has
        queue_url="redis://127.0.0.1:1/0",  # nothing listens there
    )
    with _client(rt) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    body = answer.json()
    assert body["status"] == "not_ready"
    assert body["database"] == "ok"
    assert body["queue"].startswith("failed: ConnectionError")
    assert body["disk"].startswith("failed")
    assert "ETLE_MIN_FREE_DISK_MB" in body["disk"]
    assert body["models"].startswith("failed")
    assert "cct_xs_v1_global.onnx" in body["models"]


def test_metrics_are_off_without_a_token_and_closed_to_a_wrong_one(make_rt) -> None:  # type: ignore[no-untyped-def]
    with _client(make_rt()) as client:
        assert client.get("/metrics").status_code == 404
    with _client(make_rt(metrics_token=METRICS_TOKEN)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = {"Authorization": "Bearer " + METRICS_TOKEN[:-1] + "x"}
        assert client.get("/metrics", headers=wrong).status_code == 401


def _value(text: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(label_text) + r"\}" if labels else "")
    match = re.search("^" + pattern + r" ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} {labels} not in the metrics"
    return float(match.group(1))


def test_metrics_count_frames_and_read_the_backlog(make_rt) -> None:  # type: ignore[no-untyped-def]
    rt = make_rt(metrics_token=METRICS_TOKEN)
    with session_scope(rt.sessions) as session:
        _camera, token = add_camera(
            session, camera_id="CAM-M", name="m", violation_codes=["red_light"], actor="test"
        )
        factories.case(session)  # one case waiting for an officer
    auth = {"Authorization": f"Bearer {token}"}
    scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}

    def push(image: bytes, headers: dict[str, str]) -> int:
        meta = json.dumps({"captured_at": datetime.now(UTC).isoformat()})
        return client.post(
            "/api/v1/frames",
            headers=headers,
            files={"image": ("f.jpg", image, "image/jpeg")},
            data={"metadata": meta},
        ).status_code

    with _client(rt) as client:
        before = client.get("/metrics", headers=scrape).text
        image = jpeg(seed=91)
        assert [push(image, auth), push(image, auth), push(jpeg(seed=92), auth)] == [202, 200, 202]
        assert push(b"not an image", auth) == 415
        assert push(jpeg(seed=93), {"Authorization": "Bearer etlecam_wrong"}) == 401
        after = client.get("/metrics", headers=scrape)
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text

    def grew(name: str, **labels: str) -> float:
        try:
            old = _value(before, name, **labels)
        except AssertionError:
            old = 0.0
        return _value(text, name, **labels) - old

    assert grew("etle_frames_received_total", outcome="accepted") == 2
    assert grew("etle_frames_received_total", outcome="duplicate") == 1
    assert grew("etle_frames_rejected_total", reason="unsupported_media_type") == 1
    assert grew("etle_frames_rejected_total", reason="unauthorized") == 1
    assert _value(text, "etle_state_up") == 1
    assert _value(text, "etle_queue_depth") == 2
    assert _value(text, "etle_frames_waiting") == 3  # the two pushed, and the case's own frame
    assert 0 <= _value(text, "etle_frames_oldest_waiting_seconds") < 600
    assert _value(text, "etle_review_backlog", status="pending_review") == 1
    assert _value(text, "etle_audit_chain_head") >= 1
