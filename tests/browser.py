"""Headless Chromium for tests: Debian's chromium and chromium-driver via Selenium.

Tests that use it skip with "chromium not installed" where the browser or its
driver is missing (``.ci/run`` installs both)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None, reason="chromium not installed"
)
# No background traffic: this machine's network is closed, and refusals cost time.
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


@contextmanager
def chromium(profile: Path, *extra_flags: str) -> Iterator[Any]:
    """A Selenium driver on a fresh profile; quits at the end."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, *extra_flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def type_into(driver: Any, element_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def click(driver: Any, element_id: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, element_id).click()


def wait_for(driver: Any, element_id: str) -> Any:
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
