"""The console speaks Indonesian to the officer, including when the rules refuse something, and
offers no button whose action the rules would refuse."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.console.messages import indonesian, known
from api.runtime import Runtime
from etle.cases.models import Case, CaseStatus
from etle.db import session_scope
from etle.frames.models import Frame
from tests.api.conftest import sample_cases
from tests.api.test_console import _add, _csrf, _sign_in


def _open_case(rt: Runtime, client: TestClient, **overrides: object) -> tuple[int, str]:
    (case,) = sample_cases(rt, 1, **overrides)
    _add(rt, "sari")
    _sign_in(client, "sari")
    idle = client.get("/console")
    claimed = client.post("/console/claim", data={"csrf_token": _csrf(idle)})
    assert f"Kasus #{case.case_id}" in claimed.text
    return case.case_id, claimed.text


def _confirm(client: TestClient, case_id: int, page: str) -> tuple[int, str]:
    answer = client.post(
        f"/console/cases/{case_id}/decision",
        data={"action": "confirm", "csrf_token": _csrf_from(page)},
        follow_redirects=False,
    )
    return answer.status_code, answer.text


def _csrf_from(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _alert(page: str) -> str:
    found = re.search(r'<div class="notice bad" role="alert" id="error">([^<]+)</div>', page)
    assert found, "no error shown"
    return found.group(1)


def test_an_unregistered_plate_offers_no_confirm_and_a_forced_one_is_refused_in_indonesian(
    rt: Runtime, client: TestClient
) -> None:
    case_id, page = _open_case(rt, client, owner_id=None, vehicle_id=None)
    assert 'id="do-confirm"' not in page
    assert "Tidak dapat dikonfirmasi:" in page
    assert "tidak terdaftar: koreksi ke plat yang terdaftar" in page
    # A confirmation sent anyway (an old page, a crafted form) gets a 409 in Indonesian.
    status, refused = _confirm(client, case_id, page)
    assert status == 409
    assert _alert(refused) == (
        "Plat B 1234 ABC tidak terdaftar: koreksi ke plat yang terdaftar, atau tolak kasus ini."
    )
    assert "is not registered" not in refused
    with session_scope(rt.sessions) as session:
        assert session.get_one(Case, case_id).status == CaseStatus.PENDING_REVIEW


def test_a_speeding_case_shows_speed_and_limit_and_is_not_confirmed_without_them(
    rt: Runtime, client: TestClient
) -> None:
    case_id, page = _open_case(rt, client, violation_code="speeding")
    assert 'id="do-confirm"' not in page
    assert "Kecepatan terukur: <strong>tidak ada</strong>" in page
    assert "tidak memiliki kecepatan terukur dari kamera" in page
    status, refused = _confirm(client, case_id, page)
    assert status == 409
    assert "tidak memiliki kecepatan terukur" in _alert(refused)

    with session_scope(rt.sessions) as session:
        case = session.get_one(Case, case_id)
        session.get_one(Frame, case.evidence_frame_id).measured_speed_kmh = 87.5
    page = client.get(f"/console/cases/{case_id}").text
    assert "87,5 km/jam" in page
    assert "belum memiliki batas kecepatan" in page  # the test camera has no limit
    assert 'id="do-confirm"' not in page


def test_the_case_header_words_lease_and_hours_the_indonesian_way(
    rt: Runtime, client: TestClient
) -> None:
    _case_id, page = _open_case(rt, client)
    assert "Sewa" not in page  # "rent": the lease is the time left to decide
    assert "Sisa waktu tinjau:" in page
    late = re.search(r"terlewat ([\d.,]+) jam", page)
    assert late, "the sample case is long past its service level"
    assert "." not in late.group(1)  # a decimal comma, as the statistics write numbers


def test_every_refusal_an_officer_can_meet_is_said_in_indonesian() -> None:
    refusals = [
        "plate B 1234 ABC is not registered: correct it to a registered plate or reject the case",
        "speeding case 7 has no measured speed from the camera: reject it (no violation shown)",
        "camera CAM-1 has no speed limit set: a speeding case cannot be confirmed until it has one",
        "the measured speed 55.5 km/h is not above the limit 60 km/h: reject the case "
        "(no violation)",
        "B 1234 ABC is already the case's plate: confirm it",
        "B 9 QQQ is not in the vehicle registry",
        "a rejection needs a reason code",
        'a rejection for reason "other" needs a text',
        "the text has at most 500 characters",
        "case 7 is already with a supervisor",
        "case 7 is not leased to you: claim a case first",
        "your lease on case 7 has expired: claim again",
        "case 7 is rejected: there is nothing to review",
        "case 7 cannot go from confirmed to rejected",
        "conflict of interest: the vehicle is registered to this officer",
        "four eyes: the officer who corrected or escalated this case cannot take the next step "
        "on it",
        "four eyes: the officer who corrected, keyed or escalated this case cannot take the "
        "next step on it",
        "four eyes: you proposed this case's plate; another officer must decide the case",
        "case 7 has no plate yet: mark and key it, or reject the case",
        "case 7 already has a plate: confirm or correct it",
        "case 7 is confirmed: there is no plate to key",
        "mark the plate: a box [x1, y1, x2, y2] on the evidence frame",
        "a box is four numbers: [x1, y1, x2, y2]",
        "the box lies outside the 1920x1080 frame",
        "the box must be at least 8 pixels wide and high, with x1 < x2, y1 < y2",
        "the reviewer role may not decide escalated",
        "plate 'XX 1 A': 'XX' is not an Indonesian region code",
        "the form has expired or did not come from this console",
    ]
    unknown = [message for message in refusals if not known(message)]
    assert unknown == []
    assert indonesian("case 7 is rejected: there is nothing to review") == (
        "Kasus #7 berstatus ditolak: tidak ada yang perlu ditinjau."
    )
    assert indonesian(
        "the measured speed 55.5 km/h is not above the limit 60 km/h: reject "
        "the case (no violation)"
    ).startswith("Kecepatan terukur 55,5 km/jam")
    assert indonesian("something new").startswith("Keputusan tidak dapat disimpan")
