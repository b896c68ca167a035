"""How the simulators' cheroot servers hand requests to WSGI apps, without HTTP traps.

``guard(server)`` installs ``GuardedGateway`` on a ``cheroot.wsgi.Server``. It owns
three things cheroot leaves to chance:

- A request with both ``Content-Length`` and ``Transfer-Encoding: chunked`` is
  refused with 400 and the connection closed (RFC 9112 section 6.1: such a request
  may be smuggling); cheroot would read the chunks while the app read the length.
- A chunked body is read whole before the app runs, at most ``MAX_CHUNKED_BODY``
  bytes (413 beyond), so a malformed chunk size is a 400 here instead of an
  exception inside whichever app reads it (a 500, or a second response on the wire).
  The app sees a plain body with its ``CONTENT_LENGTH``.
- An app that answers before reading the body it was sent (a 401, 405, 413, 415):
  a small body already on its way is read and dropped (keep-alive holds); one that
  does not arrive within half a second, or a large one, closes the connection after
  the answer. cheroot alone reads the whole declared body before it sends the
  answer's headers: a client that declared a body and waits for the verdict before
  sending it hung until the socket timed out (10 s), holding a worker thread.
"""

from __future__ import annotations

import io
from typing import Any

from cheroot import wsgi

MAX_CHUNKED_BODY = 32 * 1024 * 1024
DRAIN_LIMIT = 1024 * 1024  # an unread body up to this size is read and dropped
DRAIN_SECONDS = 0.5  # how long a declared body may take to arrive before closing


class GuardedGateway(wsgi.Gateway_10):
    """WSGI 1.0 gateway with the three guards above."""

    def respond(self) -> None:
        req = self.req
        if req.chunked_read:
            if b"Content-Length" in req.inheaders:
                self._refuse(
                    "400 Bad Request",
                    "Content-Length and Transfer-Encoding: chunked cannot be sent together.",
                )
                return
            body = self._read_chunked()
            if body is None:
                return
            self.env["wsgi.input"] = io.BytesIO(body)
            self.env["CONTENT_LENGTH"] = str(len(body))
            self.env.pop("HTTP_TRANSFER_ENCODING", None)
        super().respond()

    def _read_chunked(self) -> bytes | None:
        try:
            body = self.req.rfile.read(MAX_CHUNKED_BODY + 1)
        except ValueError as exc:  # cheroot's word for a malformed chunk
            self._refuse("400 Bad Request", f"Malformed chunked body: {exc}")
            return None
        if len(body) > MAX_CHUNKED_BODY:
            self._refuse("413 Request Entity Too Large", "The request body is too large.")
            return None
        return bytes(body)

    def _refuse(self, status: str, message: str) -> None:
        req = self.req
        req.close_connection = True
        body = message.encode("utf-8")
        head = (
            f"{req.server.protocol} {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        req.conn.wfile.write(head.encode("latin-1") + body)
        req.sent_headers = True  # nothing more on this connection

    def start_response(self, status: str, headers: Any, exc_info: Any = None) -> Any:
        write = super().start_response(status, headers, exc_info)
        remaining = getattr(self.req.rfile, "remaining", 0)
        if remaining and not self._drained(remaining):
            self.req.close_connection = True  # cheroot then says Connection: close
        return write

    def _drained(self, remaining: int) -> bool:
        """Read a small unread body that is on its way (a client sending its body
        with the headers), so the connection stays usable; a body that does not come
        within ``DRAIN_SECONDS``, or a large one, closes the connection instead.
        Closing with unread data in the socket would reset it, and the client might
        never read the answer."""
        if remaining > DRAIN_LIMIT:
            return False
        sock = self.req.conn.socket
        before = sock.gettimeout()
        try:
            sock.settimeout(DRAIN_SECONDS)
            while remaining > 0:
                if not self.req.rfile.read(min(remaining, 65536)):
                    return False
                remaining = self.req.rfile.remaining
        except OSError:  # socket.timeout included
            return False
        finally:
            sock.settimeout(before)
        return True


def guard(server: wsgi.Server) -> wsgi.Server:
    """Serve ``server``'s requests through ``GuardedGateway``; returns the server."""
    server.gateway = GuardedGateway
    return server


__all__ = ["MAX_CHUNKED_BODY", "GuardedGateway", "guard"]
