"""The simulators' HTTP server against many pooled clients and hostile ones: silent
connections that never start TLS, slow clients, malformed requests; keep-alive for
every connection; the answers' framing (Content-Length, HEAD, chunked requests)."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from simulators.exchange.store import ExchangeStore
from simulators.pbx import Pbx
from simulators.pbx.server import PbxServer
from simulators.site import RunningSite, start_site
from simulators.wsgi_server import WsgiServer


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("a bug")
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    answer = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {len(body)}".encode()
    start_response("207 Multi-Status", [("Content-Type", "text/plain")])
    return [answer]


@pytest.fixture
def server() -> Iterator[WsgiServer]:
    with WsgiServer(echo, threads=2, request_timeout=0.5, max_body=1000) as running:
        yield running


@pytest.fixture
def https_site() -> Iterator[RunningSite]:
    site = start_site(ExchangeStore(), tls=True)
    yield site
    site.stop()


def raw(server: WsgiServer) -> socket.socket:
    return socket.create_connection(server.bind_addr, timeout=5)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_silent_connections_that_never_start_tls_do_not_stall_the_https_site(
    https_site: RunningSite,
) -> None:
    host, port = "127.0.0.1", https_site.port
    silent = [socket.create_connection((host, port)) for _ in range(30)]
    try:
        began = time.monotonic()
        with httpx.Client(verify=ssl.create_default_context(cafile=https_site.ca_cert_pem)) as c:
            response = c.post(https_site.ews_url, content=b"<x/>")
        assert response.status_code == 401  # IIS asks for credentials: the site answered
        assert response.headers["server"] == "Microsoft-IIS/7.0"
        assert time.monotonic() - began < 2.0
    finally:
        for sock in silent:
            sock.close()


def test_slow_clients_do_not_exhaust_the_pbx_api() -> None:
    with PbxServer(Pbx(), threads=8) as pbx_server:
        host, port = pbx_server.address
        slow = []
        for _ in range(40):  # five times its threads, each a request head never finished
            sock = socket.create_connection((host, port))
            sock.sendall(b"GET /api/system HTTP/1.1\r\nHost: pbx\r\nX-Slow: ")
            slow.append(sock)
        try:
            began = time.monotonic()
            response = httpx.get(pbx_server.url + "api/system", timeout=5)
            assert response.status_code == 200 and "calendar_integration" in response.json()
            assert time.monotonic() - began < 2.0
        finally:
            for sock in slow:
                sock.close()


def test_a_slow_client_is_cut_off_with_408(server: WsgiServer) -> None:
    sock = raw(server)
    sock.sendall(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
    began = time.monotonic()
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 0.3 < time.monotonic() - began < 3


def test_workers_stay_free_for_others_while_slow_clients_trickle(server: WsgiServer) -> None:
    slow = [raw(server) for _ in range(10)]
    for sock in slow:
        sock.sendall(b"GET / HTTP/1.1\r\n")
    response = httpx.get(f"http://127.0.0.1:{server.bind_addr[1]}/fast")
    assert response.status_code == 207 and response.text == "GET /fast 0"
    for sock in slow:
        sock.close()


def test_every_pooled_connection_is_kept_alive(server: WsgiServer) -> None:
    url = f"http://127.0.0.1:{server.bind_addr[1]}/poll"
    limits = httpx.Limits(max_connections=60, max_keepalive_connections=60)
    with httpx.Client(limits=limits) as client, ThreadPoolExecutor(60) as pool:
        for _ in range(3):
            statuses = list(pool.map(lambda _: client.get(url).status_code, range(60)))
            assert statuses == [207] * 60
    assert server.connections_accepted <= 60  # no connection closed for being one too many


def test_many_connections_at_once_are_all_accepted_and_answered(server: WsgiServer) -> None:
    socks = [raw(server) for _ in range(300)]  # far past cheroot's backlog of 5
    for sock in socks:
        sock.sendall(b"GET /many HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    answers = [read_all(sock) for sock in socks]
    assert all(a.startswith(b"HTTP/1.1 207 Multi-Status\r\n") for a in answers)
    assert server.connections_accepted == 300


def test_malformed_request_gets_400_and_the_connection_closes(server: WsgiServer) -> None:
    sock = raw(server)
    sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_body_over_the_limit_gets_413(server: WsgiServer) -> None:
    response = httpx.post(f"http://127.0.0.1:{server.bind_addr[1]}/big", content=b"x" * 2000)
    assert response.status_code == 413


def test_framing_reason_head_chunked_and_app_failure(server: WsgiServer) -> None:
    base = f"http://127.0.0.1:{server.bind_addr[1]}"
    with httpx.Client() as client:
        answer = client.post(base + "/a%20b", content=b"12345")
        assert answer.reason_phrase == "Multi-Status"
        assert answer.headers["content-length"] == str(len(answer.content))
        assert answer.text == "POST /a b 5"
        head = client.head(base + "/h")
        assert head.status_code == 207 and head.content == b""
        chunked = client.post(base + "/c", content=iter([b"ab", b"cde"]))  # chunked upload
        assert chunked.text == "POST /c 5"
        failed = client.get(base + "/boom")
        assert failed.status_code == 500 and "Traceback" not in failed.text
        assert client.get(base + "/after").status_code == 207  # still serving


def test_stop_releases_the_port_quickly() -> None:
    running = WsgiServer(echo).start()
    port = running.bind_addr[1]
    began = time.monotonic()
    running.stop()
    running.stop()  # twice is fine
    assert time.monotonic() - began < 2
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/")


def test_stop_closes_kept_alive_connections() -> None:
    running = WsgiServer(echo).start()
    sock = socket.create_connection(running.bind_addr, timeout=5)
    sock.sendall(b"GET /kept HTTP/1.1\r\nHost: h\r\n\r\n")
    assert sock.recv(65536).startswith(b"HTTP/1.1 207 ")
    running.stop()
    assert sock.recv(65536) == b""  # closed by the server, not left hanging
