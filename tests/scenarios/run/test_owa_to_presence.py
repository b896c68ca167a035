"""Support's test, end to end: a person creates "Lunch" at 12:00 in Outlook Web
Access (headless Chromium, the scenario clock standing at 11:52), and the engine
sets the user's presence to lunch at 12:00 on that clock, over EWS and WebDAV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scenarios.format.loader import parse_scenario
from scenarios.run.environment import Environment
from scenarios.run.runner import run_scenario
from tests.browser import chromium, click, needs_chromium, type_into, wait_for

pytestmark = needs_chromium

SCENARIO = """
name: Lunch created in OWA sets presence at its start
timezone: Europe/Berlin
start: "2026-01-05 11:50"
end: "2026-01-05 13:05"
exchange: {webdav_auth: forms}
users:
  - {extension: "100", name: Anna Berg, email: user1@domain.net, password: annapw,
     auto_back_to_office: true}
expect_transitions:
  - {user: "100", status: lunch, between: ["12:00:00", "12:00:59"], return_time: "13:00"}
  - {user: "100", status: office, between: ["13:00:00", "13:00:59"]}
"""
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def plain_http() -> Iterator[Environment]:
    # Plain HTTP: the browser then needs no trust in the generated CA.
    env = Environment(tls=False)
    yield env
    env.close()


@pytest.mark.parametrize("variant", ["ews", "webdav"])
def test_lunch_created_in_owa_sets_presence_at_noon(
    plain_http: Environment, tmp_path: Path, variant: str
) -> None:
    scenario = parse_scenario(SCENARIO)
    seen: dict[str, Any] = {}

    def person_creates_lunch_in_owa() -> None:
        with chromium(tmp_path / "profile") as browser:
            browser.get(plain_http.site.url + "/owa/")
            type_into(browser, "username", "user1@domain.net")
            type_into(browser, "password", "annapw")
            click(browser, "logon")
            wait_for(browser, "signed-in")
            click(browser, "new-appointment")
            wait_for(browser, "form-title")
            type_into(browser, "subject", "Lunch")
            type_into(browser, "start_time", "12:00")
            type_into(browser, "end_time", "13:00")
            click(browser, "save")
            seen["week"] = wait_for(browser, "week").text

    at = datetime(2026, 1, 5, 11, 52, tzinfo=BERLIN).astimezone(UTC)
    result = run_scenario(scenario, variant, plain_http, {at: person_creates_lunch_in_owa})
    assert result.error is None
    assert "12:00–13:00 Lunch" in seen["week"]
    assert result.failures == []
    (lunch, office) = result.transitions()
    assert (str(lunch.new_status), lunch.at.astimezone(BERLIN).strftime("%H:%M:%S")) == (
        "lunch",
        "12:00:00",
    )
    assert str(office.new_status) == "office"
    owa = plain_http.site.journal.entries(service="owa")
    assert any(e.method == "POST" for e in owa)  # the log-in and the saved form
