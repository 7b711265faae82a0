"""Accessibility, checked by axe-core in a real browser: every portal page (for every citizen,
on any phone) and the console's sign-in, idle and case views (officers at work all day).

axe-core (bundled by `axe-playwright-python`) runs the WCAG 2.0/2.1 A and AA rules (contrast,
labels, landmarks, focus order, language of the page) on each page as Debian's chromium renders
it; a serious or critical violation fails the test with the rule, the element and the fix axe
suggests. Skipped, with the reason, where chromium is missing (`.ci/run` installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.app import create_app
from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings
from etle.cameras.models import Camera
from etle.cases.models import Case
from etle.db import create_engine, session_scope
from etle.frames.models import Frame
from etle.migrate import upgrade
from etle.notices.models import Notice
from etle.notices.verify import token_for
from etle.officers.models import Role
from tests import factories
from tests.api.conftest import PASSWORD, sample_cases
from tests.api.portal.test_browser import PHONE
from tests.api.test_console_browser import CHROMIUM, CHROMIUM_ARGS
from tests.api.test_manual_read_api import plate_less_sample_case
from tests.conftest import PORTAL_URL
from tests.live_server import serving
from tests.portal_fixtures import BANK_SECRET
from tests.portal_helpers import callback, new_notice

pytestmark = pytest.mark.browser
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}
NIK = "3171011503850007"


@pytest.fixture
def a11y_rt(tmp_path: Path) -> Iterator[Runtime]:
    """One database is enough: the pages are the same on every backend (SQLite here)."""
    url = f"sqlite:///{tmp_path / 'etle.db'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    rt = build_runtime(
        load_app_settings(
            data_dir=tmp_path / "data",
            database_url=url,
            queue_url=None,
            portal_url=PORTAL_URL,
            payment_callback_secret=BANK_SECRET,
        )
    )
    yield rt
    rt.close()


@pytest.fixture
def live(a11y_rt: Runtime) -> Iterator[str]:
    with serving(create_app(a11y_rt)) as url:
        yield url


@pytest.fixture
def axe_browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
    pytest.importorskip("axe_playwright_python", reason="pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser: Any, viewport: dict[str, int]) -> Any:
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(15_000)
    return page


def problems(page: Any) -> list[str]:
    """axe-core's serious and critical WCAG A/AA violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("load")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.response["passes"], f"axe-core checked nothing on {page.url}"
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            found.append(
                f"{page.url}: {violation['id']} ({violation['impact']}) at {node['target']}: "
                f"{node.get('failureSummary', '').splitlines()[-1].strip()}"
            )
    return found


def test_every_portal_page_passes_axe_on_a_phone(
    a11y_rt: Runtime, live: str, axe_browser: Any
) -> None:
    prt = a11y_rt
    number, plate = new_notice(prt, plate="B1234ABC", speeding=(87.0, 60))
    with session_scope(prt.sessions) as session:
        notice = session.scalars(select(Notice).where(Notice.notice_number == number)).one()
        code = notice.verification_code
        token = token_for(notice, prt.settings.signing_key, valid_days=30, zone="Asia/Jakarta")
    page = _page(axe_browser, PHONE)
    found: list[str] = []

    for path in ("/", "/tilang", "/tilang?lang=en", "/verifikasi", "/statistik"):
        page.goto(live + path)
        found += problems(page)
    page.goto(f"{live}/verifikasi?kode={code}")  # genuine
    found += problems(page)
    page.goto(f"{live}/verifikasi?kode=BAYAR2JUTA")  # unknown: the scam warning
    found += problems(page)
    page.goto(f"{live}/verifikasi/{token}")  # what the QR code opens
    found += problems(page)
    page.goto(f"{live}/verifikasi/{token[:-4]}AAAA")  # a forged QR code
    found += problems(page)

    # A missed lookup shows the form again with its error.
    page.goto(f"{live}/tilang")
    page.locator("#notice_number").fill("26110000000000")
    page.locator("#plate").fill("B 1 A")
    page.locator("form[action='/tilang'] button[type=submit]").first.click()
    found += problems(page)

    # The notice, then the answer and the payment code, then paid.
    page.goto(f"{live}/tilang")
    page.locator("#notice_number").fill(number)
    page.locator("#plate").fill(plate)
    page.locator("form[action='/tilang'] button[type=submit]").first.click()
    page.locator("#notice-number").wait_for()
    found += problems(page)
    page.goto(page.url + "?lang=en")
    found += problems(page)
    page.goto(page.url.split("?")[0] + "?lang=id")
    page.locator("#other-driver summary").click()
    page.get_by_label("Nama lengkap pengemudi").fill("Agus Wijaya")
    page.get_by_label("NIK pengemudi (16 angka)").fill(NIK)
    page.get_by_label("Alamat pengemudi").fill("Jl. Kramat Raya 5, Jakarta Pusat")
    page.locator("#send-driver").click()
    page.locator("#payment-code").wait_for()
    found += problems(page)
    payment_code = page.locator("#payment-code").get_attribute("data-code")
    with httpx.Client(base_url=live) as bank:
        paid = callback(
            bank,  # type: ignore[arg-type]
            {
                "transaction_id": "BRIVA-1",
                "payment_code": payment_code,
                "amount_rp": 500_000,
                "paid_at": "2026-11-25T10:15:00+07:00",
                "channel": "mobile",
            },
        )
    assert paid.status_code == 200, paid.text
    page.reload()
    page.locator("#paid").wait_for()
    found += problems(page)

    # The vehicle lookup: a list of the vehicle's notices to choose from.
    second, _ = new_notice(prt, plate="D1567XY")
    assert second
    page.goto(f"{live}/tilang/surat")
    found += problems(page)
    assert found == [], "\n".join(found)


def test_the_console_sign_in_idle_and_case_views_pass_axe(
    a11y_rt: Runtime, live: str, axe_browser: Any
) -> None:
    """Two speeding cases: the first with its measured speed above the camera's limit (the
    officer may confirm it), the second without a measured speed (confirming is refused, and
    the page says why instead of offering the button); then a case that needs its plate keyed."""
    prt = a11y_rt
    first, second = sample_cases(prt, 2, violation_code="speeding")
    with session_scope(prt.sessions) as session:
        case = session.get_one(Case, first.case_id)
        session.get_one(Frame, case.evidence_frame_id).measured_speed_kmh = 87.5
        session.get_one(Camera, case.camera_id).speed_limit_kmh = 60
        factories.officer_with_password(session, PASSWORD, username="sari", role=Role.REVIEWER)
    page = _page(axe_browser, {"width": 1440, "height": 900})
    found: list[str] = []
    page.goto(f"{live}/console/login")
    found += problems(page)
    page.locator("input[name=username]").fill("sari")
    page.locator("input[name=password]").fill("wrong-password")
    page.locator("button[type=submit]").click()
    found += problems(page)  # the sign-in error
    page.locator("input[name=username]").fill("sari")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{live}/console")
    found += problems(page)  # idle: how many wait
    page.locator("form[action='/console/claim'] button").click()
    page.locator("#do-confirm").wait_for()
    found += problems(page)  # a case to confirm
    _shot(page, "review-console.png")
    for panel in ("reject", "correct", "escalate"):
        page.locator(f"button[data-panel={panel}]").click()
        found += problems(page)
    page.locator("button[data-panel=reject]").click()
    page.locator("input[name=reason][value=no_violation]").check()
    page.locator("#do-reject").click()
    page.locator("#confirm-refused").wait_for()
    assert page.locator("#do-confirm").count() == 0
    found += problems(page)  # a case that cannot be confirmed, and what became of the last
    _shot(page, "review-console-refused.png")
    assert second.case_id != first.case_id
    # A frame no plate was read on: the officer marks and keys it.
    plate_less_sample_case(prt, 2)
    page.locator("button[data-panel=reject]").click()
    page.locator("input[name=reason][value=no_violation]").check()
    page.locator("#do-reject").click()
    page.locator("#open-key").wait_for()
    found += problems(page)
    page.locator("#open-key").click()
    found += problems(page)
    assert found == [], "\n".join(found)


def _shot(page: Any, name: str) -> None:
    """ETLE_CONSOLE_SCREENSHOTS=docs keeps the console pictures of docs/review.md."""
    folder = os.environ.get("ETLE_CONSOLE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name))
