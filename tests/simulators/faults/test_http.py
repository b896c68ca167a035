"""Every HTTP kind of the catalogue, as httpx sees it from a real site on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import freezegun
import httpx
import pytest
from lxml import etree

from simulators.exchange.ews.middleware import RequestJournal
from simulators.exchange.seed import apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.faults.catalogue import kinds_of
from simulators.faults.triggers import Trigger
from simulators.site import RunningSite, start_site
from tests.conftest import ALICE, BOB, DOMAIN, SERVICE_PASSWORD, SERVICE_USER, default_seed
from tests.simulators.ews.soap import calendar_view, distinguished, envelope, fault_code

VIEW = calendar_view("2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z", distinguished("calendar"))
AUTH = (SERVICE_USER, SERVICE_PASSWORD)
M = "{http://schemas.microsoft.com/exchange/services/2006/messages}"


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    store = ExchangeStore(domain=DOMAIN)
    apply_seed(store, default_seed())
    running = start_site(store, journal=RequestJournal())
    yield running
    running.stop()


@pytest.fixture
def faults(site: RunningSite) -> Iterator[RunningSite]:
    site.faults.clear()
    site.journal.clear()
    yield site
    site.faults.clear()


def poll(site: RunningSite, mailbox: str = ALICE, timeout: float = 10.0) -> httpx.Response:
    with httpx.Client(timeout=timeout) as client:
        return client.post(
            site.ews_url,
            content=envelope(VIEW, impersonate=mailbox).encode(),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            auth=AUTH,
        )


def propfind(site: RunningSite, mailbox: str = ALICE) -> httpx.Response:
    with httpx.Client(timeout=10) as client:
        return client.request(
            "PROPFIND", f"{site.webdav_url}{mailbox}/Calendar/", headers={"Depth": "0"}, auth=AUTH
        )


def test_error_server_busy_carries_back_off_milliseconds(faults: RunningSite) -> None:
    faults.faults.add("ews", "ErrorServerBusy", timedelta(minutes=5), back_off=timedelta(seconds=7))
    response = poll(faults)
    assert response.status_code == 500
    assert fault_code(response.content) == "ErrorServerBusy"
    root = etree.fromstring(response.content)
    values = root.findall(".//{*}Value[@Name='BackOffMilliseconds']")
    assert [v.text for v in values] == ["7000"]
    assert faults.journal.entries()[-1].injected == "ews:ErrorServerBusy"


def test_busy_is_the_old_name_of_error_server_busy(faults: RunningSite) -> None:
    with freezegun.freeze_time("2026-03-16 12:30:00", real_asyncio=True):
        fault = faults.faults.add("ews", "busy", timedelta(seconds=90))
        content = poll(faults).content  # the back-off is the window's rest
    assert fault.kind == "ErrorServerBusy"
    assert b'Name="BackOffMilliseconds">90000<' in content


def test_mailbox_store_unavailable_is_a_per_message_error(faults: RunningSite) -> None:
    faults.faults.add("ews", "ErrorMailboxStoreUnavailable", timedelta(minutes=5))
    response = poll(faults)
    assert response.status_code == 200
    message = etree.fromstring(response.content).find(f".//{M}FindItemResponseMessage")
    assert message is not None and message.get("ResponseClass") == "Error"
    assert message.findtext(f"{M}ResponseCode") == "ErrorMailboxStoreUnavailable"
    assert message.findtext(f"{M}MessageText") == "The mailbox database is temporarily unavailable."


def test_impersonate_user_denied_for_one_mailbox_only(faults: RunningSite) -> None:
    faults.faults.add(
        "ews", "ErrorImpersonateUserDenied", timedelta(minutes=5), trigger=Trigger(mailbox=BOB)
    )
    assert poll(faults, ALICE).status_code == 200
    denied = poll(faults, BOB)
    assert denied.status_code == 500
    assert fault_code(denied.content) == "ErrorImpersonateUserDenied"
    assert [e.injected for e in faults.journal.entries()] == [
        None,
        "ews:ErrorImpersonateUserDenied",
    ]


@pytest.mark.parametrize(("kind", "status"), [("http_401", 401), ("http_500", 500)])
def test_http_statuses(faults: RunningSite, kind: str, status: int) -> None:
    faults.faults.add("ews", kind, timedelta(minutes=5))
    response = poll(faults)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/html"
    if status == 401:
        assert response.headers["WWW-Authenticate"] == 'Basic realm="127.0.0.1"'


def test_http_503_with_retry_after(faults: RunningSite) -> None:
    faults.faults.add("ews", "http_503", timedelta(minutes=5), retry_after=42)
    response = poll(faults)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "42")


def test_latency_delays_the_real_answer(faults: RunningSite) -> None:
    faults.faults.add("ews", "latency", timedelta(minutes=5), latency=timedelta(milliseconds=400))
    began = time.monotonic()
    response = poll(faults)
    assert response.status_code == 200 and b"NoError" in response.content
    assert time.monotonic() - began >= 0.4


def test_timeout_gives_no_answer(faults: RunningSite) -> None:
    faults.faults.add("ews", "timeout", timedelta(minutes=5))
    with pytest.raises(httpx.ReadTimeout):
        poll(faults, timeout=0.5)
    assert faults.journal.entries()[-1].status == 0


def test_reset_cuts_the_connection(faults: RunningSite) -> None:
    faults.faults.add("ews", "reset", timedelta(minutes=5))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        poll(faults)
    entry = faults.journal.entries()[-1]
    assert (entry.status, entry.injected) == (0, "ews:reset")


def test_malformed_xml_does_not_parse(faults: RunningSite) -> None:
    faults.faults.add("ews", "malformed_xml", timedelta(minutes=5))
    response = poll(faults)
    assert response.status_code == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)


def test_truncated_body_ends_before_its_content_length(faults: RunningSite) -> None:
    faults.faults.add("ews", "truncated", timedelta(minutes=5))
    with pytest.raises(httpx.RemoteProtocolError):
        poll(faults)


def test_first_n_then_every_nth(faults: RunningSite) -> None:
    faults.faults.add("ews", "http_500", timedelta(minutes=5), trigger=Trigger(first=2))
    assert [poll(faults).status_code for _ in range(3)] == [500, 500, 200]
    faults.faults.clear()
    faults.faults.add("ews", "http_500", timedelta(minutes=5), trigger=Trigger(every=3))
    assert [poll(faults).status_code for _ in range(6)] == [200, 200, 500, 200, 200, 500]


@pytest.mark.parametrize(
    ("kind", "status"),
    [("http_440", 440), ("http_403", 403), ("http_500", 500), ("http_507", 507)],
)
def test_webdav_statuses(faults: RunningSite, kind: str, status: int) -> None:
    faults.faults.add("webdav", kind, timedelta(minutes=5), trigger=Trigger(mailbox=ALICE))
    assert propfind(faults, ALICE).status_code == status
    assert propfind(faults, BOB).status_code == 207
    assert faults.journal.entries()[0].injected == f"webdav:{kind}"


def test_webdav_latency_and_reset(faults: RunningSite) -> None:
    faults.faults.add(
        "webdav", "latency", timedelta(minutes=5), latency=timedelta(milliseconds=300)
    )
    began = time.monotonic()
    assert propfind(faults).status_code == 207
    assert time.monotonic() - began >= 0.3
    faults.faults.clear()
    faults.faults.add("webdav", "reset", timedelta(minutes=5))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        propfind(faults)


def test_refused_on_an_open_connection_cuts_it(faults: RunningSite) -> None:
    # The port itself is shut by a gate; what still arrives is cut.
    faults.faults.add("ews", "unavailable", timedelta(minutes=5))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        poll(faults)
    assert faults.journal.entries()[-1].injected == "ews:refused"


def test_every_http_kind_is_covered_here() -> None:
    covered = {
        "ews": set(kinds_of("ews")),
        "webdav": {"http_440", "http_403", "http_500", "http_507", "latency", "reset", "refused"},
    }
    # Kinds of WebDAV not listed above are the EWS ones tested for EWS (same applier).
    assert set(kinds_of("webdav")) - covered["webdav"] <= {"http_503", "timeout"}
    assert covered["ews"] == set(kinds_of("ews"))


def test_webdav_timeout_and_503(faults: RunningSite) -> None:
    faults.faults.add("webdav", "http_503", timedelta(minutes=5), retry_after=9)
    answer = propfind(faults)
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "9")
    faults.faults.clear()
    faults.faults.add("webdav", "timeout", timedelta(minutes=5))
    with httpx.Client(timeout=0.5) as client, pytest.raises(httpx.ReadTimeout):
        client.request("PROPFIND", f"{faults.webdav_url}{ALICE}/Calendar/", auth=AUTH)


@pytest.mark.parametrize("kind", [k for k in kinds_of("owa") if k.startswith("http_")])
def test_owa_statuses(faults: RunningSite, kind: str) -> None:
    faults.faults.add("owa", kind, timedelta(minutes=5))
    with httpx.Client(timeout=10) as client:
        assert client.get(faults.owa_url).status_code == int(kind.removeprefix("http_"))
    assert faults.journal.entries()[-1].injected == f"owa:{kind}"
