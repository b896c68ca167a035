"""The engine's WebDAV client: the requests it sends, how it reads 207 answers, how it
logs in (Basic or OWA forms, 440 and re-login) and how it classifies failures.

Parsing is tested on answers written here after the Exchange 2007 WebDAV reference;
the HTTP side against a small fake Exchange on a real socket (both auth modes, session
expiry, paging); the whole client against the site's WebDAV front end when it is there.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import trustme
from lxml import etree

from integration.appointments import Appointment
from integration.config import load_config_text
from integration.service import build_source
from integration.sources import (
    AccessDenied,
    CalendarSource,
    MailboxNotFound,
    SourceProtocolError,
    SourceUnavailable,
)
from integration.sources.owa_auth import session_cookies
from integration.sources.webdav import WebDavCalendarSource
from integration.sources.webdav_xml import (
    SearchTemplate,
    parse_calendar_folder,
    parse_content_range,
    parse_dav_time,
    parse_search,
)

R = TypeVar("R")
START = datetime(2026, 3, 16, 0, 0, tzinfo=UTC)
END = datetime(2026, 3, 17, 0, 0, tzinfo=UTC)
ALICE = "alice@w03ex07.net"
SVC = ("OSOMX@w03ex07.net", "secret")


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


# --- answers, after the reference's 207 shape ---------------------------------------


def multistatus(*responses: str) -> bytes:
    return (
        '<?xml version="1.0"?><a:multistatus xmlns:b="urn:uuid:c2f41010-65b3-11d1-a29f-'
        '00aa00c14882/" xmlns:e="urn:schemas:httpmail:" xmlns:c="xml:" '
        'xmlns:d="urn:schemas:calendar:" xmlns:a="DAV:">' + "".join(responses) + "</a:multistatus>"
    ).encode()


def row(
    href: str,
    subject: str | None,
    start: str,
    end: str,
    *,
    instancetype: int | None = 0,
    extra: str = "",
    missing: str = "",
) -> str:
    props = "" if subject is None else f"<e:subject>{subject}</e:subject>"
    if instancetype is not None:
        props += f'<d:instancetype b:dt="int">{instancetype}</d:instancetype>'
    props += (
        f'<d:dtstart b:dt="dateTime.tz">{start}</d:dtstart>'
        f'<d:dtend b:dt="dateTime.tz">{end}</d:dtend>{extra}'
    )
    not_found = (
        f"<a:propstat><a:status>HTTP/1.1 404 Resource Not Found</a:status><a:prop>{missing}"
        "</a:prop></a:propstat>"
        if missing
        else ""
    )
    return (
        f"<a:response><a:href>{href}</a:href><a:propstat><a:status>HTTP/1.1 200 OK</a:status>"
        f"<a:prop>{props}</a:prop></a:propstat>{not_found}</a:response>"
    )


def calendar_answer(url: str) -> bytes:
    return multistatus(
        f"<a:response><a:href>{url.rsplit('/', 2)[0]}/</a:href><a:propstat><a:status>"
        f"HTTP/1.1 200 OK</a:status><a:prop><e:calendar>{url}</e:calendar></a:prop>"
        "</a:propstat></a:response>"
    )


HREF = "https://srv/exchange/alice/Calendar/{8D71}.EML"
LUNCH = row(HREF, "Lunch", "2026-03-16T11:00:00.000Z", "2026-03-16T12:00:00.000Z")


# --- the request ----------------------------------------------------------------------


def sql_of(body: bytes) -> str:
    root = etree.fromstring(body)
    assert root.tag == "{DAV:}searchrequest"
    (sql,) = root
    assert sql.tag == "{DAV:}sql"
    return sql.text or ""


def test_search_is_a_bounded_shallow_search_without_masters() -> None:
    source = WebDavCalendarSource("https://srv/exchange", *SVC)
    berlin = timezone(timedelta(hours=1))
    body = source.request_body(
        "/exchange/alice/Calendar/",
        datetime(2026, 3, 16, 12, 30, tzinfo=berlin),
        datetime(2026, 3, 16, 13, 30, 59, 900000, tzinfo=berlin),
    )
    sql = sql_of(body)
    assert sql.startswith('SELECT "DAV:href", "urn:schemas:httpmail:subject", ')
    for name in ("dtstart", "dtend", "instancetype", "recurrenceid", "busystatus", "alldayevent"):
        assert f'"urn:schemas:calendar:{name}"' in sql
    assert '"DAV:getlastmodified"' in sql and '"urn:schemas:calendar:lastmodified"' in sql
    assert (
        " FROM SCOPE('SHALLOW TRAVERSAL OF \"/exchange/alice/Calendar/\"')"
        ' WHERE NOT "urn:schemas:calendar:instancetype" = 1'
        " AND \"DAV:contentclass\" = 'urn:content-classes:appointment'"
        " AND \"urn:schemas:calendar:dtstart\" < '2026/03/16 12:30:59'"
        " AND \"urn:schemas:calendar:dtend\" > '2026/03/16 11:30:00'"
        ' ORDER BY "urn:schemas:calendar:dtstart" ASC'
    ) in sql
    assert source.server_url == "https://srv/exchange/"


def test_search_template_varies_only_in_the_holes_and_escapes_the_folder() -> None:
    template = SearchTemplate()
    a = template.render(template.folder_prefix("/exchange/a/Kalender/"), START, END)
    b = template.render(template.folder_prefix("/exchange/a/Kalender/"), START, END)
    assert a == b
    odd = sql_of(template.render(template.folder_prefix("/exchange/o'neil/R&D <cal>/"), START, END))
    assert "SHALLOW TRAVERSAL OF \"/exchange/o''neil/R&D <cal>/\"')" in odd


def test_bad_windows_and_urls_are_caller_errors() -> None:
    source = WebDavCalendarSource("http://srv/exchange/", *SVC)
    with pytest.raises(ValueError, match="timezone-aware"):
        source.request_body("/x/", datetime(2026, 1, 1), END)
    with pytest.raises(ValueError, match="empty window"):
        source.request_body("/x/", END, START)
    for url in ("srv/exchange/", "ftp://srv/exchange/"):
        with pytest.raises(ValueError, match="http\\(s\\) URL"):
            WebDavCalendarSource(url, *SVC)
    with pytest.raises(ValueError, match="concurrency"):
        WebDavCalendarSource("http://srv/exchange/", *SVC, concurrency=0)


# --- reading answers ------------------------------------------------------------------


def test_rows_become_appointments_with_an_id_per_occurrence() -> None:
    series = "https://srv/exchange/alice/Calendar/Weekly.EML"
    answer = multistatus(
        row(
            HREF,
            "Lunch",
            "2026-03-16T11:00:00.000Z",
            "2026-03-16T12:00:00.000Z",
            extra='<d:busystatus>OUTOFOFFICE</d:busystatus><d:alldayevent b:dt="boolean">0'
            '</d:alldayevent><d:created b:dt="dateTime.tz">2026-03-01T07:00:00.000Z'
            '</d:created><a:getlastmodified b:dt="dateTime.rfc1123">Mon, 02 Mar 2026 '
            "08:30:00 GMT</a:getlastmodified>",
            missing="<d:recurrenceid/><d:lastmodified/>",
        ),
        row(
            series,
            "Weekly",
            "2026-03-16T08:00:00.000Z",
            "2026-03-16T09:00:00.000Z",
            instancetype=2,
            extra='<d:recurrenceid b:dt="dateTime.tz">2026-03-16T08:00:00.000Z</d:recurrenceid>',
        ),
        row(
            series,
            "Moved",
            "2026-03-23T13:00:00.000Z",
            "2026-03-23T14:00:00.000Z",
            instancetype=3,
            extra='<d:recurrenceid b:dt="dateTime.tz">2026-03-23T08:00:00.000Z</d:recurrenceid>',
        ),
        row(
            series, "Weekly", "2026-03-30T07:00:00.000Z", "2026-03-30T08:00:00.000Z", instancetype=2
        ),
        row(
            series, "Weekly", "2026-03-16T08:00:00.000Z", "2026-03-16T09:00:00.000Z", instancetype=1
        ),
    )
    page = parse_search(answer, ALICE)
    assert page.rows == 5
    lunch, first, moved, third = page.appointments
    assert lunch == Appointment(
        id=HREF,
        subject="Lunch",
        start=datetime(2026, 3, 16, 11, tzinfo=UTC),
        end=datetime(2026, 3, 16, 12, tzinfo=UTC),
        created=datetime(2026, 3, 1, 7, tzinfo=UTC),
        modified=datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
        kind="single",
        busy_status="OUTOFOFFICE",
    )
    assert [a.kind for a in (first, moved, third)] == ["occurrence", "exception", "occurrence"]
    assert first.id == f"{series}#20260316T080000Z"
    assert moved.id == f"{series}#20260323T080000Z"  # its original start: stable when moved
    assert moved.start == datetime(2026, 3, 23, 13, tzinfo=UTC)
    assert third.id == f"{series}#20260330T070000Z"  # no recurrenceid: its dtstart
    assert len({a.id for a in page.appointments}) == 4


def test_sparse_rows_get_defaults() -> None:
    answer = multistatus(
        row(
            HREF,
            None,
            "2026-03-16T00:00:00Z",
            "2026-03-17T00:00:00Z",
            instancetype=None,
            extra="<d:alldayevent>1</d:alldayevent>",
        ),
    )
    (day,) = parse_search(answer).appointments
    assert (day.subject, day.kind, day.all_day, day.created, day.modified) == (
        "",
        "single",
        True,
        None,
        None,
    )


def test_empty_multistatus_is_an_empty_calendar() -> None:
    assert parse_search(multistatus()).appointments == []
    assert parse_search(b'<a:multistatus xmlns:a="DAV:"/>').rows == 0


def test_calendar_folder_is_read_from_the_propfind_answer() -> None:
    assert parse_calendar_folder(calendar_answer("https://srv/exchange/anna/Kalender")) == (
        "https://srv/exchange/anna/Kalender"
    )
    missing = multistatus(
        "<a:response><a:href>https://srv/exchange/x/</a:href><a:propstat><a:status>HTTP/1.1 "
        "404 Resource Not Found</a:status><a:prop><e:calendar/></a:prop></a:propstat></a:response>"
    )
    assert parse_calendar_folder(missing) is None


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"<html><body>Outlook Web Access</body></html", "not XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a:multistatus xmlns:a="DAV:"/>',
            "DOCTYPE",
        ),
        (b'<a:error xmlns:a="DAV:"/>', "not a multistatus"),
        (multistatus(row(HREF, "x", "2026-03-16T11:00:00Z", "")), "not a dateTime.tz"),
        (multistatus(row(HREF, "x", "soon", "2026-03-16T11:00:00Z")), "not a dateTime.tz"),
        (multistatus(row(HREF, "x", "2026-03-16T12:00:00Z", "2026-03-16T11:00:00Z")), "ends"),
        (
            multistatus(
                row(HREF, "x", "2026-03-16T11:00:00Z", "2026-03-16T12:00:00Z", instancetype=7)
            ),
            "instancetype 7",
        ),
        (multistatus(row("", "x", "2026-03-16T11:00:00Z", "2026-03-16T12:00:00Z")), "no href"),
        (
            multistatus(
                f"<a:response><a:href>{HREF}</a:href><a:propstat><a:status>HTTP/1.1 200 OK"
                "</a:status><a:prop><e:subject>x</e:subject></a:prop></a:propstat></a:response>"
            ),
            "no dtstart",
        ),
    ],
)
def test_garbage_is_a_protocol_error(answer: bytes, words: str) -> None:
    with pytest.raises(SourceProtocolError, match=words) as caught:
        parse_search(answer, ALICE)
    assert caught.value.mailbox == ALICE


def test_dav_times_and_content_ranges() -> None:
    assert parse_dav_time("2026-03-29T01:00:00.000Z", "dateTime.tz") == datetime(
        2026, 3, 29, 1, tzinfo=UTC
    )
    assert parse_dav_time("2026-03-29T03:00:00+02:00") == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert parse_dav_time("2026-03-29T01:00:00") == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert parse_dav_time("Sun, 29 Mar 2026 01:00:00 GMT", "dateTime.rfc1123") == datetime(
        2026, 3, 29, 1, tzinfo=UTC
    )
    assert parse_dav_time("Sun, 29 Mar 2026 01:00:00 GMT") == datetime(2026, 3, 29, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_dav_time("yesterday")
    assert parse_content_range("rows 0-199; total=450") == (0, 199, 450)
    assert parse_content_range("Rows 200-399/450") == (200, 399, 450)
    assert parse_content_range("rows 0-9/*") == (0, 9, None)
    assert parse_content_range("bytes 0-9/10") is None
    assert parse_content_range(None) is None


def test_session_cookies_are_read_as_sent_and_cleared_ones_dropped() -> None:
    import httpx

    response = httpx.Response(
        302,
        headers=[
            ("Set-Cookie", "sessionid=abc; path=/; HttpOnly"),
            ("Set-Cookie", 'cadata="1Kg+x/A=="; path=/; secure; HttpOnly'),
            ("Set-Cookie", "UserContext=ctx; path=/"),
            ("Set-Cookie", "UserContext=; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/"),
        ],
    )
    assert session_cookies(response) == {"sessionid": "abc", "cadata": '"1Kg+x/A=="'}


# --- over HTTP: a small fake Exchange on a real socket --------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


Reply = tuple[int, dict[str, str], bytes]


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections when 20 reads connect at once.
    request_queue_size = 128
    daemon_threads = True


@dataclass
class FakeExchange:
    """IIS + OWA 2007 as far as this client cares: the auth gate of either mode, the
    owaauth.dll log-in (cookies for any password), PROPFIND of mailbox roots from
    ``folders`` and SEARCH answered by ``search``."""

    mode: str = "basic"
    password: str = SVC[1]
    # mailbox -> calendar URL, an HTTP status, or a whole 207 answer
    folders: dict[str, str | int | bytes] = field(default_factory=dict)
    search: Callable[[Seen], Reply] = lambda seen: (207, {}, multistatus(LUNCH))
    tls: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    sessions: dict[str, bool] = field(default_factory=dict)  # sessionid -> password right
    logins: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # one send per answer: no Nagle stall against delayed ACK

            def handle_any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen = Seen(
                    self.command, self.path, dict(self.headers), body, self.client_address[1]
                )
                with fake.lock:
                    fake.seen.append(seen)
                status, headers, payload = fake.answer(seen)
                self.send_response(status, "Login Timeout" if status == 440 else None)
                for name, value in headers.items():
                    for one in value.split("\n"):
                        self.send_header(name, one)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PROPFIND = do_SEARCH = handle_any

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self.base + "/exchange/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def requests(self, method: str | None = None) -> list[Seen]:
        return [s for s in self.seen if method is None or s.method == method]

    def answer(self, seen: Seen) -> Reply:
        path = urlsplit(seen.path).path
        if seen.method == "POST" and path == "/owa/auth/owaauth.dll":
            return self.logon(seen)
        if not path.startswith("/exchange/"):
            return 404, {"Content-Type": "text/html"}, b"<html>404</html>"
        refused = self.gate(seen)
        if refused is not None:
            return refused
        if seen.method == "GET":
            return 200, {"Content-Type": "text/html"}, b"<html>Outlook Web Access</html>"
        if seen.method == "PROPFIND":
            mailbox = unquote(path.removeprefix("/exchange/").rstrip("/")).lower()
            folder = self.folders.get(mailbox, 404)
            if isinstance(folder, int):
                return folder, {"Content-Type": "text/html"}, b"<html>no</html>"
            if isinstance(folder, bytes):
                return 207, {"Content-Type": "text/xml"}, folder
            return 207, {"Content-Type": "text/xml"}, calendar_answer(folder)
        status, headers, payload = self.search(seen)
        return status, {"Content-Type": "text/xml", **headers}, payload

    def gate(self, seen: Seen) -> Reply | None:
        if self.mode == "basic":
            token = base64.b64encode(f"{SVC[0]}:{self.password}".encode()).decode()
            if seen.headers.get("Authorization") == f"Basic {token}":
                return None
            return 401, {"WWW-Authenticate": 'Basic realm="srv"'}, b"<html>401.1</html>"
        cookies = dict(
            part.strip().split("=", 1)
            for part in seen.headers.get("Cookie", "").split(";")
            if "=" in part
        )
        with self.lock:
            good = self.sessions.get(cookies.get("sessionid", ""))
        if good:
            return None
        if seen.method == "GET":
            reason = 2 if good is False else 0
            location = f"{self.base}/owa/auth/logon.aspx?url=x&reason={reason}"
            return 302, {"Location": location}, b""
        clear = "\n".join(
            f"{n}=; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/"
            for n in ("sessionid", "cadata", "UserContext")
        )
        return 440, {"Set-Cookie": clear, "Content-Type": "text/html"}, b"<html></html>"

    def logon(self, seen: Seen) -> Reply:
        form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
        with self.lock:
            self.logins.append(form)
            session = f"s{len(self.logins)}"
            ok = form.get("username") == SVC[0] and form.get("password") == self.password
            self.sessions[session] = ok
        cookies = f'sessionid={session}; path=/\ncadata="c{session}"; path=/\nUserContext=u; path=/'
        return 302, {"Location": form.get("destination", "/"), "Set-Cookie": cookies}, b""


@pytest.fixture
def fake() -> Iterator[Callable[..., tuple[FakeExchange, str]]]:
    started: list[FakeExchange] = []

    def start(**kw: Any) -> tuple[FakeExchange, str]:
        server = FakeExchange(**kw)
        server.folders.setdefault(ALICE, "%BASE%/exchange/alice/Calendar")
        url = server.start()
        for mailbox, folder in server.folders.items():
            if isinstance(folder, str):
                server.folders[mailbox] = folder.replace("%BASE%", server.base)
        started.append(server)
        return server, url

    yield start
    for server in started:
        server.stop()


def read_once(url: str, mailbox: str = ALICE, **kw: Any) -> list[Appointment]:
    async def scenario() -> list[Appointment]:
        async with WebDavCalendarSource(url, *kw.pop("creds", SVC), **kw) as source:
            return await source.read(mailbox, START, END)

    return run(scenario())


def test_basic_is_detected_by_a_bare_get_then_sent_preemptively(fake: Any) -> None:
    server, url = fake(folders={"anna@w03ex07.net": "%BASE%/exchange/anna/Kalender"})
    # (the fake looks mailboxes up in lower case, as Exchange matches them)

    async def scenario() -> None:
        async with WebDavCalendarSource(url, *SVC) as source:
            assert isinstance(source, CalendarSource)
            assert source.auth_mode is None
            assert [a.subject for a in await source.read(ALICE, START, END)] == ["Lunch"]
            assert source.auth_mode == "basic"
            await source.read(ALICE, START, END)
            await source.read("Anna@w03ex07.net", START, END)

    run(scenario())
    probe, *rest = server.seen
    assert (probe.method, probe.path) == ("GET", "/exchange/")
    assert "Authorization" not in probe.headers and "Cookie" not in probe.headers
    assert [(s.method, s.path) for s in rest] == [
        ("PROPFIND", "/exchange/alice@w03ex07.net/"),
        ("SEARCH", "/exchange/alice/Calendar/"),
        ("SEARCH", "/exchange/alice/Calendar/"),  # the folder is cached
        ("PROPFIND", "/exchange/Anna@w03ex07.net/"),
        ("SEARCH", "/exchange/anna/Kalender/"),
    ]
    token = base64.b64encode(f"{SVC[0]}:{SVC[1]}".encode()).decode()
    assert all(s.headers["Authorization"] == f"Basic {token}" for s in rest)
    propfind, search = rest[0], rest[1]
    assert propfind.headers["Depth"] == "0"
    assert b"<e:calendar/>" in propfind.body
    assert search.headers["Range"] == "rows=0-199"
    assert search.headers["Content-Type"].startswith("text/xml")
    assert 'SHALLOW TRAVERSAL OF "/exchange/anna/Kalender/"' in sql_of(rest[-1].body)


def test_basic_with_a_wrong_password_is_access_denied(fake: Any) -> None:
    server, url = fake(password="other")
    with pytest.raises(AccessDenied, match="credentials refused for OSOMX") as caught:
        read_once(url)
    assert caught.value.code == "HTTP 401"
    assert caught.value.mailbox == ALICE
    assert [s.method for s in server.seen] == ["GET", "PROPFIND"]


def test_forms_log_in_posts_owaauth_and_confirms_the_session(fake: Any) -> None:
    server, url = fake(mode="forms")

    async def scenario() -> None:
        async with WebDavCalendarSource(url, *SVC) as source:
            assert len(await source.read(ALICE, START, END)) == 1
            await source.read(ALICE, START, END)
            assert (source.auth_mode, source.logins) == ("forms", 1)

    run(scenario())
    assert [(s.method, urlsplit(s.path).path) for s in server.seen] == [
        ("GET", "/exchange/"),
        ("POST", "/owa/auth/owaauth.dll"),
        ("GET", "/exchange/"),  # following the log-in's redirect confirms the password
        ("PROPFIND", "/exchange/alice@w03ex07.net/"),
        ("SEARCH", "/exchange/alice/Calendar/"),
        ("SEARCH", "/exchange/alice/Calendar/"),
    ]
    assert server.logins == [
        {
            "destination": url,
            "flags": "4",
            "forcedownlevel": "0",
            "trusted": "4",
            "isutf8": "1",
            "username": SVC[0],
            "password": SVC[1],
        }
    ]
    post = server.seen[1]
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    for seen in server.seen[2:]:
        assert seen.headers["Cookie"] == 'sessionid=s1; cadata="cs1"; UserContext=u'
        assert "Authorization" not in seen.headers


def test_forms_with_a_wrong_password_is_refused_once_not_per_read(fake: Any) -> None:
    server, url = fake(mode="forms", password="other")

    async def scenario() -> None:
        async with WebDavCalendarSource(url, *SVC) as source:
            with pytest.raises(AccessDenied, match="credentials refused for OSOMX") as first:
                await source.read(ALICE, START, END)
            # the log-in itself "succeeded"; following its redirect showed the refusal
            assert "the new session got HTTP 302 to the log-in page" in first.value.message
            results = await asyncio.gather(
                *(source.read(f"u{i}@w03ex07.net", START, END) for i in range(10)),
                return_exceptions=True,
            )
            assert all(isinstance(r, AccessDenied) for r in results)
            assert {r.mailbox for r in results if isinstance(r, AccessDenied)} == {
                f"u{i}@w03ex07.net" for i in range(10)
            }
            assert source.logins == 1  # held back: no lock-out by repeated log-ins

    run(scenario())
    assert [s.method for s in server.seen] == ["GET", "POST", "GET"]
    assert server.seen[2].headers["Cookie"].startswith("sessionid=s1")


def test_forms_log_in_is_tried_again_after_the_delay(fake: Any) -> None:
    server, url = fake(mode="forms", password="other")

    async def scenario() -> None:
        async with WebDavCalendarSource(url, *SVC, login_retry_delay=0) as source:
            for _ in range(2):
                with pytest.raises(AccessDenied):
                    await source.read(ALICE, START, END)
            server.password = SVC[1]  # the admin fixed the account
            assert len(await source.read(ALICE, START, END)) == 1
            assert source.logins == 3

    run(scenario())


def test_expired_session_gets_440_and_one_new_log_in_for_all_reads(fake: Any) -> None:
    mailboxes = [f"u{i}@w03ex07.net" for i in range(20)]
    server, url = fake(
        mode="forms", folders={m: f"%BASE%/exchange/u{i}/Calendar" for i, m in enumerate(mailboxes)}
    )

    async def scenario() -> None:
        async with WebDavCalendarSource(url, *SVC, concurrency=20) as source:
            await asyncio.gather(*(source.read(m, START, END) for m in mailboxes))
            assert source.logins == 1
            server.expire_sessions()
            found = await asyncio.gather(*(source.read(m, START, END) for m in mailboxes))
            assert all(len(f) == 1 for f in found)
            assert source.logins == 2

    run(scenario())
    refused = [s for s in server.seen if s.method == "SEARCH" and "s1" in s.headers["Cookie"]]
    assert len(refused) >= 21  # first round plus at least one 440
    assert len(server.logins) == 2


def test_a_second_440_after_a_new_log_in_is_access_denied(fake: Any) -> None:
    server, url = fake(mode="forms", search=lambda seen: (440, {}, b"<html>Login Timeout</html>"))
    with pytest.raises(AccessDenied, match="refused again after a new log-in") as caught:
        read_once(url)
    assert caught.value.code == "HTTP 440"
    assert len(server.logins) == 2
    assert [s.method for s in server.seen].count("SEARCH") == 2


def test_a_server_switching_from_basic_to_forms_is_detected_again(fake: Any) -> None:
    server, url = fake()

    async def scenario() -> None:
        async with WebDavCalendarSource(url, *SVC) as source:
            await source.read(ALICE, START, END)
            server.mode = "forms"
            assert len(await source.read(ALICE, START, END)) == 1
            assert (source.auth_mode, source.logins) == ("forms", 1)
            server.mode = "basic"
            assert len(await source.read(ALICE, START, END)) == 1
            assert source.auth_mode == "basic"

    run(scenario())
    assert [s.method for s in server.seen].count("GET") == 4  # 3 probes + 1 confirmation


@pytest.mark.parametrize(
    ("folder", "error", "words"),
    [
        (404, MailboxNotFound, "no mailbox at"),
        (403, AccessDenied, "may not open this mailbox \\(FullAccess missing\\)"),
        (500, SourceUnavailable, "server error"),
        (302, SourceProtocolError, "redirected"),
    ],
)
def test_mailbox_root_failures_are_classified(
    fake: Any, folder: int, error: type[Exception], words: str
) -> None:
    _, url = fake(folders={ALICE: folder})
    with pytest.raises(error, match=words) as caught:
        read_once(url)
    assert type(caught.value) is error
    assert getattr(caught.value, "code", None) == f"HTTP {folder}"


def test_a_mailbox_without_calendar_folder_is_not_found(fake: Any) -> None:
    _, url = fake(folders={ALICE: multistatus()})
    with pytest.raises(MailboxNotFound, match="mailbox has no calendar folder"):
        read_once(url)


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (
            (400, {"Content-Type": "text/html"}, b"<html><body>Invalid SQL: near 'WHRE'</body>"),
            SourceProtocolError,
            "SEARCH .* refused: Bad Request: Invalid SQL: near 'WHRE'",
        ),
        ((503, {"Retry-After": "7"}, b""), SourceUnavailable, "server error"),
        ((500, {}, b"<html>ASP.NET</html>"), SourceUnavailable, "server error"),
        (
            (200, {"Content-Type": "text/html"}, b"<html>hi</html>"),
            SourceProtocolError,
            "unexpected answer",
        ),
        ((207, {}, b"<html>hi</html"), SourceProtocolError, "not XML"),
        ((207, {}, b'<!DOCTYPE x><a:multistatus xmlns:a="DAV:"/>'), SourceProtocolError, "DOCTYPE"),
        ((302, {"Location": "/elsewhere"}, b""), SourceProtocolError, "redirected to /elsewhere"),
        ((403, {}, b""), AccessDenied, "FullAccess"),
    ],
)
def test_search_failures_are_classified(
    fake: Any, reply: Reply, error: type[Exception], words: str
) -> None:
    _, url = fake(search=lambda seen: reply)
    with pytest.raises(error, match=words) as caught:
        read_once(url)
    assert type(caught.value) is error
    if reply[0] == 503:
        assert isinstance(caught.value, SourceUnavailable) and caught.value.retry_after == 7


def test_a_calendar_folder_gone_is_found_again_once(fake: Any) -> None:
    server, url = fake()
    moved = False

    def search(seen: Seen) -> Reply:
        if seen.path.startswith("/exchange/alice/Calendar/"):
            return 404, {}, b""
        return 207, {}, multistatus(LUNCH)

    async def scenario() -> None:
        nonlocal moved
        async with WebDavCalendarSource(url, *SVC) as source:
            await source.read(ALICE, START, END)
            server.search = search
            server.folders[ALICE] = server.base + "/exchange/alice/Renamed%20Calendar"
            moved = len(await source.read(ALICE, START, END)) == 1
            server.search = lambda seen: (404, {}, b"")
            with pytest.raises(MailboxNotFound, match="calendar folder .* not found"):
                await source.read(ALICE, START, END)

    run(scenario())
    assert moved
    searched = [s.path for s in server.requests("SEARCH")]
    assert "/exchange/alice/Renamed%20Calendar/" in searched
    renamed = [s for s in server.requests("SEARCH") if "Renamed" in s.path]
    assert 'TRAVERSAL OF "/exchange/alice/Renamed Calendar/"' in sql_of(renamed[0].body)


def lunch_rows(count: int) -> list[str]:
    return [
        row(
            f"https://srv/exchange/alice/Calendar/{i}.EML",
            f"Item {i}",
            "2026-03-16T11:00:00Z",
            "2026-03-16T12:00:00Z",
        )
        for i in range(count)
    ]


def test_large_results_are_read_in_row_ranges(fake: Any) -> None:
    rows = lunch_rows(450)

    def search(seen: Seen) -> Reply:
        first, last = (int(x) for x in seen.headers["Range"].removeprefix("rows=").split("-"))
        last = min(last, len(rows) - 1)
        return (
            207,
            {"Content-Range": f"rows {first}-{last}; total={len(rows)}"},
            multistatus(*rows[first : last + 1]),
        )

    server, url = fake(search=search)
    found = read_once(url, page_size=200)
    assert [a.subject for a in found] == [f"Item {i}" for i in range(450)]
    assert [s.headers["Range"] for s in server.requests("SEARCH")] == [
        "rows=0-199",
        "rows=200-399",
        "rows=400-599",
    ]


def test_a_server_ignoring_range_is_read_once(fake: Any) -> None:
    server, url = fake(search=lambda seen: (207, {}, multistatus(*lunch_rows(250))))
    assert len(read_once(url, page_size=200)) == 250
    assert len(server.requests("SEARCH")) == 1


def test_pages_without_content_range_continue_until_a_short_page(fake: Any) -> None:
    rows = lunch_rows(5)

    def search(seen: Seen) -> Reply:
        first, last = (int(x) for x in seen.headers["Range"].removeprefix("rows=").split("-"))
        if first >= len(rows):
            return 416, {}, b""
        return 207, {}, multistatus(*rows[first : last + 1])

    server, url = fake(search=search)
    assert len(read_once(url, page_size=5)) == 5
    assert len(read_once(url, page_size=2)) == 5
    assert [s.headers["Range"] for s in server.requests("SEARCH")] == [
        "rows=0-4",
        "rows=5-9",
        "rows=0-1",
        "rows=2-3",
        "rows=4-5",
    ]


def test_reads_share_keep_alive_connections_bounded_by_concurrency(fake: Any) -> None:
    mailboxes = [f"u{i}@w03ex07.net" for i in range(12)]
    server, url = fake(folders={m: "%BASE%/exchange/x/Calendar" for m in mailboxes})

    async def scenario() -> None:
        async with WebDavCalendarSource(url, *SVC, concurrency=3) as source:
            for _ in range(3):
                await asyncio.gather(*(source.read(m, START, END) for m in mailboxes))

    run(scenario())
    assert len(server.requests("SEARCH")) == 36
    assert len({s.client_port for s in server.seen}) <= 3


@pytest.mark.parametrize("mailbox", ["", "alice", "a b@c.d", "a@b\n.c", "../x@y.z", "a/b@c.d"])
def test_impossible_addresses_never_reach_the_server(fake: Any, mailbox: str) -> None:
    server, url = fake()
    with pytest.raises(MailboxNotFound, match="not an e-mail address"):
        read_once(url, mailbox)
    assert server.seen == []


def test_refused_connection_and_timeout_are_unavailable(fake: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailable, match="cannot connect"):
        read_once(f"http://127.0.0.1:{port}/exchange/")

    def slow(seen: Seen) -> Reply:
        threading.Event().wait(1.5)
        return 207, {}, multistatus()

    _, url = fake(search=slow)
    with pytest.raises(SourceUnavailable, match="no answer .* within 0.5 s") as caught:
        read_once(url, timeout=0.5)
    assert caught.value.code == "timeout"


def test_probe_of_a_wrong_url_is_a_protocol_error(fake: Any) -> None:
    _, url = fake()
    with pytest.raises(SourceProtocolError, match="not found; server_url must be the /exchange/"):
        read_once(url.replace("/exchange/", "/nothing/"))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def test_build_source_makes_a_webdav_source_over_https(
    fake: Any, tls: tuple[ssl.SSLContext, Path]
) -> None:
    context, ca_file = tls
    _, url = fake(mode="forms", tls=context)
    config = load_config_text(
        f'[exchange]\nvariant = "webdav"\nserver_url = "{url}"\nusername = "{SVC[0]}"\n'
        f'password = "{SVC[1]}"\nca_file = "{ca_file.name}"\n'
        '[polling]\nconcurrency = 3\nrequest_timeout = "4s"\n',
        ca_file.parent,
    )

    async def scenario() -> list[Appointment]:
        source = build_source(config)
        assert isinstance(source, WebDavCalendarSource)
        async with source:
            assert source.timeout == 4.0
            return await source.read(ALICE, START, END)

    assert [a.subject for a in run(scenario())] == ["Lunch"]


def test_https_with_an_unknown_ca_is_refused(fake: Any, tls: tuple[ssl.SSLContext, Path]) -> None:
    context, _ = tls
    _, url = fake(tls=context)
    with pytest.raises(SourceUnavailable, match="not trusted.*set \\[exchange\\] ca_file"):
        read_once(url)
    assert len(read_once(url, verify=False)) == 1


def test_from_config_refuses_the_ews_variant(tmp_path: Path) -> None:
    config = load_config_text(
        '[exchange]\nserver_url = "https://ex/ews/exchange.asmx"\nusername = "s"\npassword = "p"\n',
        tmp_path,
    )
    with pytest.raises(ValueError, match="variant is 'ews'"):
        WebDavCalendarSource.from_config(config.exchange)


# --- against the site's WebDAV front end (fixtures ews / ews_tls in tests/conftest.py) --

# The default seed: Bob's single dentist appointment on 17 March 2026, 08:00 Berlin;
# Alice's weekly Monday 09:00 Berlin review from 16 March (six, across the DST change),
# 23 March moved to 14:00 and renamed, 6 April deleted, plus lunch on 30 March; the
# service account has FullAccess on every mailbox but Carol's.
DOMAIN = "w03ex07.net"
SERVICE = (f"OSOMX@{DOMAIN}", "secret")
MARCH = (datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 4, 20, tzinfo=UTC))


@pytest.fixture
def dav(ews: Any) -> Iterator[Any]:
    """The plain-HTTP site with WebDAV in Basic mode; mode and clock restored after."""
    yield from _dav(ews)


@pytest.fixture
def dav_tls(ews_tls: Any) -> Iterator[Any]:
    """The HTTPS site with WebDAV in Basic mode; mode and clock restored after."""
    yield from _dav(ews_tls)


def _dav(server: Any) -> Iterator[Any]:
    skew = server.store.clock.skew
    server.site.set_webdav_auth("basic")
    yield server
    server.site.set_webdav_auth("basic")
    server.store.clock.skew = skew


def dav_source(server: Any, password: str = SERVICE[1], **kw: Any) -> WebDavCalendarSource:
    return WebDavCalendarSource(
        server.site.webdav_url,
        SERVICE[0],
        password,
        ca_file=server.site.ca_cert_pem,
        timeout=5.0,
        **kw,
    )


def dav_read(
    server: Any, mailbox: str, window: tuple[datetime, datetime] = MARCH, **kw: Any
) -> list[Appointment]:
    async def scenario() -> list[Appointment]:
        async with dav_source(server, **kw) as source:
            return await source.read(mailbox, *window)

    return run(scenario())


def journal(server: Any) -> list[tuple[str, str, int]]:
    return [
        (e.method, e.path, e.status)
        for e in server.site.journal.entries()
        if e.service in ("webdav", "owa")
    ]


def test_simulator_single_appointment(dav: Any) -> None:
    (dentist,) = dav_read(dav, f"bob@{DOMAIN}")
    assert (dentist.subject, dentist.kind, dentist.all_day, dentist.busy_status) == (
        "Dentist",
        "single",
        False,
        "BUSY",
    )
    assert (dentist.start, dentist.end) == (
        datetime(2026, 3, 17, 7, tzinfo=UTC),
        datetime(2026, 3, 17, 8, tzinfo=UTC),
    )
    # Exchange answers under the URL asked: the engine named the mailbox by its address.
    assert dentist.id.startswith(dav.site.url + f"/exchange/bob@{DOMAIN}/Calendar/")
    assert dentist.id.endswith(".EML")
    assert [(m, p) for m, p, _ in journal(dav)] == [
        ("GET", "/exchange/"),
        ("PROPFIND", f"/exchange/bob@{DOMAIN}/"),
        ("SEARCH", f"/exchange/bob@{DOMAIN}/Calendar/"),
    ]


def ews_rows(server: Any, mailbox: str) -> list[tuple[str, datetime, datetime, str]]:
    from integration.sources.ews import EwsCalendarSource

    async def scenario() -> list[Appointment]:
        async with EwsCalendarSource(
            server.url, *SERVICE, ca_file=server.site.ca_cert_pem, timeout=5.0
        ) as source:
            return await source.read(mailbox, *MARCH)

    return [(a.subject, a.start, a.end, a.kind) for a in run(scenario())]


@pytest.mark.parametrize("mode", ["basic", "forms"])
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_simulator_series_across_dst_as_ews_sees_it(
    request: pytest.FixtureRequest, tls: bool, mode: str
) -> None:
    server = request.getfixturevalue("dav_tls" if tls else "dav")
    server.site.set_webdav_auth(mode)

    async def scenario() -> tuple[list[Appointment], str | None]:
        async with dav_source(server) as source:
            found = await source.read(f"alice@{DOMAIN}", *MARCH)
            return found, source.auth_mode

    found, detected = run(scenario())
    assert detected == mode
    rows = [(a.subject, a.start, a.end, a.kind) for a in found]
    berlin_9 = [
        datetime(2026, 3, 16, 8, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC),
        datetime(2026, 4, 13, 7, tzinfo=UTC),
    ]  # 09:00 Berlin, CET then CEST
    assert rows == [
        ("Weekly review", berlin_9[0], berlin_9[0] + timedelta(hours=1), "occurrence"),
        (
            "Moved review",
            datetime(2026, 3, 23, 13, tzinfo=UTC),
            datetime(2026, 3, 23, 14, tzinfo=UTC),
            "exception",
        ),
        ("Weekly review", berlin_9[1], berlin_9[1] + timedelta(hours=1), "occurrence"),
        (
            "Lunch",
            datetime(2026, 3, 30, 10, tzinfo=UTC),
            datetime(2026, 3, 30, 11, tzinfo=UTC),
            "single",
        ),
        ("Weekly review", berlin_9[2], berlin_9[2] + timedelta(hours=1), "occurrence"),
    ]  # 6 April deleted
    assert rows == ews_rows(server, f"alice@{DOMAIN}")
    assert len({a.id for a in found}) == 5
    assert next(a for a in found if a.subject == "Lunch").busy_status == "OUTOFOFFICE"


def test_simulator_german_mailbox_has_a_kalender(dav: Any) -> None:
    from simulators.exchange.seed import SeedAppointment, SeedMailbox
    from tests.conftest import default_seed

    seed = default_seed()
    seed.mailboxes.append(SeedMailbox(f"anna@{DOMAIN}", "Anna Beispiel", language="de"))
    seed.appointments.append(
        SeedAppointment(
            mailbox=f"anna@{DOMAIN}",
            handle="anna",
            subject="Besprechung Außer Haus",
            start=datetime(2026, 3, 18, 9, tzinfo=UTC),
            end=datetime(2026, 3, 18, 10, tzinfo=UTC),
        )
    )
    dav.seed(seed)
    dav.site.set_webdav_auth("forms")

    async def scenario() -> tuple[str, list[Appointment]]:
        async with dav_source(dav) as source:
            return await source.calendar_folder(f"anna@{DOMAIN}"), await source.read(
                f"anna@{DOMAIN}", *MARCH
            )

    folder, found = run(scenario())
    assert folder == dav.site.url + f"/exchange/anna@{DOMAIN}/Kalender/"
    assert [(a.subject, a.start) for a in found] == [
        ("Besprechung Außer Haus", datetime(2026, 3, 18, 9, tzinfo=UTC))
    ]


@pytest.mark.parametrize("mode", ["basic", "forms"])
@pytest.mark.parametrize(
    ("mailbox", "error", "code", "words"),
    [
        (f"nobody@{DOMAIN}", MailboxNotFound, "HTTP 404", "no mailbox"),
        (f"carol@{DOMAIN}", AccessDenied, "HTTP 403", "FullAccess missing"),
    ],
)
def test_simulator_mailbox_failures(
    dav: Any, mode: str, mailbox: str, error: type[Exception], code: str, words: str
) -> None:
    dav.site.set_webdav_auth(mode)
    with pytest.raises(error, match=words) as caught:
        dav_read(dav, mailbox)
    assert type(caught.value) is error
    assert (getattr(caught.value, "code", None), getattr(caught.value, "mailbox", None)) == (
        code,
        mailbox,
    )


@pytest.mark.parametrize("mode", ["basic", "forms"])
def test_simulator_wrong_password_is_access_denied(dav: Any, mode: str) -> None:
    dav.site.set_webdav_auth(mode)
    with pytest.raises(AccessDenied, match="credentials refused for OSOMX") as caught:
        dav_read(dav, f"bob@{DOMAIN}", password="wrong")
    assert caught.value.code == ("HTTP 401" if mode == "basic" else "HTTP 440")
    assert not any(m == "SEARCH" for m, _, _ in journal(dav))


def test_simulator_expired_session_logs_in_again_once(dav_tls: Any) -> None:
    server = dav_tls
    server.site.set_webdav_auth("forms")
    mailboxes = [f"alice@{DOMAIN}", f"bob@{DOMAIN}", f"roberta@{DOMAIN}"]

    async def scenario() -> list[list[Appointment]]:
        async with dav_source(server) as source:
            first = await asyncio.gather(*(source.read(m, *MARCH) for m in mailboxes))
            server.store.clock.skew += timedelta(minutes=31)  # past OWA's idle time-out
            second = await asyncio.gather(*(source.read(m, *MARCH) for m in mailboxes))
            assert source.logins == 2
            assert second == first
            return second

    found = run(scenario())
    assert [len(f) for f in found] == [5, 1, 0]
    seen = journal(server)
    expired = [i for i, (m, _, status) in enumerate(seen) if status == 440]
    logins = [i for i, (m, p, _) in enumerate(seen) if p == "/owa/auth/owaauth.dll"]
    assert expired and len(logins) == 2
    assert expired[0] < logins[1]  # the 440 came first, then the one new log-in


def test_simulator_pages_rows(dav: Any) -> None:
    paged = dav_read(dav, f"alice@{DOMAIN}", page_size=2)
    assert [a.subject for a in paged] == [a.subject for a in dav_read(dav, f"alice@{DOMAIN}")]
    searches = [e for e in dav.site.journal.entries() if e.method == "SEARCH"]
    assert len(searches) == 3 + 1  # rows 0-1, 2-3, 4-5; then the unpaged read


def test_simulator_outage_is_unavailable(dav: Any) -> None:
    dav.site.faults.add("webdav", "http_503", timedelta(minutes=5))
    with pytest.raises(SourceUnavailable) as caught:
        dav_read(dav, f"bob@{DOMAIN}")
    assert caught.value.code == "HTTP 503"


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_simulator_stopped_is_unavailable(tls: bool) -> None:
    from simulators.exchange.seed import Seed, SeedMailbox, ServiceAccount, apply_seed
    from simulators.exchange.store import ExchangeStore
    from simulators.site import start_site

    store = ExchangeStore(domain=DOMAIN)
    apply_seed(
        store,
        Seed(service_account=ServiceAccount(*SERVICE), mailboxes=[SeedMailbox(f"alice@{DOMAIN}")]),
    )
    site = start_site(store, "127.0.0.1", 0, tls, webdav_auth="forms")
    url, ca_file = site.webdav_url, site.ca_cert_pem

    async def scenario() -> None:
        async with WebDavCalendarSource(url, *SERVICE, ca_file=ca_file, timeout=5.0) as source:
            assert await source.read(f"alice@{DOMAIN}", START, END) == []
            await asyncio.to_thread(site.stop)
            with pytest.raises(SourceUnavailable, match="cannot connect|failed"):
                await source.read(f"alice@{DOMAIN}", START, END)

    try:
        run(scenario())
    finally:
        site.stop()
