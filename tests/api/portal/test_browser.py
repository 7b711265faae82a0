"""The portal in a real browser on a phone-sized screen: look a notice up, see it, name the
driver, receive the payment code, the bank pays, see "paid"; and check a genuine and a forged
code. Debian's chromium through Playwright, against the app served by uvicorn on a free port;
skipped, with the reason, where chromium is missing (`.ci/run` installs it).

Set ETLE_PORTAL_SCREENSHOTS=folder to keep pictures of the main pages (docs/portal-*.png are
made this way: `ETLE_PORTAL_SCREENSHOTS=docs python -m pytest tests/api/portal/test_browser.py
-k sqlite`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.runtime import Runtime
from etle.cases.models import Case, CaseStatus
from etle.clock import local
from etle.db import session_scope
from etle.notices.models import Notice
from etle.notices.verify import token_for
from tests.api.test_console_browser import CHROMIUM, CHROMIUM_ARGS
from tests.live_server import serving
from tests.portal_helpers import callback, new_notice

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
NIK = "3171011503850007"


@pytest.fixture
def live(prt: Runtime) -> Iterator[str]:
    with serving(create_app(prt)) as url:
        yield url


@pytest.fixture
def phone() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sync_api.expect.set_options(timeout=15_000)
        errors: list[str] = []
        # Any CSP violation or failed script would show here: the pages must need none.
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.errors = errors  # type: ignore[attr-defined]
        yield page
        browser.close()


def _shot(page: object, name: str) -> None:
    folder = os.environ.get("ETLE_PORTAL_SCREENSHOTS")
    if folder:
        from playwright.sync_api import Page

        assert isinstance(page, Page)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(Path(folder) / f"portal-{name}.png"), full_page=True)


def _loaded(page: object, selector: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    expect(page.locator(selector)).to_have_js_property("complete", True)
    assert page.locator(selector).evaluate("img => img.naturalWidth") > 0


def test_lookup_answer_pay_and_see_paid_on_a_phone(prt: Runtime, live: str, phone: object) -> None:
    from playwright.sync_api import Page, expect

    page = phone
    assert isinstance(page, Page)
    number, plate = new_notice(prt, plate="B1234ABC")

    page.goto(f"{live}/tilang")
    _shot(page, "lookup")
    page.get_by_label("Nomor surat").fill(number)
    page.locator("#plate").fill("b 1234 abc")
    page.get_by_role("button", name="Cek surat").click()

    expect(page.locator("#notice-number")).to_have_text(number)
    expect(page.locator("#status")).to_have_text("Menunggu tanggapan Anda")
    expect(page.locator("#plate")).to_have_text("B 1234 ABC")
    expect(page.locator("#addressed-to")).to_have_text("B*** S******")
    expect(page.locator("#time")).to_have_text("20-11-2026 07:15:00 WIB")
    expect(page.locator("#amount")).to_have_text("Rp 500.000")
    _loaded(page, "#photo")
    _loaded(page, "#plate-crop")
    expect(page.locator("#timeline li")).to_have_count(3)
    _shot(page, "notice")

    page.locator("#other-driver summary").click()
    page.get_by_label("Nama lengkap pengemudi").fill("Agus Wijaya")
    page.get_by_label("NIK pengemudi (16 angka)").fill(NIK)
    page.get_by_label("Alamat pengemudi").fill("Jl. Kramat Raya 5, Jakarta Pusat")
    page.locator("#send-driver").click()

    expect(page.locator("#hasil")).to_contain_text("Tanggapan Anda tercatat")
    expect(page.locator("#status")).to_have_text("Menunggu pembayaran")
    expect(page.locator("#driver")).to_have_text("A*** W*****")
    code = page.locator("#payment-code").get_attribute("data-code")
    assert code is not None
    assert re.fullmatch(r"80777\d{11}", code)
    expect(page.locator("#payment-amount")).to_have_text("Rp 500.000")
    _shot(page, "payment")

    with httpx.Client(base_url=live) as bank:
        paid = callback(
            bank,  # type: ignore[arg-type]
            {
                "transaction_id": "BRIVA-7781",
                "payment_code": code,
                "amount_rp": 500_000,
                "paid_at": "2026-11-25T10:15:00+07:00",
                "channel": "mobile",
            },
        )
    assert paid.status_code == 200, paid.text

    page.reload()
    expect(page.locator("#status")).to_have_text("Lunas")
    expect(page.locator("#paid-at")).to_have_text("25-11-2026 10:15:00 WIB")
    expect(page.locator("#timeline li").last).to_contain_text("Pembayaran diterima")
    receipt = page.request.get(live + page.locator("#receipt").get_attribute("href"))  # type: ignore[operator]
    assert receipt.headers["content-type"] == "application/pdf"
    assert receipt.body().startswith(b"%PDF")
    _shot(page, "paid")
    assert page.errors == []  # type: ignore[attr-defined]
    with session_scope(prt.sessions) as session:
        case_id = session.scalars(
            select(Notice.case_id).where(Notice.notice_number == number)
        ).one()
        assert session.get_one(Case, case_id).status == CaseStatus.PAID


def test_a_genuine_code_and_qr_and_a_forged_code_and_qr(
    prt: Runtime, live: str, phone: object
) -> None:
    from playwright.sync_api import Page, expect

    page = phone
    assert isinstance(page, Page)
    number, _plate = new_notice(prt, plate="B1234ABC")
    with session_scope(prt.sessions) as session:
        notice = session.scalars(select(Notice).where(Notice.notice_number == number)).one()
        code = notice.verification_code
        zone = "Asia/Jakarta"
        token = token_for(
            notice, prt.settings.signing_key, valid_days=prt.settings.verify_token_days, zone=zone
        )
        assert local(notice.issued_at, zone)

    page.goto(f"{live}/verifikasi")
    page.get_by_label("Kode verifikasi").fill(code.lower())
    page.get_by_role("button", name="Periksa").click()
    expect(page.locator("#verdict")).to_contain_text("ASLI")
    expect(page.locator("#verified-number")).to_have_text(number)
    _shot(page, "verify-genuine")

    page.goto(f"{live}/verifikasi/{token}")  # what the letter's QR code opens
    expect(page.locator("#verdict")).to_contain_text("ASLI")

    page.goto(f"{live}/verifikasi")
    page.get_by_label("Kode verifikasi").fill("BAYAR2JUTA")
    page.get_by_role("button", name="Periksa").click()
    expect(page.locator("#verdict")).to_contain_text("TIDAK DITEMUKAN")
    expect(page.locator("#verdict")).to_contain_text("Kode verifikasi ini tidak dikenal")
    expect(page.locator("#saluran")).to_contain_text("Satu-satunya situs resmi")
    _shot(page, "verify-forged")

    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    page.goto(f"{live}/verifikasi/{forged}")
    expect(page.locator("#verdict")).to_contain_text("Kode QR ini palsu atau telah diubah")

    page.get_by_label("Isi pesan").fill("Surat tilang anda, unduh aplikasi ETLE.apk")
    page.get_by_label("Nomor atau alamat pengirim (tidak wajib)").fill("+62 811 0000 111")
    page.get_by_role("button", name="Kirim laporan").click()
    expect(page.locator("#report-thanks")).to_be_visible()

    page.goto(f"{live}/statistik")
    expect(page.locator("h1")).to_have_text("Statistik tilang elektronik")
    _shot(page, "statistics")
    assert page.errors == []  # type: ignore[attr-defined]
