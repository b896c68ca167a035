"""The engine's health endpoint on a real socket: the summary and each user, 503 while
some user fails, clear errors for anything else, nothing for a client that says nothing."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx

from integration.health import HealthServer, respond

STATE: dict[str, Any] = {
    "status": "ok",
    "users": [{"extension": "100", "failures_in_a_row": 0}],
}


def test_respond_routes_and_errors() -> None:
    def report() -> dict[str, Any]:
        return STATE

    assert respond("GET /health HTTP/1.1", report).startswith(b"HTTP/1.1 200 OK\r\n")
    assert respond("GET /health/ HTTP/1.1", report).startswith(b"HTTP/1.1 200 OK\r\n")
    one = respond("GET /health?user=100 HTTP/1.1", report)
    assert one.startswith(b"HTTP/1.1 200 OK") and b'"extension": "100"' in one
    assert respond("GET /health?user=999 HTTP/1.1", report).startswith(b"HTTP/1.1 404")
    assert respond("GET / HTTP/1.1", report).startswith(b"HTTP/1.1 404")
    assert respond("POST /health HTTP/1.1", report).startswith(b"HTTP/1.1 405")
    assert respond("\x00garbage", report).startswith(b"HTTP/1.1 400")
    head = respond("HEAD /health HTTP/1.1", report)
    assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
    failing = respond("GET /health HTTP/1.1", lambda: {**STATE, "status": "degraded"})
    assert failing.startswith(b"HTTP/1.1 503 Service Unavailable")


def test_served_over_http_and_survives_silent_and_huge_clients() -> None:
    state = dict(STATE)

    async def main() -> None:
        server = await HealthServer(lambda: state).start()
        try:
            async with httpx.AsyncClient() as client:
                answer = await client.get(server.url)
                assert answer.status_code == 200 and answer.json()["users"][0]["extension"] == "100"
                state["status"] = "degraded"
                assert (await client.get(server.url)).status_code == 503
            # A client that connects and sends nothing holds nothing but its socket...
            silent = socket.create_connection(("127.0.0.1", server.port))
            # ... one that sends an endless head is refused ...
            with socket.create_connection(("127.0.0.1", server.port)) as huge:
                huge.sendall(b"GET /health HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
                data = await asyncio.to_thread(huge.recv, 1000)
                assert data.startswith(b"HTTP/1.1 431")
            # ... and others are answered meanwhile.
            async with httpx.AsyncClient() as client:
                assert (await client.get(server.url)).status_code == 503
            silent.close()
        finally:
            await server.aclose()

    asyncio.run(main())
