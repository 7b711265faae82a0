"""The console in a real browser: mark a plate box and key the plate with the keyboard alone,
once from the machine's candidate box, once by drawing the box. Set
ETLE_CONSOLE_SCREENSHOT=path.png to keep a picture of the marking screen
(docs/review-console-needs-plate.png is made this way)."""

from __future__ import annotations

import os

import pytest

from api.runtime import Runtime
from etle.cases.models import Case, CaseStatus
from etle.db import session_scope
from etle.frames.models import PlateRead
from tests import factories
from tests.api.conftest import PASSWORD
from tests.api.test_console_browser import browser_page  # noqa: F401 (a fixture)
from tests.api.test_manual_read_api import plate_less_sample_case

pytestmark = pytest.mark.browser


def test_a_plate_is_marked_and_keyed_with_the_keyboard(
    rt: Runtime,
    live_url: str,
    browser_page: object,  # noqa: F811
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    first_id, box, plate = plate_less_sample_case(rt)
    second_id, _, second_plate = plate_less_sample_case(rt, 1)
    with session_scope(rt.sessions) as session:
        factories.officer_with_password(session, PASSWORD, username="dewi")

    page.goto(f"{live_url}/console/login")
    expect(page.get_by_label("Nama pengguna")).to_be_focused()
    page.keyboard.type("dewi")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    def keys_ready() -> None:
        expect(page.locator("html[data-keys=ready]")).to_have_count(1)

    keys_ready()
    page.keyboard.press("n")
    expect(page.locator("#case-id")).to_have_text(f"Kasus #{first_id}")
    expect(page.locator("#no-read")).to_contain_text("Plat tidak ditemukan")
    keys_ready()
    # K opens the panel, 1 takes the detector's box, then the plate is typed where it lands.
    page.keyboard.press("k")
    page.keyboard.press("1")
    expect(page.locator("#key-input")).to_be_focused()
    expect(page.locator("#box-chosen")).to_be_visible()
    page.keyboard.type(plate)
    if os.environ.get("ETLE_CONSOLE_SCREENSHOT"):
        page.screenshot(path=os.environ["ETLE_CONSOLE_SCREENSHOT"])
    page.keyboard.press("Enter")

    # The next case: draw the box instead (D, arrows move it, Shift+arrows resize, Enter).
    expect(page.locator("#case-id")).to_have_text(f"Kasus #{second_id}")
    expect(page.locator("#last")).to_contain_text(f"Kasus #{first_id}")
    keys_ready()
    page.keyboard.press("k")
    page.keyboard.press("d")
    drawn_before = page.locator("#box-value").input_value()
    for key in ("ArrowRight", "ArrowRight", "ArrowDown", "Shift+ArrowRight"):
        page.keyboard.press(key)
    drawn = page.locator("#box-value").input_value()
    assert drawn != drawn_before
    page.keyboard.press("Enter")
    expect(page.locator("#key-input")).to_be_focused()
    page.keyboard.type(second_plate)
    page.keyboard.press("Enter")
    expect(page.locator("#waiting")).to_contain_text("Tidak ada kasus")

    with session_scope(rt.sessions) as session:
        first = session.get_one(Case, first_id)
        second = session.get_one(Case, second_id)
        assert (first.status, first.plate) == (CaseStatus.PENDING_SECOND_REVIEW, plate)
        assert session.get_one(PlateRead, first.plate_read_id).box == box
        assert second.status == CaseStatus.PENDING_SECOND_REVIEW
        assert session.get_one(PlateRead, second.plate_read_id).box == [
            int(v) for v in drawn.split(",")
        ]
