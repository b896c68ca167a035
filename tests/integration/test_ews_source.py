"""The engine's EWS client: the request it sends, how it reads answers and failures.

Parsing is tested on answers written here after the EWS 2007 schema; the HTTP side
against a canned server on a real socket; the whole client against the EWS simulator.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trustme
from lxml import etree

from integration.appointments import Appointment
from integration.config import load_config_text
from integration.sources import (
    AccessDenied,
    CalendarSource,
    MailboxNotFound,
    SourceError,
    SourceProtocolError,
    SourceUnavailable,
)
from integration.sources.ews import EwsCalendarSource, FindItemTemplate, parse_find_item

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
NS = {"s": S, "m": M, "t": T}

START = datetime(2024, 5, 6, 0, 0, tzinfo=UTC)
END = datetime(2024, 5, 8, 0, 0, tzinfo=UTC)
R = TypeVar("R")


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


# --- answers, after the 2007 SP1 schema ---------------------------------------------


def envelope(body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{S}"><s:Header>'
        f'<h:ServerVersionInfo MajorVersion="8" MinorVersion="3" MajorBuildNumber="83" '
        f'MinorBuildNumber="6" xmlns:h="{T}"/></s:Header><s:Body>{body}</s:Body></s:Envelope>'
    ).encode()


def find_item_ok(items: str, *, total: int | None = None, last: str = "true") -> bytes:
    count = items.count("<t:CalendarItem>") if total is None else total
    return envelope(
        f'<m:FindItemResponse xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        '<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError'
        f'</m:ResponseCode><m:RootFolder TotalItemsInView="{count}" '
        f'IncludesLastItemInRange="{last}"><t:Items>{items}</t:Items></m:RootFolder>'
        "</m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse>"
    )


def calendar_item(
    item_id: str,
    subject: str,
    start: str,
    end: str,
    *,
    kind: str = "Single",
    all_day: str = "false",
    busy: str = "Busy",
    created: str = "2024-05-01T08:00:00Z",
    modified: str = "2024-05-02T09:30:00Z",
) -> str:
    # 2007 child order: ItemId, Subject, DateTimeCreated, LastModifiedTime, Start, End,
    # IsAllDayEvent, LegacyFreeBusyStatus, CalendarItemType.
    return (
        f'<t:CalendarItem><t:ItemId Id="{item_id}" ChangeKey="DwAAAA=="/>'
        f"<t:Subject>{subject}</t:Subject><t:DateTimeCreated>{created}</t:DateTimeCreated>"
        f"<t:LastModifiedTime>{modified}</t:LastModifiedTime><t:Start>{start}</t:Start>"
        f"<t:End>{end}</t:End><t:IsAllDayEvent>{all_day}</t:IsAllDayEvent>"
        f"<t:LegacyFreeBusyStatus>{busy}</t:LegacyFreeBusyStatus>"
        f"<t:CalendarItemType>{kind}</t:CalendarItemType></t:CalendarItem>"
    )


def message_error(code: str, text: str, extra: str = "") -> bytes:
    return envelope(
        f'<m:FindItemResponse xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        f'<m:FindItemResponseMessage ResponseClass="Error"><m:MessageText>{text}'
        f"</m:MessageText><m:ResponseCode>{code}</m:ResponseCode>"
        f"<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>{extra}"
        "</m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse>"
    )


def soap_fault(code: str, text: str, extra: str = "", *, detail: bool = True) -> bytes:
    detail_xml = (
        f'<detail><e:ResponseCode xmlns:e="{E}">{code}</e:ResponseCode>'
        f'<e:Message xmlns:e="{E}">{text}</e:Message>{extra}</detail>'
        if detail
        else ""
    )
    return envelope(
        f'<s:Fault><faultcode xmlns:a="{T}">a:{code}</faultcode>'
        f'<faultstring xml:lang="en-US">{text}</faultstring>{detail_xml}</s:Fault>'
    )


def backoff(ms: int, prefix: str) -> str:
    # In a fault's detail MessageXml is t:, in a response message m: (messages.xsd).
    return (
        f'<{prefix}:MessageXml xmlns:m="{M}" xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">'
        f"{ms}</t:Value></{prefix}:MessageXml>"
    )


# --- the request ---------------------------------------------------------------------


def test_request_is_a_calendar_view_through_impersonation() -> None:
    berlin = timezone(timedelta(hours=2))
    body = FindItemTemplate(max_entries=150).render(
        "alice@w03ex07.net", datetime(2024, 5, 6, 2, 0, tzinfo=berlin), END
    )
    root = etree.fromstring(body)
    assert root.tag == f"{{{S}}}Envelope"
    version = root.find("s:Header/t:RequestServerVersion", NS)
    assert version is not None and version.get("Version") == "Exchange2007_SP1"
    assert (
        root.findtext(
            "s:Header/t:ExchangeImpersonation/t:ConnectingSID/t:PrimarySmtpAddress", namespaces=NS
        )
        == "alice@w03ex07.net"
    )
    find_item = root.find("s:Body/m:FindItem", NS)
    assert find_item is not None and find_item.get("Traversal") == "Shallow"
    # The schema fixes the order: ItemShape, the view, ParentFolderIds.
    assert [etree.QName(c).localname for c in find_item] == [
        "ItemShape",
        "CalendarView",
        "ParentFolderIds",
    ]
    assert find_item.findtext("m:ItemShape/t:BaseShape", namespaces=NS) == "IdOnly"
    uris = {f.get("FieldURI") for f in find_item.iterfind(".//t:FieldURI", NS)}
    assert uris == {
        "item:Subject",
        "calendar:Start",
        "calendar:End",
        "calendar:IsAllDayEvent",
        "calendar:CalendarItemType",
        "item:DateTimeCreated",
        "item:LastModifiedTime",
        "calendar:LegacyFreeBusyStatus",
        "calendar:IsMeeting",
        "calendar:IsCancelled",
        "calendar:MyResponseType",
    }
    view = find_item.find("m:CalendarView", NS)
    assert view is not None
    assert view.attrib == {
        "MaxEntriesReturned": "150",
        "StartDate": "2024-05-06T00:00:00Z",  # 02:00+02:00 sent as UTC
        "EndDate": "2024-05-08T00:00:00Z",
    }
    folder = find_item.find("m:ParentFolderIds/t:DistinguishedFolderId", NS)
    assert folder is not None and folder.get("Id") == "calendar"
    assert folder.findtext("t:Mailbox/t:EmailAddress", namespaces=NS) == "alice@w03ex07.net"


def test_request_escapes_the_address_and_varies_only_in_the_holes() -> None:
    template = FindItemTemplate()
    one = template.render("a&b@x.net", START, END)
    two = template.render("c@x.net", START, END)
    assert b"<t:PrimarySmtpAddress>a&amp;b@x.net<" in one
    assert etree.fromstring(one).findtext(".//t:EmailAddress", namespaces=NS) == "a&b@x.net"
    assert one.replace(b"a&amp;b@x.net", b"c@x.net") == two


@pytest.mark.schema
def test_request_is_valid_exchange_2007_sp1() -> None:
    base = os.environ.get("EWS_SCHEMA_DIR")
    if not base:
        pytest.skip("EWS_SCHEMA_DIR not set")
    folder = Path(base)
    if not (folder / "messages.xsd").exists():
        folder = folder / "exchange2007_sp1"
    messages = etree.XMLSchema(etree.parse(str(folder / "messages.xsd")))
    types = etree.XMLSchema(etree.parse(str(folder / "types.xsd")))
    root = etree.fromstring(FindItemTemplate().render("alice@w03ex07.net", START, END))
    body = root.find("s:Body/m:FindItem", NS)
    assert messages.validate(etree.ElementTree(body)), messages.error_log
    headers = root.findall("s:Header/*", NS)
    assert len(headers) == 2
    for header in headers:
        assert types.validate(etree.ElementTree(header)), types.error_log


def test_bad_windows_are_caller_errors() -> None:
    async def check() -> None:
        async with EwsCalendarSource("https://ex/ews/exchange.asmx", "svc", "pw") as source:
            with pytest.raises(ValueError, match="timezone-aware"):
                source.request_body("a@b.c", datetime(2024, 5, 6), END)
            with pytest.raises(ValueError, match="empty window"):
                source.request_body("a@b.c", END, START)

    run(check())


# --- answers -------------------------------------------------------------------------


def test_items_become_appointments() -> None:
    items = "".join(
        [
            calendar_item("AAMk1", "Lunch", "2024-05-06T10:00:00Z", "2024-05-06T11:00:00Z"),
            calendar_item(
                "AAMk2",
                "Team &amp; Meeting",
                "2024-05-06T12:00:00",  # no offset: UTC
                "2024-05-06T13:00:00.1234567Z",
                kind="Occurrence",
                busy="Tentative",
            ),
            calendar_item(
                "AAMk3",
                "Besprechung",
                "2024-05-07T09:00:00+02:00",
                "2024-05-07T10:00:00+02:00",
                kind="Exception",
            ),
            calendar_item(
                "AAMk4", "Urlaub", "2024-05-06T22:00:00Z", "2024-05-07T22:00:00Z", all_day="true"
            ),
        ]
    )
    result = parse_find_item(find_item_ok(items), "alice@w03ex07.net")
    assert result.includes_last is True and result.total_in_view == 4
    assert [a.id for a in result.appointments] == ["AAMk1", "AAMk2", "AAMk3", "AAMk4"]
    lunch, team, exception, holiday = result.appointments
    assert lunch == Appointment(
        id="AAMk1",
        subject="Lunch",
        start=datetime(2024, 5, 6, 10, tzinfo=UTC),
        end=datetime(2024, 5, 6, 11, tzinfo=UTC),
        all_day=False,
        created=datetime(2024, 5, 1, 8, tzinfo=UTC),
        modified=datetime(2024, 5, 2, 9, 30, tzinfo=UTC),
        kind="single",
        busy_status="Busy",
    )
    assert team.subject == "Team & Meeting"
    assert team.kind == "occurrence" and team.busy_status == "Tentative"
    assert team.start == datetime(2024, 5, 6, 12, tzinfo=UTC)
    assert team.start.tzinfo is UTC
    assert exception.kind == "exception"
    assert exception.start == datetime(2024, 5, 7, 7, tzinfo=UTC)
    assert holiday.all_day is True and holiday.kind == "single"


def test_sparse_items_get_defaults_and_masters_are_skipped() -> None:
    items = (
        '<t:CalendarItem><t:ItemId Id="X1"/><t:Start>2024-05-06T10:00:00Z</t:Start>'
        "<t:End>2024-05-06T10:30:00Z</t:End></t:CalendarItem>"
        + calendar_item(
            "M1", "Weekly", "2024-05-06T08:00:00Z", "2024-05-06T09:00:00Z", kind="RecurringMaster"
        )
        + '<t:Message><t:ItemId Id="N1"/></t:Message>'
    )
    (only,) = parse_find_item(find_item_ok(items)).appointments
    assert (only.id, only.subject, only.kind, only.all_day) == ("X1", "", "single", False)
    assert (only.created, only.modified, only.busy_status) == (None, None, None)


def test_empty_calendar_and_truncated_view() -> None:
    assert parse_find_item(find_item_ok("")).appointments == []
    result = parse_find_item(
        find_item_ok(
            calendar_item("A", "x", START.isoformat(), END.isoformat()), total=350, last="false"
        )
    )
    assert result.includes_last is False and result.total_in_view == 350
    assert len(result.appointments) == 1


ERROR_ANSWERS: list[tuple[str, bytes, type[SourceError], str]] = [
    (
        "message: no mailbox",
        message_error("ErrorNonExistentMailbox", "No mailbox with such guid."),
        MailboxNotFound,
        "No mailbox with such guid.",
    ),
    (
        "message: access denied",
        message_error("ErrorAccessDenied", "Access is denied. Check credentials and try again."),
        AccessDenied,
        "Access is denied.",
    ),
    (
        "message: range too big",
        message_error("ErrorCalendarViewRangeTooBig", "The range is too big."),
        SourceProtocolError,
        "ErrorCalendarViewRangeTooBig",
    ),
    (
        "fault: impersonation denied",
        soap_fault(
            "ErrorImpersonateUserDenied",
            "The account does not have permission to impersonate the requested user.",
        ),
        AccessDenied,
        "permission to impersonate",
    ),
    (
        "fault: no impersonation right on the CAS",
        soap_fault("ErrorImpersonationDenied", "Impersonation denied."),
        AccessDenied,
        "ErrorImpersonationDenied",
    ),
    (
        "fault: unknown impersonated mailbox",
        soap_fault(
            "ErrorNonExistentMailbox",
            "The SMTP address has no mailbox associated with it.",
            f'<t:MessageXml xmlns:t="{T}"><t:Value Name="SmtpAddress">x@y.z</t:Value></t:MessageXml>',
        ),
        MailboxNotFound,
        "has no mailbox",
    ),
    (
        "fault without detail: faultcode decides",
        soap_fault(
            "ErrorServerBusy", "The server cannot service this request right now.", detail=False
        ),
        SourceUnavailable,
        "cannot service",
    ),
    (
        "fault: schema validation",
        soap_fault("ErrorSchemaValidation", "The request failed schema validation."),
        SourceProtocolError,
        "schema validation",
    ),
    ("not XML", b"<html><body>Hello", SourceProtocolError, "not XML"),
    ("not SOAP", b"<html><body>Hello</body></html>", SourceProtocolError, "not a SOAP envelope"),
    (
        "XXE",
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + envelope("&x;").split(b"?>", 1)[1],
        SourceProtocolError,
        "DOCTYPE",
    ),
    (
        "another operation",
        envelope(f'<m:GetItemResponse xmlns:m="{M}"/>'),
        SourceProtocolError,
        "unexpected answer",
    ),
    (
        "no RootFolder",
        envelope(
            f'<m:FindItemResponse xmlns:m="{M}"><m:ResponseMessages><m:FindItemResponseMessage '
            'ResponseClass="Success"/></m:ResponseMessages></m:FindItemResponse>'
        ),
        SourceProtocolError,
        "RootFolder",
    ),
    (
        "item without End",
        find_item_ok(
            '<t:CalendarItem><t:ItemId Id="Q"/><t:Start>2024-05-06T10:00:00Z</t:Start></t:CalendarItem>'
        ),
        SourceProtocolError,
        "no Start or End",
    ),
    (
        "bad dateTime",
        find_item_ok(calendar_item("Q", "x", "yesterday", "2024-05-06T10:00:00Z")),
        SourceProtocolError,
        "yesterday",
    ),
    (
        "end before start",
        find_item_ok(calendar_item("Q", "x", "2024-05-06T10:00:00Z", "2024-05-06T09:00:00Z")),
        SourceProtocolError,
        "before it starts",
    ),
]


@pytest.mark.parametrize(
    ("answer", "error", "words"), [c[1:] for c in ERROR_ANSWERS], ids=[c[0] for c in ERROR_ANSWERS]
)
def test_error_answers_are_classified(answer: bytes, error: type[SourceError], words: str) -> None:
    with pytest.raises(error) as caught:
        parse_find_item(answer, "alice@w03ex07.net")
    assert type(caught.value) is error
    assert words in str(caught.value)
    assert str(caught.value).startswith("alice@w03ex07.net: ")


def test_server_busy_carries_the_back_off() -> None:
    for answer in (
        soap_fault("ErrorServerBusy", "busy", backoff(2500, "t")),
        message_error("ErrorServerBusy", "busy", backoff(2500, "m")),
    ):
        with pytest.raises(SourceUnavailable) as caught:
            parse_find_item(answer)
        assert caught.value.code == "ErrorServerBusy"
        assert caught.value.retry_after == 2.5


# --- over HTTP: a canned server on a real socket ----------------------------------


@dataclass
class Seen:
    headers: dict[str, str]
    body: bytes
    client_port: int


Answer = Callable[[bytes], tuple[int, dict[str, str], bytes]]


@dataclass
class Canned:
    """An HTTP(S) server answering every POST with ``answer(body)``."""

    answer: Answer
    tls: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    inflight: int = 0
    most_inflight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        canned = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as IIS

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with canned.lock:
                    canned.seen.append(Seen(dict(self.headers), body, self.client_address[1]))
                    canned.inflight += 1
                    canned.most_inflight = max(canned.most_inflight, canned.inflight)
                try:
                    status, headers, payload = canned.answer(body)
                finally:
                    with canned.lock:
                        canned.inflight -= 1
                self.send_response(status)
                for name, value in {"Content-Type": "text/xml; charset=utf-8", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}/EWS/Exchange.asmx"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned() -> Iterator[Callable[..., tuple[Canned, str]]]:
    started: list[Canned] = []

    def start(answer: Answer, tls: ssl.SSLContext | None = None) -> tuple[Canned, str]:
        server = Canned(answer, tls)
        url = server.start()
        started.append(server)
        return server, url

    yield start
    for server in started:
        server.stop()


def always(status: int, payload: bytes, **headers: str) -> Answer:
    return lambda body: (status, headers, payload)


LUNCH = find_item_ok(
    calendar_item("AAMk1", "Lunch", "2024-05-06T10:00:00Z", "2024-05-06T11:00:00Z")
)


def test_read_sends_the_template_with_preemptive_basic_auth(canned: Any) -> None:
    server, url = canned(always(200, LUNCH))

    async def scenario() -> tuple[list[Appointment], bytes]:
        async with EwsCalendarSource(url, "OSOMX@w03ex07.net", "sécret") as source:
            assert isinstance(source, CalendarSource)
            found = await source.read("alice@w03ex07.net", START, END)
            return found, source.request_body("alice@w03ex07.net", START, END)

    found, expected_body = run(scenario())
    assert [(a.id, a.subject) for a in found] == [("AAMk1", "Lunch")]
    (seen,) = server.seen
    token = base64.b64encode("OSOMX@w03ex07.net:sécret".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {token}"
    assert seen.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "SOAPAction" not in seen.headers
    assert seen.body == expected_body


def test_reads_share_keep_alive_connections_bounded_by_concurrency(canned: Any) -> None:
    gate = threading.Barrier(2, timeout=5)

    def answer(body: bytes) -> tuple[int, dict[str, str], bytes]:
        gate.wait()  # two reads must be in flight together to pass
        return 200, {}, LUNCH

    server, url = canned(answer)

    async def scenario() -> None:
        async with EwsCalendarSource(url, "svc", "pw", concurrency=2) as source:
            mailboxes = [f"user{n}@w03ex07.net" for n in range(6)]
            results = await asyncio.gather(*(source.read(m, START, END) for m in mailboxes))
            assert all(len(r) == 1 for r in results)

    run(scenario())
    assert len(server.seen) == 6
    assert server.most_inflight == 2
    assert len({s.client_port for s in server.seen}) == 2


HTTP_FAILURES: list[tuple[str, Answer, type[SourceError], str]] = [
    (
        "401",
        always(401, b"", **{"WWW-Authenticate": 'Basic realm="ex"'}),
        AccessDenied,
        "credentials refused for svc",
    ),
    ("403", always(403, b"<html>403</html>"), AccessDenied, "HTTP 403"),
    (
        "500 fault",
        always(
            500,
            soap_fault(
                "ErrorImpersonateUserDenied",
                "The account does not have permission to impersonate the requested user.",
            ),
        ),
        AccessDenied,
        "permission to impersonate",
    ),
    (
        "500 page",
        always(500, b"<html><body>Runtime Error</body></html>"),
        SourceUnavailable,
        "HTTP 500",
    ),
    (
        "503",
        always(503, b"Service Unavailable", **{"Content-Type": "text/plain"}),
        SourceUnavailable,
        "HTTP 503",
    ),
    (
        "302",
        always(302, b"", Location="/owa/auth/logon.aspx"),
        SourceProtocolError,
        "redirected to /owa/auth/logon.aspx",
    ),
    ("404", always(404, b"<html>Not Found</html>"), SourceProtocolError, "no EWS at"),
    (
        "200 page",
        always(200, b"<html><body>OWA</body></html>"),
        SourceProtocolError,
        "not a SOAP envelope",
    ),
    ("200 empty", always(200, b""), SourceProtocolError, "not XML"),
]


@pytest.mark.parametrize(
    ("answer", "error", "words"), [c[1:] for c in HTTP_FAILURES], ids=[c[0] for c in HTTP_FAILURES]
)
def test_http_failures_are_classified(
    canned: Any, answer: Answer, error: type[SourceError], words: str
) -> None:
    _, url = canned(answer)

    async def scenario() -> None:
        async with EwsCalendarSource(url, "svc", "pw") as source:
            await source.read("alice@w03ex07.net", START, END)

    with pytest.raises(error) as caught:
        run(scenario())
    assert type(caught.value) is error
    assert words in str(caught.value)
    assert caught.value.mailbox == "alice@w03ex07.net"


def test_a_server_that_does_not_answer_in_time_is_unavailable(canned: Any) -> None:
    release = threading.Event()

    def answer(body: bytes) -> tuple[int, dict[str, str], bytes]:
        release.wait(5)
        return 200, {}, LUNCH

    _, url = canned(answer)

    async def scenario() -> None:
        async with EwsCalendarSource(url, "svc", "pw", timeout=0.2) as source:
            await source.read("alice@w03ex07.net", START, END)

    try:
        with pytest.raises(SourceUnavailable, match="within 0.2 s") as caught:
            run(scenario())
        assert caught.value.code == "timeout"
    finally:
        release.set()


def test_refused_connection_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> None:
        async with EwsCalendarSource(
            f"http://127.0.0.1:{port}/ews/exchange.asmx", "s", "p"
        ) as source:
            await source.read("alice@w03ex07.net", START, END)

    with pytest.raises(SourceUnavailable, match="cannot connect"):
        run(scenario())


def test_truncated_view_is_reported(canned: Any, caplog: pytest.LogCaptureFixture) -> None:
    answer = find_item_ok(
        calendar_item("A", "Lunch", "2024-05-06T10:00:00Z", "2024-05-06T11:00:00Z"),
        total=201,
        last="false",
    )
    _, url = canned(always(200, answer))

    async def scenario() -> int:
        async with EwsCalendarSource(url, "svc", "pw", max_entries=1) as source:
            found = await source.read("alice@w03ex07.net", START, END)
            assert len(found) == 1
            return source.truncated_reads

    with caplog.at_level(logging.WARNING, logger="integration.sources.ews"):
        assert run(scenario()) == 1
    assert "alice@w03ex07.net: calendar view truncated: 1 of 201" in caplog.text


@pytest.mark.parametrize("mailbox", ["", "alice", "a b@c.d", "a@b\n.c"])
def test_impossible_addresses_never_reach_the_server(canned: Any, mailbox: str) -> None:
    server, url = canned(always(200, LUNCH))

    async def scenario() -> None:
        async with EwsCalendarSource(url, "svc", "pw") as source:
            await source.read(mailbox, START, END)

    with pytest.raises(MailboxNotFound, match="not an e-mail address"):
        run(scenario())
    assert server.seen == []


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def test_https_with_the_configured_ca(canned: Any, tls: tuple[ssl.SSLContext, Path]) -> None:
    context, ca_file = tls
    _, url = canned(always(200, LUNCH), tls=context)
    config = load_config_text(
        f'[exchange]\nserver_url = "{url}"\nusername = "svc"\npassword = "pw"\n'
        f'ca_file = "{ca_file.name}"\n[polling]\nconcurrency = 3\nrequest_timeout = "4s"\n',
        ca_file.parent,
    )

    async def scenario() -> list[Appointment]:
        async with EwsCalendarSource.from_config(config.exchange, config.polling) as source:
            assert source.timeout == 4.0
            return await source.read("alice@w03ex07.net", START, END)

    assert [a.id for a in run(scenario())] == ["AAMk1"]


def test_https_with_an_unknown_ca_is_refused_or_explicitly_unverified(
    canned: Any, tls: tuple[ssl.SSLContext, Path]
) -> None:
    context, _ = tls
    _, url = canned(always(200, LUNCH), tls=context)

    async def read(verify: bool) -> list[Appointment]:
        async with EwsCalendarSource(url, "svc", "pw", verify=verify) as source:
            return await source.read("alice@w03ex07.net", START, END)

    with pytest.raises(SourceUnavailable, match="not trusted.*set \\[exchange\\] ca_file"):
        run(read(True))
    assert len(run(read(False))) == 1


def test_from_config_refuses_the_webdav_variant(tmp_path: Path) -> None:
    config = load_config_text(
        '[exchange]\nvariant = "webdav"\nserver_url = "https://ex/exchange/"\n'
        'username = "svc"\npassword = "pw"\n',
        tmp_path,
    )
    with pytest.raises(ValueError, match="variant is 'webdav'"):
        EwsCalendarSource.from_config(config.exchange)


# --- against the EWS simulator (fixtures ews / ews_tls in tests/conftest.py) ---------

# The default seed: Bob's single dentist appointment on 17 March 2026, 08:00 Berlin;
# Alice's weekly Monday 09:00 Berlin review from 16 March (six, across the DST change),
# 23 March moved to 14:00 and renamed, 6 April deleted, plus lunch on 30 March; the
# service account may not impersonate Carol.
DOMAIN = "w03ex07.net"
SERVICE = (f"OSOMX@{DOMAIN}", "secret")


def simulator_source(server: Any, password: str = SERVICE[1]) -> EwsCalendarSource:
    return EwsCalendarSource(
        server.url, SERVICE[0], password, ca_file=server.site.ca_cert_pem, timeout=5.0
    )


def read_from(server: Any, mailbox: str, start: datetime, end: datetime, **kw: Any) -> Any:
    async def scenario() -> list[Appointment]:
        async with simulator_source(server, **kw) as source:
            return await source.read(mailbox, start, end)

    return run(scenario())


def test_simulator_single_appointment(ews: Any) -> None:
    found = read_from(
        ews, f"bob@{DOMAIN}", datetime(2026, 3, 17, tzinfo=UTC), datetime(2026, 3, 18, tzinfo=UTC)
    )
    assert [(a.subject, a.kind, a.all_day) for a in found] == [("Dentist", "single", False)]
    (dentist,) = found
    assert (dentist.start, dentist.end) == (
        datetime(2026, 3, 17, 7, tzinfo=UTC),  # 08:00 CET
        datetime(2026, 3, 17, 8, tzinfo=UTC),
    )
    assert dentist.created is not None and dentist.modified is not None


def test_simulator_expands_a_recurring_series_over_https(ews_tls: Any) -> None:
    assert ews_tls.url.startswith("https://")
    found = read_from(
        ews_tls,
        f"alice@{DOMAIN}",
        datetime(2026, 3, 16, tzinfo=UTC),
        datetime(2026, 4, 21, 12, tzinfo=UTC),
    )
    rows = sorted((a.start, a.subject, a.kind) for a in found)
    assert rows == [
        (datetime(2026, 3, 16, 8, tzinfo=UTC), "Weekly review", "occurrence"),  # CET
        (datetime(2026, 3, 23, 13, tzinfo=UTC), "Moved review", "exception"),
        (datetime(2026, 3, 30, 7, tzinfo=UTC), "Weekly review", "occurrence"),  # CEST
        (datetime(2026, 3, 30, 10, tzinfo=UTC), "Lunch", "single"),
        (datetime(2026, 4, 13, 7, tzinfo=UTC), "Weekly review", "occurrence"),
        (datetime(2026, 4, 20, 7, tzinfo=UTC), "Weekly review", "occurrence"),
    ]  # 6 April deleted
    assert len({a.id for a in found}) == len(found)  # one id per occurrence
    lunch = next(a for a in found if a.subject == "Lunch")
    assert lunch.busy_status == "OOF"
    assert lunch.created == datetime(2026, 3, 2, 7, tzinfo=UTC)  # 08:00 CET


def test_simulator_window_limits_the_view(ews: Any) -> None:
    found = read_from(
        ews,
        f"alice@{DOMAIN}",
        datetime(2026, 3, 30, 7, 30, tzinfo=UTC),  # inside the 07:00-08:00 occurrence
        datetime(2026, 3, 30, 10, tzinfo=UTC),  # Lunch starts here: not overlapping
    )
    assert [(a.subject, a.start) for a in found] == [
        ("Weekly review", datetime(2026, 3, 30, 7, tzinfo=UTC))
    ]


SIMULATOR_FAILURES: list[tuple[str, str, dict[str, str], type[SourceError], str]] = [
    ("impersonation denied", f"carol@{DOMAIN}", {}, AccessDenied, "ErrorImpersonateUserDenied"),
    ("unknown mailbox", f"nobody@{DOMAIN}", {}, MailboxNotFound, "ErrorNonExistentMailbox"),
    ("wrong password", f"alice@{DOMAIN}", {"password": "wrong"}, AccessDenied, "HTTP 401"),
]


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
@pytest.mark.parametrize(
    ("mailbox", "kw", "error", "code"),
    [c[1:] for c in SIMULATOR_FAILURES],
    ids=[c[0] for c in SIMULATOR_FAILURES],
)
def test_simulator_failures_are_classified(
    request: pytest.FixtureRequest,
    tls: bool,
    mailbox: str,
    kw: dict[str, str],
    error: type[SourceError],
    code: str,
) -> None:
    server = request.getfixturevalue("ews_tls" if tls else "ews")
    with pytest.raises(error) as caught:
        read_from(
            server,
            mailbox,
            datetime(2026, 3, 16, tzinfo=UTC),
            datetime(2026, 3, 17, tzinfo=UTC),
            **kw,
        )
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.mailbox == mailbox
    if code == "HTTP 401":
        assert "service account credentials refused" in str(caught.value)


@pytest.mark.parametrize(("kind", "code"), [("http_503", "HTTP 503"), ("busy", "ErrorServerBusy")])
def test_simulator_outages_are_unavailable(ews: Any, kind: str, code: str) -> None:
    ews.site.faults.add("ews", kind, timedelta(minutes=5))
    with pytest.raises(SourceUnavailable) as caught:
        read_from(
            ews,
            f"bob@{DOMAIN}",
            datetime(2026, 3, 17, tzinfo=UTC),
            datetime(2026, 3, 18, tzinfo=UTC),
        )
    assert caught.value.code == code


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_simulator_stopped_is_unavailable(tls: bool) -> None:
    from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
    from simulators.exchange.store import ExchangeStore
    from simulators.site import start_site

    store = ExchangeStore(domain=DOMAIN)
    apply_seed(
        store,
        Seed(
            service_account=ServiceAccount(*SERVICE),
            mailboxes=[SeedMailbox(f"alice@{DOMAIN}", "Alice")],
        ),
    )
    site = start_site(store, "127.0.0.1", 0, tls)
    url, ca_file = site.ews_url, site.ca_cert_pem

    async def scenario() -> None:
        async with EwsCalendarSource(url, *SERVICE, ca_file=ca_file, timeout=5.0) as source:
            assert await source.read(f"alice@{DOMAIN}", START, END) == []  # kept alive
            await asyncio.to_thread(site.stop)
            with pytest.raises(SourceUnavailable):
                await source.read(f"alice@{DOMAIN}", START, END)

    try:
        run(scenario())
    finally:
        site.stop()
