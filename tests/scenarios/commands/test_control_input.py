"""The control API of ``harness serve`` with bad input: a 400 that says why, never a 500."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from cheroot import wsgi

from scenarios.commands.control import ControlApi
from simulators.http_gateway import guard
from tests.conftest import EwsServer


@pytest.fixture
def control(ews: EwsServer) -> Iterator[httpx.Client]:
    server = guard(wsgi.Server(("127.0.0.1", 0), ControlApi(ews.site, {}), numthreads=2))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.bind_addr[1]}/control/"
    with httpx.Client(base_url=base, timeout=10) as client:
        yield client
    server.stop()
    thread.join(5)


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("2026-01-05T10:00:00", "since: needs a UTC offset, e.g. +01:00"),  # naive: was a 500
        ("0001-01-01T00:00:00+05:00", "since: must lie between 1970 and 4500"),
        ("9999-12-31T23:59:59-05:00", "since: must lie between 1970 and 4500"),
        ("yesterday", "since: not an ISO 8601 time"),
    ],
)
def test_journal_since(control: httpx.Client, since: str, message: str) -> None:
    response = control.get("journal", params={"since": since})
    assert response.status_code == 400 and response.json()["error"] == message


def test_journal_since_with_an_offset_works(control: httpx.Client) -> None:
    response = control.get("journal", params={"since": "2026-01-05T10:00:00+01:00"})
    assert response.status_code == 200 and "requests" in response.json()


def test_a_fault_lasting_99999999999_hours_is_a_400(control: httpx.Client) -> None:
    response = control.post("faults", json={"service": "ews", "duration": "99999999999h"})
    assert response.status_code == 400 and "far too long" in response.json()["error"]
