"""The review API as an officer uses it: claim, look, decide; what supervisors see."""

from __future__ import annotations

import io
import os

from fastapi.testclient import TestClient
from PIL import Image

from api.runtime import Runtime
from etle.db import session_scope
from etle.evidence import sha256_hex
from etle.officers.models import Role
from tests import factories
from tests.api.conftest import bearer, make_officer, sample_cases


def test_a_claimed_case_shows_everything_needed_to_decide(rt: Runtime, client: TestClient) -> None:
    [sample] = sample_cases(rt, 1, flags=["read_needs_review"])
    headers = bearer(rt, make_officer(rt))
    response = client.post("/api/v1/review/claim", headers=headers)
    assert response.status_code == 200
    body = response.json()
    case = body["case"]
    assert case["case_id"] == sample.case_id
    assert case["plate"] == sample.plate
    assert case["read"]["box"] == sample.box
    assert len(case["read"]["slot_confidence"]) == len(sample.plate)
    assert case["read"]["candidates"][0]["text"] == sample.plate
    assert case["registry"]["brand"] == "Toyota"
    assert case["registry"]["colour"] == "merah"
    assert case["registry"]["vehicle_class"] == "passenger_car"
    assert case["flags"] == ["read_needs_review"]
    assert case["camera"]["road"] == "Jl. M.H. Thamrin"
    assert case["service_level"]["due_at"]
    assert case["actions"] == ["confirm", "correct", "reject", "escalate"]
    assert "owner" not in str(case).lower()  # the owner's identity is not shown

    frame = client.get(body["frame_url"], headers=headers)
    assert frame.status_code == 200
    assert frame.headers["content-type"] == "image/jpeg"
    assert sha256_hex(frame.content) == case["evidence_sha256"]
    crop = client.get(body["plate_url"], headers=headers)
    assert crop.status_code == 200
    with Image.open(io.BytesIO(crop.content)) as image:
        assert image.format == "PNG"
        assert image.width == 640


def test_earlier_violations_of_the_vehicle_are_listed(rt: Runtime, client: TestClient) -> None:
    first, second = sample_cases(rt, 2)
    with session_scope(rt.sessions) as session:
        from etle.cases.models import Case

        older = session.get_one(Case, first.case_id)
        newer = session.get_one(Case, second.case_id)
        newer.vehicle_id = older.vehicle_id
        newer.first_captured_at = older.first_captured_at.replace(hour=5)
        factories.set_status(session, older, "notice_sent")
    body = client.post("/api/v1/review/claim", headers=bearer(rt, make_officer(rt))).json()
    assert body["case"]["case_id"] == second.case_id
    assert [e["case_id"] for e in body["case"]["earlier_cases"]] == [first.case_id]
    assert body["case"]["earlier_cases"][0]["status"] == "notice_sent"


def test_evidence_is_refused_when_its_hash_no_longer_matches(
    rt: Runtime, client: TestClient
) -> None:
    [sample] = sample_cases(rt, 1)
    headers = bearer(rt, make_officer(rt))
    body = client.post("/api/v1/review/claim", headers=headers).json()
    path = rt.evidence.path_for(body["case"]["evidence_sha256"])
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    for url in (body["frame_url"], body["plate_url"]):
        response = client.get(url, headers=headers)
        assert response.status_code == 500
        assert response.json()["error"] == "evidence_tampered"
    assert sample.case_id == body["case"]["case_id"]


def test_evidence_only_for_the_lease_holder_or_a_supervisor(
    rt: Runtime, client: TestClient
) -> None:
    [sample] = sample_cases(rt, 1)
    client.post("/api/v1/review/claim", headers=bearer(rt, make_officer(rt)))
    url = f"/api/v1/review/{sample.case_id}/frame"
    assert client.get(url, headers=bearer(rt, make_officer(rt))).status_code == 403
    boss = make_officer(rt, Role.SUPERVISOR)
    assert client.get(url, headers=bearer(rt, boss)).status_code == 200


def test_decisions_over_http_and_the_queue_running_dry(rt: Runtime, client: TestClient) -> None:
    cases = sample_cases(rt, 3)
    with session_scope(rt.sessions) as session:
        fix = factories.unique_plate()
        factories.vehicle(session, fix)
    ana, budi = make_officer(rt), make_officer(rt)
    a, b = bearer(rt, ana), bearer(rt, budi)

    def claim(headers: dict[str, str]) -> int:
        response = client.post("/api/v1/review/claim", headers=headers)
        assert response.status_code == 200
        return int(response.json()["case"]["case_id"])

    def decide(headers: dict[str, str], case_id: int, **body: object) -> dict[str, object]:
        response = client.post(f"/api/v1/review/{case_id}/decision", headers=headers, json=body)
        return {**response.json(), "http": response.status_code}

    first = claim(a)
    confirmed = decide(a, first, action="confirm")
    assert confirmed["http"] == 200
    assert confirmed["notice_number"]
    second = claim(a)
    assert decide(b, second, action="confirm")["http"] == 409  # not Budi's lease
    missing_reason = decide(a, second, action="reject")
    assert missing_reason["http"] == 422
    corrected = decide(a, second, action="correct", plate=fix)
    assert (corrected["http"], corrected["plate"]) == (200, fix)
    assert corrected["notice_number"] is None
    third = claim(a)
    assert third not in (first, second)  # Ana never gets her own correction back
    assert decide(a, third, action="reject", reason="other", text="kaca film gelap")["http"] == 200
    assert client.post("/api/v1/review/claim", headers=a).status_code == 204
    assert claim(b) == second
    assert decide(b, second, action="confirm")["notice_number"]
    assert client.post("/api/v1/review/claim", headers=b).status_code == 204
    assert {c.case_id for c in cases} == {first, second, third}

    overrides = client.get(
        "/api/v1/review/overrides", headers=bearer(rt, make_officer(rt, Role.SUPERVISOR))
    )
    assert overrides.status_code == 200
    kinds = [(o["kind"], o["officer"], o["overrides_officer"]) for o in overrides.json()]
    assert kinds == [
        ("second_confirmation", budi.username, ana.username),
        ("correction", ana.username, None),
    ]


def test_a_claim_can_be_given_back(rt: Runtime, client: TestClient) -> None:
    [sample] = sample_cases(rt, 1)
    a, b = bearer(rt, make_officer(rt)), bearer(rt, make_officer(rt))
    client.post("/api/v1/review/claim", headers=a)
    assert client.post(f"/api/v1/review/{sample.case_id}/release", headers=b).status_code == 409
    assert client.post(f"/api/v1/review/{sample.case_id}/release", headers=a).status_code == 200
    assert (
        client.post("/api/v1/review/claim", headers=b).json()["case"]["case_id"] == sample.case_id
    )


def test_supervisor_stats_over_http(rt: Runtime, client: TestClient) -> None:
    sample_cases(rt, 2)
    reviewer = make_officer(rt)
    a = bearer(rt, reviewer)
    case_id = client.post("/api/v1/review/claim", headers=a).json()["case"]["case_id"]
    client.post(f"/api/v1/review/{case_id}/decision", headers=a, json={"action": "confirm"})
    stats = client.get(
        "/api/v1/review/stats", headers=bearer(rt, make_officer(rt, Role.SUPERVISOR))
    )
    assert stats.status_code == 200
    body = stats.json()
    [mine] = [o for o in body["officers"] if o["username"] == reviewer.username]
    assert mine["by_action"] == {"confirm": 1}
    assert mine["median_seconds"] is not None
    assert body["backlog"]["waiting"] == 1
    assert body["service_level"]["notices"] == 1
    naive = client.get(
        "/api/v1/review/stats?since=2026-01-01T00:00:00",
        headers=bearer(rt, make_officer(rt, Role.SUPERVISOR)),
    )
    assert naive.status_code == 422


def test_a_change_lost_to_a_concurrent_one_answers_409(rt: Runtime) -> None:
    from fastapi.testclient import TestClient as Client
    from sqlalchemy.orm.exc import StaleDataError

    from api.app import create_app

    app = create_app(rt)

    @app.get("/test-stale")
    def stale() -> None:
        raise StaleDataError("UPDATE statement on table 'cases' expected to update 1 row")

    with Client(app) as test_client:
        response = test_client.get("/test-stale")
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
