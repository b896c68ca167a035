"""The control API of ``harness serve`` with bad input: a 400 that says why, never a 500
(the fixtures are test_control's: the served simulators, in process)."""

from __future__ import annotations

import httpx
import pytest

from tests.scenarios.commands.test_control import control, ready, running, served

__all__ = ["control", "ready", "running", "served"]  # fixtures used here


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("2026-01-05T10:00:00", "since: needs a UTC offset"),  # naive: was a 500
        ("0001-01-01T00:00:00+05:00", "since: not an ISO 8601 time"),  # overflowed
        ("9999-12-31T23:59:59-05:00", "since: not an ISO 8601 time"),
        ("yesterday", "since: not an ISO 8601 time"),
    ],
)
def test_journal_since(control: httpx.Client, since: str, message: str) -> None:
    response = control.get("/control/journal", params={"since": since})
    assert response.status_code == 400 and response.json()["error"].startswith(message)


def test_journal_since_with_an_offset_works(control: httpx.Client) -> None:
    response = control.get("/control/journal", params={"since": "2026-01-05T10:00:00+01:00"})
    assert response.status_code == 200


@pytest.mark.parametrize("duration", ["99999999999h", "9" * 5000 + "s"])
def test_a_fault_lasting_for_ever_is_a_400(control: httpx.Client, duration: str) -> None:
    response = control.post("/control/faults", json={"service": "ews", "duration": duration})
    assert response.status_code == 400 and "duration" in response.json()["error"]
