"""OWA in a real browser: headless Chromium (Debian's chromium + chromium-driver,
driven by Selenium) logs in through the form, creates "Lunch" at 12:00 today, and
the appointment is in the store and in the week view."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from simulators.exchange.model import CalendarItem
from tests.simulators.webdav.conftest import ALICE, DavSite

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason="chromium not installed")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _type(driver: Any, element_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def _wait_for(driver: Any, element_id: str) -> Any:
    """The element once the page that has it has loaded (a click that submits a form
    returns before the next page is there); the page's text when it never comes."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, 15).until(
            expected_conditions.presence_of_element_located((By.ID, element_id))
        )
    except TimeoutException:
        raise AssertionError(
            f"no #{element_id} at {driver.current_url}:\n{driver.page_source[:2000]}"
        ) from None


def test_log_in_and_create_lunch_today(dav: DavSite, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    dav.site.set_webdav_auth("forms")
    browser.get(f"{dav.url}/owa/")
    assert "/owa/auth/logon.aspx" in browser.current_url  # redirected to the form
    _type(browser, "username", ALICE)
    _type(browser, "password", "alicepw")
    browser.find_element(By.ID, "rdoPrvt").click()
    browser.find_element(By.ID, "logon").click()
    assert _wait_for(browser, "signed-in").text.startswith("Signed in as alice@")

    browser.find_element(By.ID, "new-appointment").click()
    assert _wait_for(browser, "form-title").text == "New appointment"
    _type(browser, "subject", "Lunch")
    _type(browser, "start_time", "12:00")
    _type(browser, "end_time", "13:00")
    browser.find_element(By.ID, "save").click()

    berlin = ZoneInfo("Europe/Berlin")
    today = dav.store.clock.now().astimezone(berlin).date()
    cell = _wait_for(browser, "week").text
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
