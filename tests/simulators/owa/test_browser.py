"""OWA in a real browser: headless Chromium (Debian's chromium + chromium-driver,
driven by Selenium) logs in through the form, creates "Lunch" at 12:00 today, and
the appointment is in the store and in the week view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from simulators.exchange.model import CalendarItem
from tests.browser import chromium, needs_chromium, type_into, wait_for
from tests.simulators.webdav.conftest import ALICE, DavSite

pytestmark = needs_chromium


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path / "profile") as driver:
        yield driver


def test_log_in_and_create_lunch_today(dav: DavSite, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    dav.site.set_webdav_auth("forms")
    browser.get(f"{dav.url}/owa/")
    assert "/owa/auth/logon.aspx" in browser.current_url  # redirected to the form
    type_into(browser, "username", ALICE)
    type_into(browser, "password", "alicepw")
    browser.find_element(By.ID, "rdoPrvt").click()
    browser.find_element(By.ID, "logon").click()
    assert wait_for(browser, "signed-in").text.startswith("Signed in as alice@")

    browser.find_element(By.ID, "new-appointment").click()
    assert wait_for(browser, "form-title").text == "New appointment"
    type_into(browser, "subject", "Lunch")
    type_into(browser, "start_time", "12:00")
    type_into(browser, "end_time", "13:00")
    browser.find_element(By.ID, "save").click()

    berlin = ZoneInfo("Europe/Berlin")
    today = dav.store.clock.now().astimezone(berlin).date()
    cell = wait_for(browser, "week").text
    assert "12:00–13:00 Lunch" in cell
    folder = dav.store.distinguished_folder("calendar", ALICE)
    created = [
        i
        for i in dav.store.items_in(folder)
        if isinstance(i, CalendarItem)
        and i.subject == "Lunch"
        and i.start.astimezone(berlin).date() == today
    ]
    assert len(created) == 1
    start = datetime.combine(today, time(12, 0), berlin)
    assert created[0].start == start and created[0].end == start + timedelta(hours=1)
