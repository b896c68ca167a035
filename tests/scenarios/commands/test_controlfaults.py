"""``/control/faults`` of ``harness serve``: the catalogue's faults act for real on every
served service (EWS, SMTP, the PBX API, refused ports), as real clients see them."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from scenarios.commands.served import Served
from tests.scenarios.commands.test_control import check, running, send_mail

__all__ = ["running"]  # the served harness of test_control's seed, one per module

DEADLINE = 15.0


@pytest.fixture
def ready(running: tuple[Served, dict[str, str]]) -> Iterator[dict[str, str]]:
    yield running[1]
    running[0].site.faults.clear()


@pytest.fixture
def control(ready: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ready["dashboard"], timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def openapi(running: tuple[Served, dict[str, str]]) -> dict[str, Any]:
    return httpx.get(running[1]["control"] + "openapi.json").json()


def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (polling every 30 ms), failing after DEADLINE seconds."""
    end = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.03)


def refused(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def host_port(url: str) -> str:
    return httpx.URL(url).host + ":" + str(httpx.URL(url).port)


def test_a_fault_posted_with_triggers_is_described_and_listed(
    control: httpx.Client, openapi: dict[str, Any]
) -> None:
    spec = {
        "service": "ews",
        "kind": "ErrorServerBusy",
        "duration": "5m",
        "first": 2,
        "mailbox": "User1@domain.net",
        "back_off": "20s",
    }
    created = check(openapi, "/control/faults", "POST", control.post("/control/faults", json=spec))
    assert (created["kind"], created["first"], created["mailbox"], created["back_off"]) == (
        "ErrorServerBusy",
        2,
        "user1@domain.net",
        20.0,
    )
    listed = check(openapi, "/control/faults", "GET", control.get("/control/faults"))
    assert [f["id"] for f in listed["faults"]] == [created["id"]]


def test_a_fault_without_a_duration_holds_until_cleared(
    control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    created = check(
        openapi,
        "/control/faults",
        "POST",
        control.post("/control/faults", json={"service": "smtp", "kind": "smtp_451", "every": 1}),
    )
    assert datetime.fromisoformat(created["end"]) - datetime.fromisoformat(
        created["start"]
    ) >= timedelta(days=3000)
    for subject in ("One", "Two"):
        with pytest.raises(smtplib.SMTPDataError):
            send_mail(ready, "user1@domain.net", subject)
    control.delete("/control/faults")
    send_mail(ready, "user1@domain.net", "Cleared")
    unknown = control.post("/control/faults", json={"service": "ews", "kind": "nonsense"})
    assert unknown.status_code == 400 and "nonsense" in unknown.json()["error"]


def test_smtp_faults_act_on_the_served_sink(
    control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    control.post(
        "/control/faults",
        json={"service": "smtp", "kind": "smtp_451", "duration": "5m", "first": 1},
    )
    with pytest.raises(smtplib.SMTPDataError) as raised:
        send_mail(ready, "user1@domain.net", "Refused once")
    assert raised.value.smtp_code == 451
    send_mail(ready, "user1@domain.net", "Accepted next")  # first 1 is over
    body = check(openapi, "/control/faults", "GET", control.get("/control/faults"))
    assert [(a["fault"], a["stage"]) for a in body["applied"]] == [("smtp:smtp_451", "DATA")]
    assert body["faults"][0]["acted"] == 1
    smtp = control.get("/control/activity", params={"service": "smtp"}).json()["activity"]
    assert [(r["fault"], r["status"], r["mailbox"]) for r in smtp if r["fault"]] == [
        ("smtp:smtp_451", 451, "user1@domain.net")
    ]


def test_pbx_faults_act_on_the_served_api(
    served: Served, control: httpx.Client, ready: dict[str, str]
) -> None:
    control.post(
        "/control/faults",
        json={"service": "pbx", "kind": "slow", "duration": "5m", "latency": "300ms"},
    )
    began = time.monotonic()
    assert httpx.get(ready["pbx"] + "api/users/100/presence", timeout=10).status_code == 200
    assert time.monotonic() - began >= 0.3
    control.delete("/control/faults")
    control.post(
        "/control/faults",
        json={"service": "pbx", "kind": "unreachable", "duration": "5m", "mailbox": "100"},
    )
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(ready["pbx"] + "api/users/100/presence", timeout=0.5)
    assert httpx.get(ready["pbx"] + "api/users/101/presence", timeout=10).status_code == 200
    entry = [e for e in served.pbx_journal.entries() if e.injected][-1]
    assert (entry.injected, entry.status, entry.mailbox) == (
        "pbx:unreachable",
        0,
        "user1@domain.net",
    )


@pytest.fixture
def served(running: tuple[Served, dict[str, str]]) -> Served:
    return running[0]


@pytest.mark.parametrize("service", ["pbx", "smtp", "ews"])
def test_refused_shuts_the_port_and_opens_it_again(
    control: httpx.Client, ready: dict[str, str], service: str
) -> None:
    address = {
        "pbx": host_port(ready["pbx"]),
        "smtp": ready["smtp"],
        "ews": host_port(ready["ews"]),
    }[service]
    fault = control.post("/control/faults", json={"service": service, "duration": "5m"}).json()
    assert fault["kind"] == "refused"  # the default, and what `unavailable` means
    until(lambda: refused(address))
    control.delete("/control/faults")
    until(lambda: not refused(address))
    if service == "ews":  # the site is back with the same certificate
        tls = ssl.create_default_context(cafile=ready["ca_cert"])
        assert httpx.get(ready["owa"], verify=tls).status_code < 500
