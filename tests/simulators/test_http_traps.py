"""The simulators' HTTP server on a real socket against HTTP traps: no request
smuggling, no 500 for a bad chunk, and no client left waiting because it declared a
body the app never read."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from simulators.wsgi_server import WsgiServer
from tests.conftest import ALICE, SERVICE_PASSWORD, SERVICE_USER, EwsServer
from tests.simulators.ews.soap import calendar_view, distinguished, envelope


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["REQUEST_METHOD"] == "POST" and environ.get("CONTENT_TYPE") != "text/plain":
        body = b"send text/plain"  # answered without reading the body
        start_response("415 Unsupported Media Type", [("Content-Length", str(len(body)))])
        return [body]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    got = environ["wsgi.input"].read(length) if length else b""
    body = b"got " + got
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def port() -> Iterator[int]:
    server = WsgiServer(_app, "127.0.0.1", 0, threads=2, name="traps", request_timeout=1.0)
    server.start()
    yield int(server.bind_addr[1])
    server.stop()


def _exchange(port: int, request: bytes, wait: float = 3.0) -> tuple[bytes, float]:
    """Everything the server sends until it closes (or ``wait`` passes), and how long."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(wait)
        sock.sendall(request)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except TimeoutError:
            data += b"<still open>"
    return data, time.monotonic() - started


def test_content_length_with_chunked_is_refused_and_closed(port: int) -> None:
    data, _ = _exchange(
        port,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close" in data and data.count(b"HTTP/1.1 ") == 1
    assert b"cannot be sent together" in data and not data.endswith(b"<still open>")


def test_a_malformed_chunk_is_a_400(port: int) -> None:
    data, _ = _exchange(
        port,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    )
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"not valid HTTP/1.1" in data
    assert b"Connection: close" in data and not data.endswith(b"<still open>")
    assert b"bytearray" not in data  # no parser internals in the answer


def test_a_chunked_body_reaches_the_app_whole_and_keep_alive_holds(port: int) -> None:
    data, _ = _exchange(
        port,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert data.count(b"HTTP/1.1 200 OK") == 2 and b"got abc" in data


def test_a_body_that_never_comes_is_answered_and_closed(port: int) -> None:
    # The client declares 1000 bytes and never sends them: it gets a 408 once the
    # request timeout passes (1 s here), not a connection left hanging.
    data, took = _exchange(
        port,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n",
    )
    assert data.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in data
    assert not data.endswith(b"<still open>") and took < 2.5


def test_ews_content_length_with_chunked_is_a_400_not_a_500(ews: EwsServer) -> None:
    body = envelope(
        calendar_view(
            "2026-03-16T00:00:00Z", "2026-03-17T00:00:00Z", distinguished("calendar", ALICE)
        ),
        impersonate=ALICE,
    ).encode()
    auth = base64.b64encode(f"{SERVICE_USER}:{SERVICE_PASSWORD}".encode())
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    data, _ = _exchange(
        ews.site.port,
        b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + auth + b"\r\n"
        b"Content-Type: text/xml\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
        % len(body)
        + chunked,
    )
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n") and data.count(b"HTTP/1.1 ") == 1
