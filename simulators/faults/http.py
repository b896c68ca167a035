"""The fault applier of the HTTP services (EWS, WebDAV, OWA and the PBX's API).

``FaultInjecting`` is WSGI middleware in front of one service: for each request it
asks the injector which fault acts on it (naming the request's mailbox or user for
the ``mailbox`` trigger) and answers as the catalogue's row says: an EWS SOAP fault
or per-message error as Exchange 2007 words it, an IIS status page, or a ``Wire``
for what the server's socket does (late, no answer, reset, cut short). The fault's
name goes into the environ (``INJECTED_KEY``), so the request journal shows it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from simulators.exchange.ews.context import MAILBOX_TARGET_KEY
from simulators.exchange.ews.errors import EwsFault, fault_document, message_for
from simulators.exchange.ews.middleware import FAULT_KEY
from simulators.faults.injector import INJECTED_KEY, Fault, FaultInjector
from simulators.http_out import iis_error_page
from simulators.wsgi_server import WIRE_KEY, Wire

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Who = Callable[[dict[str, Any]], list[str]]

_SMTP_ADDRESS = re.compile(rb"<(?:\w+:)?(?:PrimarySmtpAddress|EmailAddress)>\s*([^<\s]+)\s*<")
_OPERATION = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:(\w+):)?(\w+)")
_M = "http://schemas.microsoft.com/exchange/services/2006/messages"
_T = "http://schemas.microsoft.com/exchange/services/2006/types"
_S = "http://schemas.xmlsoap.org/soap/envelope/"
_REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    440: "Login Timeout",
    500: "Internal Server Error",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}
_UNAVAILABLE_PAGE = (
    b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">'
    b'\r\n<HTML><HEAD><TITLE>Service Unavailable</TITLE>\r\n<META HTTP-EQUIV="Content-Type" '
    b'Content="text/html; charset=us-ascii"></HEAD>\r\n<BODY><h2>Service Unavailable</h2>\r\n'
    b"<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n</BODY></HTML>\r\n"
)


def _body(environ: dict[str, Any]) -> bytes:
    """The request body, read and put back for the service behind."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    data: bytes = stream.read()
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def ews_who(environ: dict[str, Any]) -> list[str]:
    """The mailboxes an EWS request names (the impersonated one first)."""
    return [m.decode("utf-8", "replace").lower() for m in _SMTP_ADDRESS.findall(_body(environ))]


def path_who(environ: dict[str, Any]) -> list[str]:
    """The mailbox a WebDAV or OWA path names (its first segment)."""
    parts = [p for p in unquote(str(environ.get("PATH_INFO", ""))).split("/") if p]
    return [parts[0].lower()] if parts else []


def pbx_who(environ: dict[str, Any]) -> list[str]:
    """The extension a PBX API path names (/api/users/<extension>/...), and the
    user's mailbox when the journal's middleware found it."""
    parts = [p for p in str(environ.get("PATH_INFO", "")).split("/") if p]
    who = [parts[2]] if parts[:2] == ["api", "users"] and len(parts) > 2 else []
    mailbox = environ.get(MAILBOX_TARGET_KEY)
    return [*who, str(mailbox)] if mailbox else who


WHO: dict[str, Who] = {"ews": ews_who, "webdav": path_who, "owa": path_who, "pbx": pbx_who}


class FaultInjecting:
    """Answer for ``service`` as the fault in force says, if one acts on the request."""

    def __init__(
        self, app: WsgiApp, injector: FaultInjector, service: str, who: Who | None = None
    ) -> None:
        self.app = app
        self.injector = injector
        self.service = service
        self.who = who or WHO.get(service, lambda environ: [])

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.injector.idle():  # nothing in force: no body to look into
            return self.app(environ, start_response)
        now = self.injector.clock()
        fault = self.injector.match(
            self.service, self.who(environ), now, stage=str(environ.get("PATH_INFO", ""))
        )
        if fault is None:
            return self.app(environ, start_response)
        environ[INJECTED_KEY] = fault.name
        return answer(fault, now, environ, start_response, self.app)


def answer(
    fault: Fault,
    now: Any,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    app: WsgiApp,
) -> Iterable[bytes]:
    """What the service answers while ``fault`` acts on this request."""
    row = fault.row
    action = row.action
    if action == "latency":
        environ[WIRE_KEY] = Wire(delay=fault.delay())
        return app(environ, start_response)
    if action in ("hold", "pbx_unreachable"):
        environ[WIRE_KEY] = Wire(action="hold")
        environ[FAULT_KEY] = "NoAnswer"
        return _send(start_response, "500 No Answer", "text/plain", b"")  # never sent
    if action in ("reset", "refuse"):
        # refused: the port is shut by a gate; a request still arriving on an open
        # connection is cut, as a stopping server cuts it.
        environ[WIRE_KEY] = Wire(action="reset")
        environ[FAULT_KEY] = "ConnectionReset"
        return _send(start_response, "500 Reset", "text/plain", b"")  # never sent
    if action == "truncated":
        environ[WIRE_KEY] = Wire(action="truncate")
        environ[FAULT_KEY] = "Truncated"
        return app(environ, start_response)
    if action == "malformed":
        environ[FAULT_KEY] = "MalformedXml"
        return _malformed(environ, start_response, app)
    if action == "soap_fault":
        values = {}
        if row.code == "ErrorServerBusy":
            wait = fault.wait(now, fault.back_off)
            values["BackOffMilliseconds"] = str(max(int(wait.total_seconds() * 1000), 0))
        ews_fault = EwsFault(row.code, values=values)
        environ[FAULT_KEY] = row.code
        return _send(
            start_response,
            "500 Internal Server Error",
            "text/xml; charset=utf-8",
            fault_document(ews_fault),
        )
    if action == "response_error":
        environ[FAULT_KEY] = row.code
        return _send(
            start_response, "200 OK", "text/xml; charset=utf-8", _response_error(environ, row.code)
        )
    return _status(fault, now, environ, start_response)


def _send(
    start_response: Callable[..., Any],
    status: str,
    content_type: str,
    body: bytes,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *(extra or [])]
    start_response(status, headers)
    return [body]


def _status(
    fault: Fault, now: Any, environ: dict[str, Any], start_response: Callable[..., Any]
) -> list[bytes]:
    code = fault.row.status
    status = f"{code} {_REASONS.get(code, 'Error')}"
    environ[FAULT_KEY] = f"HTTP {code}"
    if code == 503:
        asked = timedelta(seconds=fault.retry_after) if fault.retry_after is not None else None
        retry = max(int(fault.wait(now, asked).total_seconds()), 0)
        environ[FAULT_KEY] = "ServiceUnavailable"
        return _send(
            start_response,
            status,
            "text/html; charset=us-ascii",
            _UNAVAILABLE_PAGE,
            [("Retry-After", str(retry))],
        )
    extra: list[tuple[str, str]] = []
    if code == 401:
        # The server's own name: never the client's Host header.
        extra.append(("WWW-Authenticate", f'Basic realm="{environ.get("SERVER_NAME", "")}"'))
    return _send(start_response, status, "text/html", iis_error_page(status), extra)


def _malformed(
    environ: dict[str, Any], start_response: Callable[..., Any], app: WsgiApp
) -> list[bytes]:
    """The real answer's first half and an unclosed tag: XML no parser accepts."""
    seen: list[Any] = []

    def keep(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        seen.append(status)
        return lambda data: None

    result = app(environ, keep)
    try:
        real = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    head = real[: len(real) // 2] or b'<?xml version="1.0" encoding="utf-8"?><s:Envelope'
    return _send(start_response, "200 OK", "text/xml; charset=utf-8", head + b"<<&")


def _response_error(environ: dict[str, Any], code: str) -> bytes:
    """The operation's response with one per-message error, as Exchange 2007 sends
    ``ErrorMailboxStoreUnavailable`` for a mailbox whose database is down."""
    match = _OPERATION.search(_body(environ))
    operation = match.group(2).decode("ascii", "replace") if match else "FindItem"
    message = message_for(code)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{_S}"><s:Header>'
        f'<t:ServerVersionInfo xmlns:t="{_T}" MajorVersion="8" MinorVersion="3" '
        'MajorBuildNumber="83" MinorBuildNumber="6"/></s:Header><s:Body>'
        f'<m:{operation}Response xmlns:m="{_M}" xmlns:t="{_T}"><m:ResponseMessages>'
        f'<m:{operation}ResponseMessage ResponseClass="Error">'
        f"<m:MessageText>{message}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode>"
        f"<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:{operation}ResponseMessage>"
        f"</m:ResponseMessages></m:{operation}Response></s:Body></s:Envelope>"
    ).encode()


__all__ = ["FAULT_KEY", "WHO", "FaultInjecting", "answer", "ews_who", "path_who", "pbx_who"]
