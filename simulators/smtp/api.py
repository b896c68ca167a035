"""The sink's HTTP JSON inspection API, a WSGI app to mount on a control server.

    GET /api/mail/mailboxes                         {"mailboxes": {"user1@domain.net": 2, ...}}
    GET /api/mail/messages[?mailbox=ADDRESS]        {"messages": [summary, ...]}
    GET /api/mail/messages/{id}                     summary + headers, parts, text_parts,
                                                    attachments, defects
    GET /api/mail/messages/{id}/raw                 the bytes as received (message/rfc822)
    GET /api/mail/messages/{id}/attachments/{n}     the attachment's decoded bytes
    GET /api/mail/outbound                          {"messages": [transaction + subject]}

The app answers under ``/api/mail`` and also when mounted there (the prefix
already moved to SCRIPT_NAME). Store item ids are base64 and may contain '/':
the id may be sent percent-encoded or as is. Errors are ``{"error": message}``
with 400, 404, 405 or 500, never a traceback.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from simulators.smtp.delivery import header_subject
from simulators.smtp.inspection import MailInspector, MailNotFound

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

PREFIX = "/api/mail"
_MESSAGE = re.compile(r"^/messages/(?P<id>.+?)(?:/(?P<raw>raw)|/attachments/(?P<n>[^/]+))?/?$")


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}


class MailApi:
    """Routes GET requests to a ``MailInspector``."""

    def __init__(self, inspector: MailInspector) -> None:
        self.inspector = inspector

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
                raise HttpError(405, "only GET is supported")
            path = environ.get("PATH_INFO", "") or "/"
            if path.lower().startswith(PREFIX):
                path = path[len(PREFIX) :] or "/"
            query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            status, headers, body = self._route(path, query)
        except HttpError as exc:
            return self._error(start_response, exc)
        except MailNotFound as exc:
            return self._error(start_response, HttpError(404, str(exc)))
        except Exception:  # the client gets a clear error, the log gets the traceback
            log.exception("mail API failed on %s", environ.get("PATH_INFO"))
            return self._error(start_response, HttpError(500, "internal error"))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_REASONS[status]}", headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _route(
        self, path: str, query: dict[str, list[str]]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if path.rstrip("/") == "/mailboxes":
            return self._json({"mailboxes": self.inspector.counts()})
        if path.rstrip("/") == "/outbound":
            rows = [
                {**m.transaction.to_json(), "subject": header_subject(m.raw)}
                for m in self.inspector.outbound()
            ]
            return self._json({"messages": rows})
        if path.rstrip("/") == "/messages":
            mailboxes = query.get("mailbox", [])
            if len(mailboxes) > 1:
                raise HttpError(400, "mailbox: give one address")
            mailbox = mailboxes[0].strip() if mailboxes else None
            if mailbox == "":
                raise HttpError(400, "mailbox: empty address")
            summaries = self.inspector.messages(mailbox)
            return self._json({"messages": [s.to_json() for s in summaries]})
        match = _MESSAGE.match(path)
        if match is None:
            raise HttpError(404, f"no such resource: {path}")
        message_id = unquote(match["id"])
        if match["raw"]:
            raw = self.inspector.raw(message_id)
            return 200, [("Content-Type", "message/rfc822")], raw
        if match["n"] is not None:
            if not match["n"].isdigit():
                raise HttpError(400, "attachment index must be a number from 0")
            attachment = self.inspector.attachment(message_id, int(match["n"]))
            headers = [("Content-Type", attachment.content_type)]
            if attachment.filename:
                headers.append(
                    (
                        "Content-Disposition",
                        f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
                    )
                )
            return 200, headers, attachment.data
        return self._json(self.inspector.message(message_id).to_json())

    @staticmethod
    def _json(payload: Any, status: int = 200) -> tuple[int, list[tuple[str, str]], bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return status, [("Content-Type", "application/json; charset=utf-8")], body

    @staticmethod
    def _error(start_response: StartResponse, exc: HttpError) -> list[bytes]:
        body = json.dumps({"error": exc.message}, ensure_ascii=False).encode("utf-8")
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        if exc.status == 405:
            headers.append(("Allow", "GET, HEAD"))
        start_response(f"{exc.status} {_REASONS[exc.status]}", headers)
        return [body]


def make_mail_app(inspector: MailInspector) -> WsgiApp:
    """The inspection API over ``inspector`` (see the module docstring for routes)."""
    return MailApi(inspector)


__all__ = ["MailApi", "WsgiApp", "make_mail_app"]
