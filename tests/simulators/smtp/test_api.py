"""The mail inspection API over real HTTP (the simulators' server serving the WSGI app,
httpx asking)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from simulators.exchange.store import ExchangeStore
from simulators.smtp import ListenerSpec, SmtpSink
from simulators.smtp.api import WsgiApp
from simulators.wsgi_server import WsgiServer
from tests.simulators.smtp.conftest import USER1, USER2, SinkFactory, message_bytes
from tests.simulators.smtp.test_inspection import PDF, WAV, voicemail


def serve(app: WsgiApp) -> tuple[WsgiServer, str]:
    server = WsgiServer(app, "127.0.0.1", 0, threads=2, name="mail-api").start()
    return server, f"http://127.0.0.1:{server.bind_addr[1]}"


class Mounted:
    """A control server mounting the app under /api/mail (the prefix moves to SCRIPT_NAME)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        environ["SCRIPT_NAME"], environ["PATH_INFO"] = path[:9], path[9:]
        return self.app(environ, start_response)


@pytest.fixture
def sink(make_sink: SinkFactory) -> SmtpSink:
    return make_sink(ListenerSpec("plain", "plain"), allow_relay=True)


@pytest.fixture(params=["bare", "mounted"])
def http(request: pytest.FixtureRequest, sink: SmtpSink) -> Iterator[httpx.Client]:
    app = sink.wsgi_app() if request.param == "bare" else Mounted(sink.wsgi_app())
    server, url = serve(app)
    with httpx.Client(base_url=url, timeout=10) as client:
        yield client
    server.stop()


def send(sink: SmtpSink, data: bytes, recipients: list[str]) -> None:
    with smtplib.SMTP("127.0.0.1", sink.port("plain"), timeout=10) as client:
        client.sendmail("pbx@example.org", recipients, data)


def test_lists_details_raw_and_attachments(sink: SmtpSink, http: httpx.Client) -> None:
    data = voicemail().as_bytes(policy=voicemail().policy.clone(linesep="\r\n"))
    send(sink, data, [USER1])
    send(sink, message_bytes("second"), [USER2])

    everything = http.get("/api/mail/messages")
    assert everything.status_code == 200
    assert [m["mailbox"] for m in everything.json()["messages"]] == [USER1, USER2]
    listed = http.get("/api/mail/messages", params={"mailbox": USER1}).json()["messages"]
    (row,) = listed
    assert row["subject"] == "Neue Sprachnachricht von Jürgen Müller"
    assert (row["sender"], row["recipients"], row["size"]) == (
        "pbx@example.org",
        [USER1],
        len(data),
    )
    assert row["smtp"]["listener"] == "plain" and row["smtp"]["tls"] is False
    assert http.get("/api/mail/mailboxes").json()["mailboxes"][USER2] == 1

    path = f"/api/mail/messages/{quote(row['id'], safe='')}"
    detail = http.get(path).json()
    assert detail["sha256"] == row["sha256"]
    assert ["Subject", "Neue Sprachnachricht von Jürgen Müller"] in detail["headers"]
    assert [a["filename"] for a in detail["attachments"]] == ["voicemail.wav", "Übersicht.pdf"]
    assert detail["text_parts"][0]["text"] == "Sie haben eine neue Nachricht (0:42).\n"

    raw = http.get(path + "/raw")
    assert raw.content == data and raw.headers["content-type"] == "message/rfc822"
    wav = http.get(path + "/attachments/0")
    assert (wav.content, wav.headers["content-type"]) == (WAV, "audio/wav")
    pdf = http.get(path + "/attachments/1")
    assert pdf.content == PDF
    assert pdf.headers["content-disposition"] == "attachment; filename*=UTF-8''%C3%9Cbersicht.pdf"


def test_ids_with_slashes_work_encoded_or_not(
    sink: SmtpSink, store: ExchangeStore, http: httpx.Client
) -> None:
    for _ in range(200):  # ids are random base64; find one with a '/'
        item = store.deliver_message(USER1, subject="s", sender="", recipients=[], mime=b"X: 1\r\n")
        if "/" in item.id:
            break
    assert "/" in item.id
    for spelled in (item.id, quote(item.id, safe="")):
        assert http.get(f"/api/mail/messages/{spelled}").json()["id"] == item.id
        assert http.get(f"/api/mail/messages/{spelled}/raw").content == b"X: 1\r\n"


def test_outbound_lists_relayed_mail(sink: SmtpSink, http: httpx.Client) -> None:
    send(sink, message_bytes("away"), ["someone@elsewhere.com"])
    (row,) = http.get("/api/mail/outbound").json()["messages"]
    assert (row["subject"], row["relayed"], row["delivered"]) == (
        "away",
        ["someone@elsewhere.com"],
        {},
    )


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        (
            "GET",
            "/api/mail/messages?mailbox=nobody@domain.net",
            404,
            "no mailbox nobody@domain.net",
        ),
        ("GET", "/api/mail/messages?mailbox=", 400, "mailbox: empty address"),
        ("GET", "/api/mail/messages?mailbox=a&mailbox=b", 400, "mailbox: give one address"),
        ("GET", "/api/mail/messages/AAMknothing", 404, "no message AAMknothing"),
        ("GET", "/api/mail/messages/AAMknothing/raw", 404, "no message AAMknothing"),
        ("GET", "/api/mail/messages/AAMknothing/attachments/x", 400, None),
        ("GET", "/api/mail/nothing", 404, "no such resource: /nothing"),
        ("POST", "/api/mail/messages", 405, "only GET is supported"),
    ],
)
def test_errors_are_json(
    http: httpx.Client, method: str, path: str, status: int, error: str | None
) -> None:
    response = http.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    if error is not None:
        assert body["error"] == error


def test_missing_attachment_and_internal_errors_are_json(
    sink: SmtpSink, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(sink, message_bytes(), [USER1])
    (summary,) = sink.inspector.messages(USER1)
    missing = http.get(f"/api/mail/messages/{quote(summary.id, safe='')}/attachments/3")
    assert missing.status_code == 404 and "no attachment 3" in missing.json()["error"]

    def boom() -> None:
        raise RuntimeError("Traceback (most recent call last): secret")

    monkeypatch.setattr(sink.inspector, "counts", boom)
    failed = http.get("/api/mail/mailboxes")
    assert (failed.status_code, failed.json()) == (500, {"error": "internal error"})
