"""The console in a real browser: sign in and review cases with the keyboard alone.

Runs Debian's chromium through Playwright (`executable_path`), against the app served by
uvicorn on a free local port. Skipped, with the reason, where chromium is not installed
(`.ci/run` installs it). Set ETLE_CONSOLE_SCREENSHOT=path.png to keep a picture of the review
screen (the pictures of docs/review.md come from tests/api/portal/test_accessibility.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from api.runtime import Runtime
from etle.cases.models import Case, CaseStatus
from etle.db import session_scope
from etle.notices.models import Notice
from tests import factories
from tests.api.conftest import PASSWORD, sample_cases

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def browser_page() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(15_000)
        # expect() has its own 5 s default; a loaded CI machine needs the same margin.
        sync_api.expect.set_options(timeout=15_000)
        yield page
        browser.close()


def test_three_cases_reviewed_from_login_to_confirmation_with_the_keyboard(
    rt: Runtime, live_url: str, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    cases = sample_cases(rt, 4, flags=["read_needs_review"])
    with session_scope(rt.sessions) as session:
        factories.officer_with_password(session, PASSWORD, username="sari")

    page.goto(f"{live_url}/console/login")
    # The username field takes the focus by itself (autofocus); typing before the browser has
    # applied it would lose keystrokes on a loaded machine, so wait for the focus first.
    expect(page.get_by_label("Nama pengguna")).to_be_focused()
    page.keyboard.type("sari")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#waiting")).to_contain_text("4")

    def keys_ready() -> None:  # the page's key handler is installed (end of the page)
        expect(page.locator("html[data-keys=ready]")).to_have_count(1)

    keys_ready()
    page.keyboard.press("n")
    for index, case in enumerate(cases[:3]):
        expect(page.locator("#case-id")).to_have_text(f"Kasus #{case.case_id}")
        if index:
            expect(page.locator("#last")).to_have_text(
                f"Kasus #{cases[index - 1].case_id} dikonfirmasi."
            )
        # The evidence and the zoomed plate really loaded (hash-checked on the server).
        for image in ("#frame", "#plate"):
            expect(page.locator(image)).to_have_js_property("complete", True)
            assert page.locator(image).evaluate("img => img.naturalWidth") > 0
        expect(page.locator("#registry")).to_contain_text(case.brand)
        if index == 0 and os.environ.get("ETLE_CONSOLE_SCREENSHOT"):
            page.screenshot(path=os.environ["ETLE_CONSOLE_SCREENSHOT"])
        keys_ready()
        page.keyboard.press("c")

    # The fourth: reject, reason 4 (duplicate), two keys.
    expect(page.locator("#case-id")).to_have_text(f"Kasus #{cases[3].case_id}")
    keys_ready()
    page.keyboard.press("r")
    page.keyboard.press("4")
    expect(page.locator("#waiting")).to_contain_text("Tidak ada kasus")

    with session_scope(rt.sessions) as session:
        statuses = [session.get_one(Case, c.case_id).status for c in cases]
        notices = session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.case_id.in_([c.case_id for c in cases]))
        )
    assert statuses == [CaseStatus.CONFIRMED] * 3 + [CaseStatus.REJECTED]
    assert notices == 3
