"""The /ews/exchange.asmx endpoint in front of spyne: HTTP checks, the SOAP
envelope, the headers, impersonation, and every fault that stops a request before
an operation runs.

Order of checks: POST (405), text/xml (415), size (413), well-formed XML without
DOCTYPE, SOAP 1.1 envelope and a single body element (ErrorSchemaValidation), a
known operation (ErrorInvalidRequest), RequestServerVersion (ErrorInvalidServerVersion),
then ExchangeImpersonation (ErrorImpersonationDenied, ErrorNonExistentMailbox,
ErrorImpersonateUserDenied). Unknown headers are ignored, as Exchange 2007 ignores
the TimeZoneContext header newer clients send. The engine's poll, when it succeeds,
is answered by ``calendar_poll`` before any of this (the same bytes, without spyne).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from simulators.exchange.ews import calendar_poll
from simulators.exchange.ews.auth import ACCOUNT_KEY, Impersonation, resolve_caller
from simulators.exchange.ews.context import EwsCall, EwsOptions
from simulators.exchange.ews.errors import EwsFault, fault_document
from simulators.exchange.ews.middleware import FAULT_KEY, IMPERSONATED_KEY, OPERATION_KEY, WsgiApp
from simulators.exchange.ews.service import CALL_KEY, DOCUMENT_KEY, OPERATIONS
from simulators.exchange.ews.xmlkit import (
    Element,
    M,
    S,
    SchemaViolation,
    Sequence_,
    T,
    attr,
    local,
    namespace,
    parse_document,
    text,
)
from simulators.exchange.store import ExchangeStore

log = logging.getLogger(__name__)

XML_TYPES = ("text/xml", "application/xml", "application/soap+xml")
VERSIONS = ("Exchange2007", "Exchange2007_SP1")
_ENVELOPE = Sequence_(("s:Header", 0, 1), ("s:Body", 1, 1))
_IMPERSONATION = Sequence_(("t:ConnectingSID", 1, 1))
_CONNECTING_SID = Sequence_(
    ("t:PrincipalName", 0, 1), ("t:SID", 0, 1), ("t:PrimarySmtpAddress", 0, 1)
)
_PLAIN = "text/plain; charset=utf-8"


def _plain(
    start_response: Callable[..., Any], status: str, message: str, *extra: Any
) -> list[bytes]:
    body = message.encode()
    start_response(status, [("Content-Type", _PLAIN), ("Content-Length", str(len(body))), *extra])
    return [body]


class EwsEndpoint:
    """WSGI app: a request in, spyne (or a fault) out. Needs BasicAuth in front."""

    def __init__(self, store: ExchangeStore, options: EwsOptions, operations: WsgiApp) -> None:
        self.store = store
        self.options = options
        self.operations = operations

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(
                start_response,
                "405 Method Not Allowed",
                "The HTTP verb used to access this page is not allowed.",
                ("Allow", "POST"),
            )
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type not in XML_TYPES:
            return _plain(
                start_response,
                "415 Unsupported Media Type",
                f"Cannot process the message because the content type '{content_type}' "
                "is not the expected type 'text/xml; charset=utf-8'.",
            )
        body = self._read_body(environ)
        if body is None:
            return _plain(
                start_response, "413 Request Entity Too Large", "The request is too large."
            )
        if self.options.fast_calendar_view:
            fast = calendar_poll.answer(self.store, self.options, environ, body)
            if fast is not None:
                start_response(fast[0], fast[1])
                return fast[2]
        try:
            self._prepare(environ, body)
        except SchemaViolation as violation:
            return self._fault(environ, start_response, EwsFault.schema(violation))
        except EwsFault as fault:
            return self._fault(environ, start_response, fault)
        except Exception:
            log.exception("EWS request could not be prepared")
            return self._fault(environ, start_response, EwsFault("ErrorInternalServerError"))
        return self.operations(environ, start_response)

    def _read_body(self, environ: dict[str, Any]) -> bytes | None:
        """The request body, None when over the limit. Chunked bodies (no length) too."""
        limit = self.options.max_request_bytes
        stream = environ["wsgi.input"]
        declared = environ.get("CONTENT_LENGTH")
        if not declared:
            if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
                return b""
            body = stream.read(limit + 1)
            return body if len(body) <= limit else None
        try:
            length = int(declared)
        except ValueError:
            return None
        if length < 0 or length > limit:
            return None
        return stream.read(length) if length else b""

    def _prepare(self, environ: dict[str, Any], body: bytes) -> None:
        root = parse_document(body)
        if root.tag != f"{{{S}}}Envelope":
            raise SchemaViolation(
                f"The root element '{local(root.tag)}' in namespace '{namespace(root.tag)}' is "
                f"not a SOAP 1.1 envelope ('Envelope' in namespace '{S}').",
                root.sourceline,
            )
        parts = _ENVELOPE.read(root)
        body_el = parts.one("s:Body")
        request = [c for c in body_el if isinstance(c.tag, str)]
        if len(request) != 1:
            raise SchemaViolation(
                f"The element 'Body' in namespace '{S}' must contain exactly one request "
                f"element, not {len(request)}.",
                body_el.sourceline,
            )
        operation = request[0]
        name = local(operation.tag)
        if namespace(operation.tag) != M or name not in OPERATIONS:
            raise EwsFault(
                "ErrorInvalidRequest",
                f"The request is invalid: '{name}' in namespace '{namespace(operation.tag)}' "
                "is not an operation of this server.",
            )
        environ[OPERATION_KEY] = name
        header = parts.opt("s:Header")
        impersonation = self._headers(header) if header is not None else None
        caller = resolve_caller(self.store, environ[ACCOUNT_KEY], impersonation)
        if caller.impersonated is not None:
            environ[IMPERSONATED_KEY] = caller.impersonated.smtp
        environ[DOCUMENT_KEY] = root
        environ[CALL_KEY] = EwsCall(self.store, caller, self.options, environ)

    @staticmethod
    def _headers(header: Element) -> Impersonation | None:
        impersonation = None
        for child in header:
            if not isinstance(child.tag, str) or namespace(child.tag) != T:
                continue
            name = local(child.tag)
            if name == "RequestServerVersion":
                version = attr(child, "Version", required=True)
                if version not in VERSIONS:
                    raise EwsFault("ErrorInvalidServerVersion")
            elif name == "ExchangeImpersonation":
                sid = _IMPERSONATION.read(child).one("t:ConnectingSID")
                ids = _CONNECTING_SID.read(sid)
                found = {
                    key: text(el).strip() or None
                    for key, el in (
                        ("principal_name", ids.opt("t:PrincipalName")),
                        ("sid", ids.opt("t:SID")),
                        ("smtp", ids.opt("t:PrimarySmtpAddress")),
                    )
                    if el is not None
                }
                impersonation = Impersonation(**found)
        return impersonation

    @staticmethod
    def _fault(
        environ: dict[str, Any], start_response: Callable[..., Any], fault: EwsFault
    ) -> list[bytes]:
        environ[FAULT_KEY] = fault.code
        body = fault_document(fault)
        start_response(
            "500 Internal Server Error",
            [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]
