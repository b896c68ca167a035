"""The token gate in front of the PBX and control APIs, on a real server (httpx)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from simulators.bearer import COOKIE, BearerGate, is_loopback
from simulators.wsgi_server import WsgiServer

TOKEN = "s3cret-token"


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    body = f"query={environ.get('QUERY_STRING', '')}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = WsgiServer(BearerGate(echo, TOKEN), "127.0.0.1", 0, threads=2).start()
    try:
        yield f"http://127.0.0.1:{server.bind_addr[1]}/"
    finally:
        server.stop()


def test_without_a_token_the_answer_is_401_saying_what_to_send(url: str) -> None:
    answer = httpx.get(url + "api/users")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="harness"'
    assert "Authorization: Bearer" in answer.json()["error"]


def test_a_wrong_token_is_401_invalid_token(url: str) -> None:
    answer = httpx.get(url, headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert answer.json() == {"error": "the token is wrong"}
    assert TOKEN not in answer.text


def test_the_bearer_token_passes(url: str) -> None:
    answer = httpx.get(url + "x?a=1", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.text == "query=a=1"


def test_the_token_in_the_query_sets_a_cookie_and_is_not_passed_on(url: str) -> None:
    with httpx.Client(base_url=url) as browser:
        first = browser.get("/", params={"token": TOKEN, "since": "x"})
        assert first.status_code == 200
        assert first.text == "query=since=x"  # the app never sees the token
        cookie = first.headers["Set-Cookie"]
        assert cookie.startswith(f"{COOKIE}={TOKEN};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/control/status").status_code == 200  # the cookie counts
    assert httpx.get(url, cookies={COOKIE: "wrong"}).status_code == 401


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.10", False),
        ("exchange.example.com", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
