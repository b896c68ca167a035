"""The site: path dispatch, journal, fault injection on the scenario clock, TLS."""

from __future__ import annotations

import http.client
import socket
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any

import freezegun
import httpx
import pytest

from simulators.exchange.ews.middleware import FaultInjector, RequestJournal
from simulators.exchange.store import ExchangeStore
from simulators.site import start_site
from tests.conftest import ALICE, BOB, SERVICE_PASSWORD, SERVICE_USER, EwsServer
from tests.simulators.ews.soap import T, calendar_view, distinguished, envelope, fault_code

VIEW = calendar_view("2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z", distinguished("calendar"))


def _poll(ews: EwsServer, mailbox: str) -> httpx.Response:
    return ews.post(envelope(VIEW, impersonate=mailbox))


def test_journal_counts_polls_per_mailbox(ews: EwsServer) -> None:
    with freezegun.freeze_time("2026-03-16 08:00:00", real_asyncio=True) as frozen:
        for _ in range(3):
            assert _poll(ews, ALICE).status_code == 200
            frozen.tick(timedelta(seconds=30))
        _poll(ews, BOB)
        ews.post(envelope(VIEW, impersonate="carol@w03ex07.net"))

    journal = ews.site.journal
    alice = journal.entries(operation="FindItem", mailbox=ALICE)
    assert [e.at.strftime("%H:%M:%S") for e in alice] == ["08:00:00", "08:00:30", "08:01:00"]
    assert journal.count(operation="FindItem", mailbox=BOB) == 1
    assert journal.count(status=500) == 1
    assert journal.entries(status=500)[0].fault == "ErrorImpersonateUserDenied"
    assert journal.count(since=datetime(2026, 3, 16, 8, 0, 30, tzinfo=UTC)) == 4
    assert journal.count(until=datetime(2026, 3, 16, 8, 0, 30, tzinfo=UTC)) == 1
    first = alice[0]
    assert (first.method, first.path, first.account, first.impersonated, first.service) == (
        "POST",
        "/EWS/Exchange.asmx",
        SERVICE_USER,
        ALICE,
        "ews",
    )
    journal.clear()
    assert len(journal) == 0


def test_journal_names_the_mailbox_read_without_impersonation(ews: EwsServer) -> None:
    ews.post(
        envelope(
            calendar_view(
                "2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z", distinguished("calendar", BOB)
            )
        )
    )
    entry = ews.site.journal.entries()[-1]
    assert (entry.mailbox, entry.impersonated) == (BOB, None)


def test_http_503_window_on_the_scenario_clock(ews: EwsServer) -> None:
    with freezegun.freeze_time("2026-03-16 12:30:00", real_asyncio=True) as frozen:
        window = ews.site.faults.add("ews", "http_503", timedelta(minutes=5))
        first = _poll(ews, ALICE)
        frozen.tick(timedelta(minutes=4, seconds=59))
        last = _poll(ews, ALICE)
        frozen.tick(timedelta(seconds=1))
        after = _poll(ews, ALICE)

    assert window.end == datetime(2026, 3, 16, 12, 35, tzinfo=UTC)
    assert (first.status_code, first.headers["Retry-After"]) == (503, "300")
    assert b"HTTP Error 503. The service is unavailable." in first.content
    assert (last.status_code, last.headers["Retry-After"]) == (503, "1")
    assert after.status_code == 200
    assert [e.fault for e in ews.site.journal.entries()] == [
        "ServiceUnavailable",
        "ServiceUnavailable",
        None,
    ]


def test_busy_window_answers_error_server_busy_with_back_off(ews: EwsServer) -> None:
    with freezegun.freeze_time("2026-03-16 12:30:00", real_asyncio=True):
        ews.site.faults.add("ews", "busy", timedelta(seconds=90))
        response = _poll(ews, ALICE)
    assert response.status_code == 500
    assert fault_code(response.content) == "ErrorServerBusy"
    assert (
        f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">90000</t:Value>'.encode()
        in response.content
    )


def test_busy_window_reaches_exchangelib_as_error_server_busy(ews: EwsServer) -> None:
    from exchangelib.errors import ErrorServerBusy

    ews.site.faults.add("ews", "busy", timedelta(minutes=1))
    with pytest.raises(ErrorServerBusy) as raised:
        ews.account(ALICE).root  # noqa: B018
    assert raised.value.back_off is not None and 55 <= raised.value.back_off <= 60


def test_fault_windows_are_per_service_and_validated(ews: EwsServer) -> None:
    ews.site.faults.unavailable("webdav", timedelta(minutes=5))
    assert _poll(ews, ALICE).status_code == 200
    with pytest.raises(ValueError, match="unknown fault kind 'meteor' for ews; known: "):
        ews.site.faults.add("ews", "meteor", timedelta(minutes=1))
    with pytest.raises(ValueError, match="positive duration"):
        ews.site.faults.add("ews", "busy", timedelta(0))


def _toy_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def test_another_front_end_can_be_mounted_beside_ews(ews: EwsServer) -> None:
    saved = list(ews.site.dispatcher.mounts)  # the shared site's own front ends
    ews.site.mount("/exchange/", _toy_app, "webdav")
    try:
        response = ews.post(b"", method="PROPFIND", path="/Exchange/alice/Calendar/")
        root = ews.post(b"", method="GET", path="/EXCHANGE")
        ews.site.faults.add("webdav", "http_503", timedelta(minutes=1))
        down = ews.post(b"", method="GET", path="/exchange/x")
    finally:
        ews.site.dispatcher.mounts = saved
    assert response.text == "/Exchange|/alice/Calendar/"
    assert root.text == "/EXCHANGE|"
    assert down.status_code == 503
    assert _poll(ews, ALICE).status_code == 200
    assert [e.service for e in ews.site.journal.entries()] == ["webdav", "webdav", "webdav", "ews"]


def test_keep_alive_connection_is_reused(ews: EwsServer) -> None:
    auth = httpx.BasicAuth(SERVICE_USER, SERVICE_PASSWORD)
    connection = http.client.HTTPConnection("127.0.0.1", ews.site.port, timeout=5)
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    request = httpx.Request("POST", ews.url, headers=headers)
    headers["Authorization"] = next(auth.auth_flow(request)).headers["Authorization"]
    sockets = []
    for _ in range(3):
        connection.request("POST", "/EWS/Exchange.asmx", envelope(VIEW, impersonate=ALICE), headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        sockets.append(connection.sock)
    connection.close()
    assert sockets[0] is sockets[1] is sockets[2]


def test_https_certificate_is_issued_for_the_loopback_address(ews_tls: EwsServer) -> None:
    assert ews_tls.site.ca_cert_pem is not None
    context = ssl.create_default_context(cafile=ews_tls.site.ca_cert_pem)
    with (
        socket.create_connection(("127.0.0.1", ews_tls.site.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        names = tls.getpeercert()["subjectAltName"]
    assert ("IP Address", "127.0.0.1") in names
    assert ews_tls.post(envelope(VIEW, impersonate=ALICE)).status_code == 200
    with pytest.raises(httpx.HTTPError):
        httpx.get(ews_tls.site.url + "/EWS/Exchange.asmx", verify=True, timeout=5)


def test_a_stopped_site_refuses_connections() -> None:
    site = start_site(ExchangeStore(), journal=RequestJournal(), faults=FaultInjector())
    port = site.port
    assert site.url == f"http://127.0.0.1:{port}"
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    site.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_chunked_request_body_is_read(ews: EwsServer) -> None:
    payload = envelope(VIEW, impersonate=ALICE).encode()

    def chunks() -> Any:
        for start in range(0, len(payload), 100):
            yield payload[start : start + 100]

    with httpx.Client(auth=(SERVICE_USER, SERVICE_PASSWORD), timeout=10) as client:
        response = client.post(
            ews.url, content=chunks(), headers={"Content-Type": "text/xml; charset=utf-8"}
        )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 200
    assert b"NoError" in response.content


def _broken_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("a bug in a front end")


def test_a_crashing_front_end_answers_500_without_traceback(
    ews: EwsServer, caplog: pytest.LogCaptureFixture
) -> None:
    saved = list(ews.site.dispatcher.mounts)
    ews.site.mount("/owa/", _broken_app, "owa")
    try:
        response = ews.post(b"", method="GET", path="/owa/")
    finally:
        ews.site.dispatcher.mounts = saved
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert ews.site.journal.entries()[-1].fault == "InternalServerError"
    assert "a bug in a front end" in caplog.text
