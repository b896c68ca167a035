"""The live view in headless Chromium: ``harness serve`` and ``harness engine`` as real
processes in real time; the open dashboard shows the presence the engine sets, the
timeline draws it, and the inbox shows a mail sent over SMTP."""

from __future__ import annotations

import json
import signal
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import chromium, needs_chromium
from tests.scenarios.commands.test_serve import wait_for

# The engine polls every 2 s; Lunch starts 15 s after serve started and was created
# then (ahead by more than the 10 s lead time, so R4 honours it). With catch_up the
# engine sets it even if it comes up after the start minute on a slow machine.
SEED = """\
name: Live view in a browser
timezone: Europe/Berlin
start: "{start}"
engine: {{poll_interval: 2s, lead_time: 10s, catch_up: true}}
users:
  - {{extension: "100", name: Anna Berg, email: user1@domain.net, auto_back_to_office: true}}
  - {{extension: "101", name: "Ben <b>Krause</b>", email: user2@domain.net}}
appointments:
  - {{mailbox: user1@domain.net, subject: Lunch, start: "{lunch_start}", end: "{lunch_end}",
     created: "{created}"}}
"""


def _cli(*args: str, log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "scenarios.commands.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    now = datetime.now(UTC).replace(microsecond=0)
    fmt = "%Y-%m-%d %H:%M:%SZ"
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        SEED.format(
            start=now.strftime(fmt),
            lunch_start=(now + timedelta(seconds=15)).strftime(fmt),
            lunch_end=(now + timedelta(hours=1)).strftime(fmt),
            created=now.strftime(fmt),
        ),
        encoding="utf-8",
    )
    ready = tmp_path / "ready.json"
    with (tmp_path / "serve.log").open("wb") as log:
        proc = _cli("serve", "--seed", str(seed), "--ready-file", str(ready), log=log)
    try:
        wait_for(lambda: ready.exists() or proc.poll() is not None)
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        yield json.loads(ready.read_text(encoding="utf-8"))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, (tmp_path / "serve.log").read_text()


def send_voicemail_mail(ready: dict[str, str]) -> None:
    host, port = ready["smtp"].rsplit(":", 1)
    message = EmailMessage()
    message["From"], message["To"] = "pbx@domain.net", "user1@domain.net"
    message["Subject"] = "Voicemail from +49 30 555 <0190>"
    message.set_content("You have a new voicemail (3 s).")
    message.add_attachment(
        b"RIFF0000WAVEfmt ", maintype="audio", subtype="wav", filename="voicemail.wav"
    )
    with smtplib.SMTP(host, int(port), timeout=10) as client:
        client.starttls(context=ssl.create_default_context(cafile=ready["ca_cert"]))
        client.login("OSOMX@domain.net", "secret")
        client.send_message(message)


def texts(driver: Any, selector: str) -> list[str]:
    """The text of every element matching ``selector``, read in one go in the page (it
    redraws its tables every 2 s, so elements found one call earlier may be gone)."""
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)",
            selector,
        )
    )


def cell(driver: Any, extension: str, name: str) -> str:
    found = texts(driver, f'#users tr[data-extension="{extension}"] td.{name}')
    return found[0] if found else ""


def lane_has(driver: Any, extension: str, selector: str) -> bool:
    return bool(texts(driver, f'#timeline svg g.tl-lane[data-user="{extension}"] {selector}'))


@needs_chromium
def test_dashboard_shows_the_engines_presence_change_and_the_inbox(
    served: dict[str, str], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    with chromium(tmp_path / "profile", "--window-size=1400,2000") as driver:
        driver.get(served["dashboard"])
        wait_for(lambda: cell(driver, "100", "presence") == "office", timeout=20)
        names = [
            e.text for e in driver.find_elements(By.CSS_SELECTOR, "#users tbody td:nth-child(2)")
        ]
        assert names == ["Anna Berg", "Ben <b>Krause</b>"]  # shown as text, not markup
        wait_for(lambda: lane_has(driver, "100", 'g.tl-version[data-state="current"]'), 10)

        with (tmp_path / "engine.log").open("wb") as log:
            engine = _cli("engine", "--config", served["engine_config"], log=log)
        try:
            # The page keeps polling the control API: the engine's change shows up.
            wait_for(lambda: cell(driver, "100", "presence") == "lunch", timeout=40)
            assert cell(driver, "100", "set-by") == "engine"
            assert cell(driver, "100", "return-time")  # the appointment's end
            wait_for(lambda: lane_has(driver, "100", 'g.tl-presence[data-status="lunch"]'), 10)
            assert lane_has(driver, "100", "path.tl-ok, line.tl-ok")  # the engine's polls
            assert cell(driver, "101", "presence") == "office"
            requests = " ".join(texts(driver, "#requests tbody td"))
            assert "FindItem" in requests and "/api/users/100/presence" in requests

            send_voicemail_mail(served)
            wait_for(lambda: texts(driver, "#messages tbody td.subject"), timeout=10)
            assert texts(driver, "#messages tbody td.subject") == [
                "Voicemail from +49 30 555 <0190>"
            ]
            driver.execute_script("document.querySelector('#messages tbody tr').click()")
            wait_for(lambda: texts(driver, "#message ul.attachments a"), 10)
            message = driver.find_element(By.ID, "message").text
            assert "You have a new voicemail (3 s)." in message
            link = driver.find_element(By.CSS_SELECTOR, "#message ul.attachments a")
            assert link.text == "voicemail.wav"
            download = httpx.get(link.get_attribute("href"))
            assert download.content == b"RIFF0000WAVEfmt "
            wait_for(lambda: lane_has(driver, "100", "g.tl-mailmark"), 10)
            driver.save_screenshot(str(tmp_path / "dashboard.png"))
            problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert not problems
        finally:
            engine.send_signal(signal.SIGTERM)
            assert engine.wait(timeout=15) == 0, (tmp_path / "engine.log").read_text()
