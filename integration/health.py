"""The engine's health endpoint: ``GET /health`` answers each user's polling state.

A deliberately small HTTP/1.1 responder on asyncio (the engine needs no web
framework and never imports the simulators): one request per connection, a head of
at most ``MAX_HEAD`` bytes read within ``READ_TIMEOUT``, JSON out. ``/health`` gives
the summary and every user (last poll, last good poll, failures in a row, last
error, next poll); ``/health?user=EXT`` one user. The status code is 200 while every
user reads, 503 when some fail (so a load balancer or a monitoring check can act on
it without parsing). It shows mailbox addresses: bind it to loopback unless the
network it is on may see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

MAX_HEAD = 8192
READ_TIMEOUT = 5.0
HealthReport = Callable[[], dict[str, Any]]


def _answer(status: str, payload: Any) -> bytes:
    body = json.dumps(payload, indent=1).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def respond(request_line: str, report: HealthReport) -> bytes:
    """The answer to one request line (``GET /health HTTP/1.1``)."""
    parts = request_line.split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return _answer("400 Bad Request", {"error": "not an HTTP request line"})
    method, target, _ = parts
    url = urlsplit(target)
    if url.path.rstrip("/") != "/health":
        return _answer("404 Not Found", {"error": f"no such resource: {url.path}; try /health"})
    if method not in ("GET", "HEAD"):
        return _answer("405 Method Not Allowed", {"error": "use GET"})
    state = report()
    wanted = parse_qs(url.query).get("user")
    if wanted:
        users = [u for u in state.get("users", []) if u.get("extension") == wanted[-1]]
        if not users:
            return _answer("404 Not Found", {"error": f"user {wanted[-1]} is not polled"})
        return _answer("200 OK", users[0])
    status = "200 OK" if state.get("status") == "ok" else "503 Service Unavailable"
    answer = _answer(status, state)
    return answer.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" if method == "HEAD" else answer


class HealthServer:
    """Serves ``report()`` at ``/health`` on ``host:port`` (0: a free port)."""

    def __init__(self, report: HealthReport, host: str = "127.0.0.1", port: int = 0) -> None:
        self.report = report
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> HealthServer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_HEAD)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/health"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            writer.write(respond(line, self.report))
        except asyncio.LimitOverrunError:
            writer.write(
                _answer("431 Request Header Fields Too Large", {"error": "head too large"})
            )
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass  # a client that says nothing (or too slowly) gets nothing
        except Exception:  # a bug in the report: say so, keep serving
            log.exception("health report failed")
            writer.write(_answer("500 Internal Server Error", {"error": "internal error"}))
        finally:
            try:
                await writer.drain()
                writer.close()
            except ConnectionError:
                pass

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            # Since Python 3.12.1 wait_closed() also waits for open connections; a
            # monitor that keeps one open must not hold the engine's shutdown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None
