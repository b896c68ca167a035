"""Restarting the simulators as a restarted Exchange server: the same addresses and
certificates afterwards, the store kept, connections refused while down and the open
ones (keep-alive included) cut."""

from __future__ import annotations

import http.client
import smtplib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulators.exchange.ews.middleware import FaultInjector, RequestJournal
from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.site import RunningSite, start_site
from simulators.smtp import SinkSettings, SmtpSink
from tests.simulators.ews.soap import calendar_view, distinguished, envelope

USER = "user1@domain.net"
SERVICE = ("OSOMX@domain.net", "secret")
VIEW = calendar_view("2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", distinguished("calendar"))
HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


@pytest.fixture
def store() -> ExchangeStore:
    store = ExchangeStore()
    apply_seed(
        store,
        Seed(
            service_account=ServiceAccount(*SERVICE),
            mailboxes=[SeedMailbox(USER, "User One", password="pw")],
        ),
    )
    return store


@pytest.fixture
def site(store: ExchangeStore) -> Iterator[RunningSite]:
    running = start_site(store, tls=True, journal=RequestJournal(), faults=FaultInjector())
    yield running
    running.stop()


def _context(site: RunningSite) -> ssl.SSLContext:
    assert site.ca_cert_pem is not None
    return ssl.create_default_context(cafile=site.ca_cert_pem)


def _peer_certificate(site: RunningSite) -> bytes:
    with (
        socket.create_connection((site.host, site.port), timeout=5) as raw,
        _context(site).wrap_socket(raw, server_hostname=site.host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def _poll(site: RunningSite) -> int:
    with httpx.Client(verify=_context(site), timeout=5) as client:
        response = client.post(
            site.ews_url, content=envelope(VIEW, impersonate=USER), headers=HEADERS, auth=SERVICE
        )
    return response.status_code


def test_site_comes_back_on_the_same_port_with_the_same_certificate(site: RunningSite) -> None:
    port, ca_file, before = site.port, site.ca_cert_pem, _peer_certificate(site)
    site.go_down()
    assert not site.serving
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((site.host, port), timeout=2)
    with pytest.raises(httpx.ConnectError):
        _poll(site)
    site.come_back()
    assert (site.serving, site.port, site.ca_cert_pem, site.restarts) == (True, port, ca_file, 1)
    assert ca_file is not None and Path(ca_file).is_file()
    assert _peer_certificate(site) == before
    assert _poll(site) == 200


def test_the_store_survives_a_restart(site: RunningSite, store: ExchangeStore) -> None:
    from datetime import UTC, datetime

    calendar = store.distinguished_folder("calendar", USER)
    item = store.create_calendar_item(
        calendar,
        subject="Lunch",
        start=datetime(2026, 1, 5, 11, tzinfo=UTC),
        end=datetime(2026, 1, 5, 12, tzinfo=UTC),
    )
    site.restart()
    assert site.store is store and item.id in store.items
    with httpx.Client(verify=_context(site), timeout=5) as client:
        response = client.post(
            site.ews_url, content=envelope(VIEW, impersonate=USER), headers=HEADERS, auth=SERVICE
        )
    assert response.status_code == 200 and item.id.encode() in response.content


def test_a_restart_cuts_a_keep_alive_connection(site: RunningSite) -> None:
    connection = http.client.HTTPSConnection(
        site.host, site.port, context=_context(site), timeout=5
    )
    basic = httpx.Request("POST", site.ews_url)
    headers = dict(HEADERS)
    headers["Authorization"] = next(httpx.BasicAuth(*SERVICE).auth_flow(basic)).headers[
        "Authorization"
    ]
    connection.request("POST", "/EWS/Exchange.asmx", envelope(VIEW, impersonate=USER), headers)
    first = connection.getresponse()
    first.read()
    assert first.status == 200 and not first.will_close  # kept alive
    site.restart()
    # The same connection is dead: the server closed it while going down.
    with pytest.raises((http.client.HTTPException, OSError)):
        connection.request("POST", "/EWS/Exchange.asmx", envelope(VIEW, impersonate=USER), headers)
        connection.getresponse().read()
    connection.close()
    assert _poll(site) == 200  # a new connection works


def test_a_restart_ends_owa_forms_sessions(site: RunningSite) -> None:
    assert site.auth is not None
    site.set_webdav_auth("forms")
    site.auth.logon(USER, "pw")
    assert site.auth.session_count() == 1
    site.restart()
    assert site.auth.session_count() == 0
    assert site.auth.mode == "forms"  # the site's configuration stays


def test_come_back_and_go_down_are_idempotent(site: RunningSite) -> None:
    site.come_back()  # already serving: nothing happens
    assert site.restarts == 0
    site.go_down()
    site.go_down()
    site.come_back()
    site.come_back()
    assert site.restarts == 1 and _poll(site) == 200


# ------------------------------------------------------------------------ SMTP sink


@pytest.fixture
def sink(store: ExchangeStore) -> Iterator[SmtpSink]:
    running = SmtpSink(store, SinkSettings()).start()
    yield running
    running.stop()


def _send(sink: SmtpSink) -> None:
    assert sink.ca_cert_pem is not None
    context = ssl.create_default_context(cafile=sink.ca_cert_pem)
    with smtplib.SMTP(sink.host("smtp"), sink.port("smtp"), timeout=5) as client:
        client.starttls(context=context)
        client.login(*SERVICE)
        client.sendmail(SERVICE[0], [USER], b"Subject: after\r\n\r\nbody\r\n")


def test_sink_comes_back_on_the_same_ports_with_the_same_certificate(
    sink: SmtpSink, store: ExchangeStore
) -> None:
    endpoints, ca_file = sink.endpoints, sink.ca_cert_pem
    open_client = smtplib.SMTP(sink.host("smtp"), sink.port("smtp"), timeout=5)
    open_client.ehlo()
    sink.go_down()
    assert not sink.running and sink.port("smtp") == int(endpoints["smtp"].rsplit(":", 1)[1])
    with pytest.raises(smtplib.SMTPServerDisconnected):
        open_client.noop()  # the open connection was cut
    for name in ("smtp", "smtps"):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((sink.host(name), sink.port(name)), timeout=2)
    sink.come_back()
    assert (sink.endpoints, sink.ca_cert_pem, sink.restarts) == (endpoints, ca_file, 1)
    _send(sink)  # STARTTLS verified against the CA file of before
    assert [m.subject for m in store.messages(USER)] == ["after"]


def test_a_stopped_sink_does_not_start_while_down(sink: SmtpSink) -> None:
    sink.go_down()
    with pytest.raises(RuntimeError, match="come_back"):
        sink.start()
    sink.come_back()
    _send(sink)
