"""The portal's web pages over HTTP: headers on every page, CSRF on every form, Bahasa Indonesia
first, the same page for every miss, and the whole walk from lookup to "paid"."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.portal.render import HERE
from api.runtime import Runtime
from etle.cases.models import Case, CaseStatus
from etle.db import session_scope
from etle.notices.models import Notice
from etle.notices.service import luhn_digit
from etle.officers.models import LoginAttempt
from etle.portal.models import CaseResponse, ScamReport
from tests.conftest import MakeRuntime
from tests.portal_helpers import callback, form_token, new_notice

NIK = "3171011503850007"


def _open_notice(client: TestClient, number: str, plate: str) -> str:
    """Look the notice up through the form; returns the notice page's HTML."""
    token = form_token(client.get("/tilang").text)
    page = client.post(
        "/tilang",
        data={"mode": "notice", "notice_number": number, "plate": plate, "csrf_token": token},
    )
    assert page.status_code == 200, page.text
    return page.text


def _status(rt: Runtime, number: str) -> str:
    with session_scope(rt.sessions) as session:
        case_id = session.scalars(
            select(Notice.case_id).where(Notice.notice_number == number)
        ).one()
        return session.get_one(Case, case_id).status


def test_every_page_carries_the_security_headers(prt: Runtime, pclient: TestClient) -> None:
    number, plate = new_notice(prt)
    _open_notice(pclient, number, plate)
    for path in (
        "/",
        "/tilang",
        "/verifikasi",
        "/verifikasi?kode=ABCDEFGHJK",
        "/verifikasi/NOPE.0.x",
        "/statistik",
        "/tilang/surat",
        f"/tilang/surat/{number}",
    ):
        response = pclient.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in csp, path
        assert "script-src" not in csp, path  # default-src 'none': no script at all
        assert "default-src 'none'" in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    notice_page = pclient.get(f"/tilang/surat/{number}")
    assert notice_page.headers["cache-control"] == "no-store"
    # JSON and images get the generic headers too.
    assert pclient.get("/healthz").headers["x-content-type-options"] == "nosniff"


def test_no_page_needs_an_inline_script_or_style() -> None:
    for template in (HERE / "templates").glob("*.html"):
        text = template.read_text()
        assert "<script" not in text, template.name
        assert "<style" not in text, template.name
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name


def test_both_languages_have_every_phrase() -> None:
    words = {
        lang: tomllib.loads((HERE / "words" / f"{lang}.toml").read_text()) for lang in ("id", "en")
    }
    assert set(words["id"]) == set(words["en"])
    used = set()
    for template in (HERE / "templates").glob("*.html"):
        used |= set(re.findall(r"\bt\.([a-z_0-9]+)", template.read_text()))
    assert used - set(words["id"]) == set()


def test_bahasa_indonesia_first_english_on_request(prt: Runtime, pclient: TestClient) -> None:
    page = pclient.get("/tilang")
    assert '<html lang="id">' in page.text
    assert "Cek surat tilang" in page.text
    english = pclient.get("/tilang?lang=en")
    assert '<html lang="en">' in english.text
    assert "Check a notice" in english.text
    assert "Check a notice" in pclient.get("/verifikasi").text  # remembered
    assert "Cek keaslian" in pclient.get("/verifikasi?lang=id").text


def test_a_miss_shows_the_same_page_whatever_its_reason(prt: Runtime, pclient: TestClient) -> None:
    number, plate = new_notice(prt)
    unknown = number[:-2] + "7"
    unknown += luhn_digit(unknown)
    pages = []
    for asked, given in ((unknown, plate), (number, "B 9 ZZ")):
        token = form_token(pclient.get("/tilang").text)
        response = pclient.post(
            "/tilang",
            data={"mode": "notice", "notice_number": asked, "plate": given, "csrf_token": token},
        )
        body = re.sub(r'value="[^"]*"', 'value=""', response.text)  # tokens and typed values
        pages.append((response.status_code, body))
    assert pages[0] == pages[1]
    assert pages[0][0] == 404
    assert "Tidak ada surat yang cocok" in pages[0][1]


def test_lookup_and_report_forms_need_their_csrf_token(prt: Runtime, pclient: TestClient) -> None:
    number, plate = new_notice(prt)
    no_token = pclient.post(
        "/tilang", data={"mode": "notice", "notice_number": number, "plate": plate}
    )
    assert no_token.status_code == 403
    token = form_token(pclient.get("/tilang").text)
    cross_site = pclient.post(
        "/tilang",
        data={"mode": "notice", "notice_number": number, "plate": plate, "csrf_token": token},
        headers={"Origin": "https://phishing.example"},
    )
    assert cross_site.status_code == 403
    report = pclient.post("/verifikasi/laporan", data={"channel": "sms", "message": "bayar"})
    assert report.status_code == 403
    with session_scope(prt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
        assert session.scalar(select(func.count()).select_from(ScamReport)) == 0


def test_an_answer_without_the_grants_csrf_secret_changes_nothing(
    prt: Runtime, pclient: TestClient
) -> None:
    number, plate = new_notice(prt)
    _open_notice(pclient, number, plate)
    forged = pclient.post(
        f"/tilang/surat/{number}/pengemudi", data={"driver": "self"}, follow_redirects=False
    )
    assert forged.status_code == 303
    assert forged.headers["location"] == "/tilang?reason=form_expired"
    assert _status(prt, number) == CaseStatus.NOTICE_SENT


def test_from_lookup_to_paid_on_the_web(prt: Runtime, pclient: TestClient) -> None:
    number, plate = new_notice(prt)
    page = _open_notice(pclient, number, plate.lower())
    assert "Menunggu tanggapan Anda" in page
    assert "B*** S******" in page
    assert "Budi" not in page
    assert "Kebon Sirih" not in page
    csrf = form_token(page)
    # A NIK that is no NIK: the page says so in Bahasa Indonesia and keeps what was typed.
    refused = pclient.post(
        f"/tilang/surat/{number}/pengemudi",
        data={
            "driver": "other",
            "name": "Agus Wijaya",
            "nik": "1234567890123456",
            "address": "Jl. Kramat Raya 5",
            "csrf_token": csrf,
        },
    )
    assert refused.status_code == 422
    assert "NIK harus 16 angka" in refused.text
    assert "Agus Wijaya" in refused.text
    assert _status(prt, number) == CaseStatus.NOTICE_SENT
    named = pclient.post(
        f"/tilang/surat/{number}/pengemudi",
        data={
            "driver": "other",
            "name": "Agus Wijaya",
            "nik": NIK,
            "address": "Jl. Kramat Raya 5",
            "csrf_token": csrf,
        },
    )
    assert named.status_code == 200
    assert "Tanggapan Anda tercatat" in named.text
    assert "A*** W*****" in named.text
    code = re.search(r'data-code="(\d+)"', named.text)
    assert code is not None
    assert "Rp 500.000" in named.text
    paid = callback(
        pclient,
        {
            "transaction_id": "TX-WEB-1",
            "payment_code": code.group(1),
            "amount_rp": 500_000,
            "paid_at": "2026-11-25T10:15:00+07:00",
        },
    )
    assert paid.status_code == 200
    after = pclient.get(f"/tilang/surat/{number}").text
    assert 'id="paid"' in after
    assert "Lunas" in after
    assert "TX-WEB-1" in after
    receipt = pclient.get(f"/tilang/surat/{number}/kuitansi")
    assert receipt.headers["content-type"] == "application/pdf"
    with session_scope(prt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CaseResponse)) == 1


def test_the_seller_sees_the_case_passed_on(prt: Runtime, pclient: TestClient) -> None:
    number, plate = new_notice(prt)
    csrf = form_token(_open_notice(pclient, number, plate))
    sold = pclient.post(
        f"/tilang/surat/{number}/dijual",
        data={
            "buyer_name": "Dewi Lestari",
            "buyer_nik": "3174014506900004",
            "buyer_address": "Jl. Sabang 3, Jakarta Pusat",
            "sold_on": "2026-11-01",
            "csrf_token": csrf,
        },
    )
    assert sold.status_code == 200
    assert "Dialihkan ke pemilik baru" in sold.text
    assert "Dewi" not in sold.text
    assert "D*** L******" not in sold.text
    assert 'id="tanggapi"' not in sold.text


def test_not_my_vehicle_with_a_photo_on_the_web(prt: Runtime, pclient: TestClient) -> None:
    from tests import factories

    number, plate = new_notice(prt)
    csrf = form_token(_open_notice(pclient, number, plate))
    refused = pclient.post(
        f"/tilang/surat/{number}/bukan-milik-saya",
        data={"csrf_token": csrf},
        files={"photo": ("a.txt", b"not a photo at all", "text/plain")},
    )
    assert refused.status_code == 415
    assert "Foto tidak dapat diterima" in refused.text
    sent = pclient.post(
        f"/tilang/surat/{number}/bukan-milik-saya",
        data={"csrf_token": csrf, "note": "mobil saya di garasi"},
        files={"photo": ("mobil.jpg", factories.street_frame()[0], "image/jpeg")},
    )
    assert sent.status_code == 200
    assert "Keberatan Anda tercatat" in sent.text
    assert _status(prt, number) == CaseStatus.ESCALATED


@pytest.mark.parametrize("genuine", [True, False])
def test_the_verification_page_tells_genuine_from_forged(
    prt: Runtime, pclient: TestClient, genuine: bool
) -> None:
    number, _plate = new_notice(prt)
    with session_scope(prt.sessions) as session:
        code = session.scalars(
            select(Notice.verification_code).where(Notice.notice_number == number)
        ).one()
    asked = code if genuine else "ZZZZZZZZZZ"
    page = pclient.get("/verifikasi", params={"kode": asked.lower()}).text
    assert ("ASLI" in page) is genuine
    assert ("TIDAK DITEMUKAN" in page) is not genuine
    assert (number in page) is genuine
    assert "Budi" not in page
    assert "etle.example.id" in page  # the official channel named


def test_scam_reports_are_stored_and_limited(prt: Runtime, pclient: TestClient) -> None:
    limit = prt.settings.portal_max_reports_per_address
    for i in range(limit + 1):
        token = form_token(pclient.get("/verifikasi").text)
        response = pclient.post(
            "/verifikasi/laporan",
            data={
                "channel": "whatsapp",
                "sender": "+62 811 0000 111",
                "message": f"Surat tilang anda, buka aplikasi {i}",
                "csrf_token": token,
            },
        )
        if i < limit:
            assert response.status_code == 200
            assert "Laporan Anda tercatat" in response.text
        else:
            assert response.status_code == 429
    with session_scope(prt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(ScamReport)) == limit


def test_a_missing_session_sends_the_reader_back_to_the_lookup(pclient: TestClient) -> None:
    response = pclient.get("/tilang/surat/26110000000114", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/tilang?reason=session_ended"
    page = pclient.get(response.headers["location"])
    assert "Sesi Anda berakhir" in page.text


def test_the_statistics_page_names_nobody(prt: Runtime, pclient: TestClient) -> None:
    _number, plate = new_notice(prt)
    page = pclient.get("/statistik").text
    assert "Statistik tilang elektronik" in page
    for secret in (plate, "Budi", "Santoso", "officer"):
        assert secret not in page


def test_the_stylesheet_is_served(pclient: TestClient) -> None:
    css = pclient.get("/aset/portal.css")
    assert pclient.get("/aset/secret.key").status_code == 404
    assert css.headers["content-type"].startswith("text/css")
    assert Path(HERE / "static" / "portal.css").read_bytes() == css.content


def test_a_speeding_notice_page_states_the_measured_speed_and_the_limit(
    prt: Runtime, pclient: TestClient
) -> None:
    number, plate = new_notice(prt, speeding=(94.0, 60))
    page = _open_notice(pclient, number, plate)
    assert "Kecepatan terukur" in page
    assert "94 km/jam (batas kecepatan 60 km/jam)" in page
    english = pclient.get(f"/tilang/surat/{number}?lang=en").text
    assert "94 km/h (speed limit 60 km/h)" in english
    other, other_plate = new_notice(prt)
    assert "Kecepatan terukur" not in _open_notice(pclient, other, other_plate)


def test_a_guarded_plate_asks_for_the_letters_code_on_the_web(make_rt: MakeRuntime) -> None:
    from api.app import create_app

    rt = make_rt(portal_max_failures_per_address=50, portal_max_failures_per_plate=2)
    number, plate = new_notice(rt)
    wrong = number[:-2] + "7"
    wrong += luhn_digit(wrong)
    with TestClient(create_app(rt), base_url="https://etle.example.id") as client:
        page = client.get("/tilang")
        form = {"mode": "notice", "notice_number": wrong, "plate": plate}
        for _ in range(2):  # each answer carries a fresh form token
            page = client.post("/tilang", data={**form, "csrf_token": form_token(page.text)})
            assert page.status_code == 404
        form = {**form, "notice_number": number}
        asked = client.post("/tilang", data={**form, "csrf_token": form_token(page.text)})
        assert asked.status_code == 429
        assert 'name="code"' in asked.text  # the field appears, with the plate kept
        with session_scope(rt.sessions) as session:
            code = session.scalars(
                select(Notice.verification_code).where(Notice.notice_number == number)
            ).one()
        opened = client.post(
            "/tilang", data={**form, "code": code, "csrf_token": form_token(asked.text)}
        )
        assert opened.status_code == 200, opened.text
        assert number in opened.text
