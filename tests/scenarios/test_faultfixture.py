"""The plugin's ``faults`` fixture: the catalogue on the shared environment, real clients."""

from __future__ import annotations

import smtplib
import socket
import ssl
from datetime import timedelta

import httpx
import pytest

from scenarios.faultfixture import Faults
from scenarios.run.environment import Environment


def ews_get(env: Environment) -> httpx.Response:
    verify = ssl.create_default_context(cafile=env.ca_file) if env.ca_file else True
    return httpx.get(env.ews_url, verify=verify, timeout=10)


def test_an_http_fault_acts_and_is_named(harness_environment: Environment, faults: Faults) -> None:
    faults.add("ews", "http_503", duration="1m", retry_after=7, first=1)
    first, second = ews_get(harness_environment), ews_get(harness_environment)
    assert (first.status_code, first.headers["Retry-After"]) == (503, "7")
    assert second.status_code == 401  # the real EWS again: no credentials sent
    assert faults.applied() == ["ews:http_503"]


def test_refused_shuts_the_site_at_once_and_stop_opens_it(
    harness_environment: Environment, faults: Faults
) -> None:
    site = harness_environment.site
    faults.add("webdav", "unavailable", duration=timedelta(minutes=1))
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((site.host, site.port), timeout=2)
    faults.clear()
    assert ews_get(harness_environment).status_code == 401


def test_smtp_fault_and_bad_fields(harness_environment: Environment, faults: Faults) -> None:
    faults.add("smtp", "smtp_421", duration="1m")
    sink = harness_environment.sink
    with smtplib.SMTP(sink.host("smtp"), sink.port("smtp"), timeout=10) as client:
        client.ehlo("test")
        code, _ = client.mail("a@domain.net")
    assert code == 421
    with pytest.raises(ValueError, match="does not take latency"):
        faults.add("smtp", "smtp_421", latency="200ms")
