"""The portal's JSON API: enumeration is impossible, the rate limit kicks in (and holds across
processes), every answer goes through the lifecycle and is audited."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime
from etle.audit.models import AuditEvent
from etle.cases.models import Case, CaseStatus
from etle.db import session_scope
from etle.notices.models import Notice
from etle.notices.service import luhn_digit
from etle.portal.models import CaseResponse
from tests import factories
from tests.api.conftest import bearer, make_officer
from tests.conftest import MakeRuntime
from tests.portal_helpers import new_notice

NIK = "3171011503850007"


def _unknown(number: str) -> str:
    body = number[:-2] + "7"
    return body + luhn_digit(body)


def _lookup(client: TestClient, number: str, plate: str, **headers: str) -> Any:
    return client.get(f"/api/v1/public/notices/{number}", params={"plate": plate}, headers=headers)


def _grant(client: TestClient, number: str, plate: str) -> dict[str, str]:
    response = _lookup(client, number, plate)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_wrong_plate_unknown_notice_and_wrong_vin_answer_exactly_alike(
    prt: Runtime, pclient: TestClient
) -> None:
    number, plate = new_notice(prt)
    answers = [
        _lookup(pclient, _unknown(number), plate),
        _lookup(pclient, number, factories.unique_plate()),
        pclient.get("/api/v1/public/notices", params={"plate": plate, "vin": "99999"}),
        pclient.get("/api/v1/public/notices", params={"plate": "B9999ZZZ", "vin": "12345"}),
    ]
    shapes = {
        (
            r.status_code,
            r.content,
            tuple(sorted((k, v) for k, v in r.headers.items() if k != "date")),
        )
        for r in answers
    }
    assert len(shapes) == 1
    assert answers[0].status_code == 404
    assert "access_token" not in answers[0].text


def test_the_rate_limit_kicks_in_and_holds_across_processes(make_rt: MakeRuntime) -> None:
    first, second = make_rt(), make_rt()
    number, plate = new_notice(first)
    limit = first.settings.portal_max_failures_per_address
    with TestClient(create_app(first)) as one, TestClient(create_app(second)) as two:
        for i in range(limit):
            client = one if i % 2 else two  # misses spread over both processes
            assert _lookup(client, number, "B1A").status_code == 404
        refused = _lookup(one, number, plate)  # even the right plate now
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == str(first.settings.portal_window_seconds)
        assert _lookup(two, number, plate).status_code == 429


def test_the_token_opens_only_its_notice_and_officer_tokens_open_nothing(
    prt: Runtime, pclient: TestClient
) -> None:
    mine, plate = new_notice(prt)
    other, _ = new_notice(prt)
    headers = _grant(pclient, mine, plate)
    assert pclient.get(f"/api/v1/public/notices/{mine}/details", headers=headers).status_code == 200
    assert (
        pclient.get(f"/api/v1/public/notices/{other}/details", headers=headers).status_code == 404
    )
    officer = bearer(prt, make_officer(prt))
    assert pclient.get(f"/api/v1/public/notices/{mine}/details", headers=officer).status_code == 401
    # And a portal token is no officer credential.
    assert pclient.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_the_notice_as_json_has_the_facts_and_no_personal_data(
    prt: Runtime, pclient: TestClient
) -> None:
    number, plate = new_notice(prt)
    body = _lookup(pclient, number, plate).json()
    notice = body["notice"]
    assert body["token_type"] == "bearer"
    assert (notice["notice_number"], notice["status"], notice["amount_rp"]) == (
        number,
        "awaiting_response",
        500_000,
    )
    assert notice["captured_at_local"] == "20-11-2026 07:15:00 WIB"
    assert notice["addressed_to"] == "B*** S******"
    for secret in ("Budi", "Santoso", "Kebon Sirih", "budi@example.id", "+628121111000"):
        assert secret not in str(body)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    photo = pclient.get(f"/api/v1/public/notices/{number}/photo", headers=headers)
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "private, no-store"
    plate_png = pclient.get(f"/api/v1/public/notices/{number}/plate", headers=headers)
    assert plate_png.content.startswith(b"\x89PNG")


def test_vin_lookup_lists_the_vehicles_notices(prt: Runtime, pclient: TestClient) -> None:
    number, plate = new_notice(prt, vin="MHKA1BA1JFK0ABCDE".replace("O", "0"))
    response = pclient.get("/api/v1/public/notices", params={"plate": plate, "vin": "abcde"})
    assert response.status_code == 200, response.text
    assert [n["notice_number"] for n in response.json()["notices"]] == [number]
    assert pclient.get("/api/v1/public/notices", params={"plate": plate}).status_code == 422


def _audit(rt: Runtime, number: str) -> list[tuple[str, dict[str, Any] | None]]:
    with session_scope(rt.sessions) as session:
        case_id = session.scalars(
            select(Notice.case_id).where(Notice.notice_number == number)
        ).one()
        return [
            (e.action, e.after)
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity_id == str(case_id))
                .order_by(AuditEvent.seq)
            )
        ]


def test_every_answer_is_audited_and_moves_the_case(prt: Runtime, pclient: TestClient) -> None:
    cases: dict[str, tuple[str, str]] = {
        k: new_notice(prt) for k in ("self", "other", "sold", "not_mine")
    }

    def post(kind: str, path: str, **kw: Any) -> Any:
        number, plate = cases[kind]
        headers = _grant(pclient, number, plate)
        return pclient.post(f"/api/v1/public/notices/{number}/{path}", headers=headers, **kw)

    paid = post("self", "driver", json={"driver": "self"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["amount_rp"] == 500_000
    other = post(
        "other",
        "driver",
        json={"driver": "other", "name": "Agus Wijaya", "nik": NIK, "address": "Jl. Kramat Raya 5"},
    )
    assert other.status_code == 200, other.text
    sold = post(
        "sold",
        "sold",
        json={
            "buyer_name": "Dewi Lestari",
            "buyer_nik": "3174014506900004",
            "buyer_address": "Jl. Sabang 3, Jakarta",
            "sold_on": "2026-11-01",
        },
    )
    assert sold.json() == {"status": "transferred"}
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 20, 20)).save(photo, format="JPEG")
    disputed = post(
        "not_mine",
        "not-mine",
        files={"photo": ("mobil.jpg", photo.getvalue(), "image/jpeg")},
        data={"note": "bukan mobil saya"},
    )
    assert disputed.json() == {"status": "under_review"}, disputed.text

    expected = {
        "self": ("driver_self", CaseStatus.PAYMENT_ISSUED),
        "other": ("driver_other", CaseStatus.PAYMENT_ISSUED),
        "sold": ("vehicle_sold", CaseStatus.NOTICE_SENT),
        "not_mine": ("not_my_vehicle", CaseStatus.ESCALATED),
    }
    for kind, (number, _plate) in cases.items():
        events = _audit(prt, number)
        responses = [after for action, after in events if action == "portal.response"]
        assert len(responses) == 1, kind
        assert responses[0] is not None
        assert (responses[0]["kind"], responses[0]["channel"]) == (expected[kind][0], "api")
        assert any(
            a == "case.transition" and (after or {}).get("status") == "owner_responded"
            for a, after in events
        )
        with session_scope(prt.sessions) as session:
            case_id = session.scalars(
                select(Notice.case_id).where(Notice.notice_number == number)
            ).one()
            assert session.get_one(Case, case_id).status == expected[kind][1], kind
    # Answering again is refused and changes nothing.
    again = post("self", "driver", json={"driver": "self"})
    assert again.status_code == 409
    assert again.json()["error"] == "already_answered"


def test_a_refused_answer_stores_nothing(prt: Runtime, pclient: TestClient) -> None:
    number, plate = new_notice(prt)
    headers = _grant(pclient, number, plate)
    bad_nik = pclient.post(
        f"/api/v1/public/notices/{number}/driver",
        headers=headers,
        json={"driver": "other", "name": "Agus", "nik": "1234567890123456", "address": "Jl. A 1"},
    )
    assert bad_nik.status_code == 422
    assert bad_nik.json()["detail"] == {"field": "nik", "code": "nik_invalid"}
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, format="PNG")  # 64 MP in a few kB
    not_image = pclient.post(
        f"/api/v1/public/notices/{number}/not-mine",
        headers=headers,
        files={"photo": ("x.jpg", b"GIF89a not a photo", "image/jpeg")},
    )
    bombed = pclient.post(
        f"/api/v1/public/notices/{number}/not-mine",
        headers=headers,
        files={"photo": ("x.png", bomb.getvalue(), "image/png")},
    )
    assert (not_image.status_code, bombed.status_code) == (415, 422)
    with session_scope(prt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CaseResponse)) == 0
        case_id = session.scalars(
            select(Notice.case_id).where(Notice.notice_number == number)
        ).one()
        assert session.get_one(Case, case_id).status == CaseStatus.NOTICE_SENT


def test_an_oversized_photo_is_refused(make_rt: MakeRuntime) -> None:
    rt = make_rt(max_upload_bytes=50_000)
    number, plate = new_notice(rt)
    with TestClient(create_app(rt)) as client:
        headers = _grant(client, number, plate)
        big = b"\xff\xd8" + b"0" * 60_000
        response = client.post(
            f"/api/v1/public/notices/{number}/not-mine",
            headers=headers,
            files={"photo": ("big.jpg", big, "image/jpeg")},
        )
    assert response.status_code == 413


def test_statistics_and_scam_reports_need_no_token(prt: Runtime, pclient: TestClient) -> None:
    _number, plate = new_notice(prt)
    stats = pclient.get("/api/v1/public/statistics", params={"days": 7})
    assert stats.status_code == 200
    assert set(stats.json()) >= {"by_violation", "by_camera", "by_day", "review_shares"}
    assert plate not in stats.text
    report = pclient.post(
        "/api/v1/public/scam-reports",
        json={"channel": "whatsapp", "sender": "+62 811 0000 111", "message": "Surat tilang.apk"},
    )
    assert report.status_code == 201
    assert pclient.post("/api/v1/public/scam-reports", json={"channel": "sms"}).status_code == 422


def test_the_supervisor_sees_the_owners_photo_beside_the_evidence(
    prt: Runtime, pclient: TestClient
) -> None:
    from datetime import timedelta

    from etle.officers.models import Role
    from etle.officers.tokens import Audience, issue

    number, plate = new_notice(prt)
    photo = io.BytesIO()
    Image.new("RGB", (640, 480), (250, 250, 250)).save(photo, format="PNG")
    answer = pclient.post(
        f"/api/v1/public/notices/{number}/not-mine",
        headers=_grant(pclient, number, plate),
        files={"photo": ("mobil.png", photo.getvalue(), "image/png")},
        data={"note": "Mobil saya putih"},
    )
    assert answer.status_code == 200
    supervisor = make_officer(prt, Role.SUPERVISOR)
    reviewer = make_officer(prt, Role.REVIEWER)
    claimed = pclient.post("/api/v1/review/claim", headers=bearer(prt, supervisor))
    assert claimed.status_code == 200, claimed.text
    case_id = claimed.json()["case"]["case_id"]
    assert "suspected_clone" in claimed.json()["case"]["flags"]
    seen = pclient.get(f"/api/v1/review/{case_id}/owner-photo", headers=bearer(prt, supervisor))
    assert (seen.status_code, seen.content) == (200, photo.getvalue())
    refused = pclient.get(f"/api/v1/review/{case_id}/owner-photo", headers=bearer(prt, reviewer))
    assert refused.status_code == 403  # not the reviewer's lease
    cookie, _ = issue(
        supervisor,
        signing_key=prt.settings.signing_key,
        audience=Audience.CONSOLE,
        lifetime=timedelta(hours=1),
    )
    pclient.cookies.set("etle_console", cookie, path="/console")
    page = pclient.get(f"/console/cases/{case_id}")
    assert 'id="owner-report"' in page.text
    assert "Mobil saya putih" in page.text
    image = pclient.get(f"/console/cases/{case_id}/owner-photo")
    assert image.content == photo.getvalue()


def _code(rt: Runtime, number: str) -> str:
    with session_scope(rt.sessions) as session:
        return session.scalars(
            select(Notice.verification_code).where(Notice.notice_number == number)
        ).one()


def test_a_guarded_plate_opens_with_the_letters_code(make_rt: MakeRuntime) -> None:
    rt = make_rt(portal_max_failures_per_address=50, portal_max_failures_per_plate=3)
    number, plate = new_notice(rt)
    with TestClient(create_app(rt)) as client:
        for _ in range(3):
            assert _lookup(client, _unknown(number), plate).status_code == 404
        guarded = _lookup(client, number, plate)
        assert guarded.status_code == 429
        assert guarded.json()["detail"] == {"code": "plate_guarded"}
        assert guarded.headers["Retry-After"] == str(rt.settings.portal_plate_window_seconds)
        opened = client.get(
            f"/api/v1/public/notices/{number}", params={"plate": plate, "code": _code(rt, number)}
        )
        assert opened.status_code == 200, opened.text
        assert opened.json()["notice"]["notice_number"] == number


def test_the_number_as_printed_with_a_dash_opens_the_notice(
    prt: Runtime, pclient: TestClient
) -> None:
    """Issue 17: the lookup read the cleaned number but opened the raw one (logged a success,
    answered 404)."""
    number, plate = new_notice(prt)
    answer = _lookup(pclient, f"{number[:4]}-{number[4:]}", plate)
    assert answer.status_code == 200, answer.text
    assert answer.json()["notice"]["notice_number"] == number
