"""The WebDAV front end's WSGI app for /exchange/ and /public/.

Order per request: the site's auth gate (Basic or OWA forms, ``owa.gate``), then a
check that an XML body is well-formed and has no DOCTYPE (400), then resolution of
the path (403 without FullAccess, 404 for an unknown mailbox), then dispatch:
SEARCH, PROPPATCH, DELETE and GET on Exchange data are answered here (wsgidav would
refuse SEARCH with 405 before any provider code runs, and knows nothing of Exchange's
creation-by-PROPPATCH); PROPFIND, OPTIONS and everything in the scratch area go to
wsgidav, whose answers are reshaped the Exchange way (207 as exactly ``text/xml``,
DELETE ``200 OK``, SEARCH announced in OPTIONS). The engine's poll, a SEARCH of one
calendar folder, is answered by ``calendar_search`` before any of this (the same
bytes, without the XML and SQL parsers) unless ``fast_search`` is off.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from wsgidav.error_printer import ErrorPrinter
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from simulators.exchange.ews.auth import ACCOUNT_KEY
from simulators.exchange.ews.context import MAILBOX_TARGET_KEY
from simulators.exchange.ews.middleware import FAULT_KEY, OPERATION_KEY
from simulators.exchange.owa.gate import AuthGate, site_base
from simulators.exchange.owa.sessions import SiteAuth
from simulators.exchange.store import ExchangeStore, StoreError
from simulators.exchange.webdav import calendar_search, galfind, mail_writes, search, writes
from simulators.exchange.webdav.locate import (
    FolderTarget,
    ItemNames,
    LocateError,
    Locator,
    RootTarget,
    ScratchTarget,
    Target,
)
from simulators.exchange.webdav.provider import LOCATOR_KEY, ExchangeProvider
from simulators.exchange.webdav.scratch import ScratchSpace
from simulators.exchange.webdav.xmlio import XmlBodyError, parse_body
from simulators.http_out import iis_error_page

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Reply = tuple[str, list[tuple[str, str]], bytes]

_XML_BODY_METHODS = frozenset({"PROPFIND", "PROPPATCH", "SEARCH", "LOCK"})
_OWN_METHODS = frozenset(
    {"SEARCH", "PROPPATCH", "DELETE", "GET", "HEAD", "PUT", "MKCOL", "MOVE", "COPY"}
)
_REQUEST_HEADERS = (
    "if-match",
    "if-none-match",
    "content-type",
    "destination",
    "overwrite",
    "saveinsent",
    "translate",
)


def _wsgidav(scratch: ScratchSpace) -> WsgiDAVApp:
    config = {
        "provider_mapping": {
            "/exchange": ExchangeProvider(scratch),
            "/public": ExchangeProvider(scratch),
        },
        "middleware_stack": [ErrorPrinter, RequestResolver],
        "lock_storage": True,
        "property_manager": True,
        "verbose": 0,
        "logging": {"enable": False},
        "dir_browser": {"enable": False},
    }
    return WsgiDAVApp(config)


class WebDavFrontEnd:
    """WSGI app of /exchange/ and /public/ (mount it at both).

    ``fast_search``: answer the engine's calendar SEARCH by ``calendar_search``; the
    answer is the same to the byte, off only to compare the two paths.
    """

    def __init__(self, store: ExchangeStore, auth: SiteAuth, *, fast_search: bool = True) -> None:
        self.store = store
        self.auth = auth
        self.fast_search = fast_search
        self.names = ItemNames()
        self.scratch = ScratchSpace()
        self.dav = _wsgidav(self.scratch)
        self.gate = AuthGate(self._authenticated, auth, "dav")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # The site stripped its mount prefix; wsgidav routes /exchange and /public itself.
        environ["PATH_INFO"] = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        environ["SCRIPT_NAME"] = ""
        return self.gate(environ, start_response)

    def reset(self) -> None:
        """Forget the scratch area with its dead properties and locks (a new scenario
        starts); item names given over WebDAV stay with their items."""
        self.scratch.clear()
        self.dav = _wsgidav(self.scratch)

    # ------------------------------------------------------------------ dispatch
    def _authenticated(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD", "")
        environ[OPERATION_KEY] = method
        if not _utf8_path(environ):
            # Overlong encodings such as %c0%ae ('.') are no path: wsgidav decoded them
            # with an exception (a 500). IIS refuses such URLs the same way.
            return self._send(environ, start_response, _text("400 Bad Request", _BAD_PATH))
        if method == "SEARCH" and self.fast_search:
            body = _kept_body(environ)
            fast = calendar_search.answer(
                self.store, self.names, environ, _decoded_path(environ), body
            )
            if fast is not None:
                return self._send(environ, start_response, fast)
        locator = Locator(self.store, self.names, environ.get(ACCOUNT_KEY), site_base(environ))
        environ[LOCATOR_KEY] = locator
        try:
            root = self._checked_body(environ) if method in _XML_BODY_METHODS else None
            target = locator.resolve(_decoded_path(environ))
        except XmlBodyError as exc:
            return self._send(environ, start_response, _text("400 Bad Request", str(exc)))
        except LocateError as exc:
            status = "403 Forbidden" if exc.status == 403 else "404 Not Found"
            return self._send(environ, start_response, _text(status, exc.message))
        mailbox = getattr(target, "mailbox", None) or getattr(
            getattr(target, "parent", None), "mailbox", None
        )
        if mailbox is not None:
            environ[MAILBOX_TARGET_KEY] = mailbox.smtp
        if isinstance(target, ScratchTarget) or method not in _OWN_METHODS:
            return self._to_wsgidav(environ, start_response)
        try:
            reply = self._own(method, environ, locator, target, root)
        except StoreError as exc:
            reply = _text("404 Not Found", exc.message)
        except XmlBodyError as exc:
            reply = _text("400 Bad Request", str(exc))
        return self._send(environ, start_response, reply)

    def _own(
        self, method: str, environ: dict[str, Any], locator: Locator, target: Target, root: Any
    ) -> Reply:
        if method in ("GET", "HEAD") and galfind.is_galfind(environ.get("QUERY_STRING", "")):
            return galfind.galfind(self.store, environ.get("QUERY_STRING", ""))
        if method == "SEARCH":
            path = _decoded_path(environ)
            try:
                query, result = search.run(
                    locator, path, search.sql_text(root), environ.get("HTTP_RANGE")
                )
            except (search.SearchError, XmlBodyError) as exc:
                status = exc.status if isinstance(exc, search.SearchError) else "400 Bad Request"
                return _text(status, getattr(exc, "message", str(exc)))
            if result.mailbox:
                environ[MAILBOX_TARGET_KEY] = result.mailbox
            return search.write(query, result)
        if isinstance(target, RootTarget):
            return self._root(method, environ, locator)
        headers = {
            name: environ[f"HTTP_{name.upper().replace('-', '_')}"]
            for name in _REQUEST_HEADERS
            if f"HTTP_{name.upper().replace('-', '_')}" in environ
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if method == "PUT":
            return mail_writes.put(locator, target, _read_body(environ), headers)
        if method == "MKCOL":
            body = _read_body(environ)
            return mail_writes.mkcol(locator, target, parse_body(body) if body.strip() else None)
        if method in ("MOVE", "COPY"):
            return mail_writes.move_or_copy(locator, target, method, headers)
        if method == "DELETE" and isinstance(target, FolderTarget):
            return mail_writes.delete_folder(locator, target)
        if method == "PROPPATCH":
            try:
                return writes.proppatch(locator, target, root)
            except XmlBodyError as exc:
                return _text("400 Bad Request", str(exc))
        if method == "DELETE":
            return writes.delete(locator, target)
        return writes.get(target, environ.get("HTTP_TRANSLATE"))

    def _root(self, method: str, environ: dict[str, Any], locator: Locator) -> Reply:
        account = environ.get(ACCOUNT_KEY)
        own = self.store.mailboxes.get((account.smtp or "").lower()) if account else None
        if method in ("GET", "HEAD"):
            if own is None:  # an account without a mailbox (a service account)
                return writes.get(RootTarget(), environ.get("HTTP_TRANSLATE"))
            where = f"{locator.base}/exchange/{locator.mailbox_segment(own)}/"
            return "302 Found", [("Location", where)], b""
        return _text("403 Forbidden", "no mailbox named")

    # ------------------------------------------------------------------ plumbing
    @staticmethod
    def _checked_body(environ: dict[str, Any]) -> Any:
        """Read the body, refuse DOCTYPEs, and put it back for wsgidav."""
        body = _kept_body(environ)
        if not body.strip():
            if environ.get("REQUEST_METHOD") in ("SEARCH", "PROPPATCH"):
                raise XmlBodyError(f"{environ['REQUEST_METHOD']} needs an XML body")
            return None
        return parse_body(body)

    def _to_wsgidav(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        error_page: list[bytes] = []

        def shaped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("207"):
                headers = [h for h in headers if h[0].lower() != "content-type"]
                headers.append(("Content-Type", "text/xml"))
            elif method == "DELETE" and status.startswith("204"):
                status = "200 OK"
                headers = [h for h in headers if h[0].lower() != "content-length"]
                headers.append(("Content-Length", "0"))
            elif method == "OPTIONS":
                headers = [
                    (k, v + ", SEARCH") if k.lower() == "allow" else (k, v) for k, v in headers
                ]
                headers.append(("DASL", "<DAV:sql>"))
            if status[:1] in ("4", "5"):
                environ.setdefault(FAULT_KEY, status)
                # IIS's error page instead of wsgidav's (which names wsgidav, its version
                # and sometimes the exception).
                error_page[:] = [iis_error_page(status)]
                headers = [
                    h for h in headers if h[0].lower() not in ("content-length", "content-type")
                ]
                headers += [
                    ("Content-Type", "text/html"),
                    ("Content-Length", str(len(error_page[0]))),
                ]
            return start_response(status, headers, exc_info)

        result = self.dav(environ, shaped)
        return _replacing_errors(result, error_page)

    @staticmethod
    def _send(environ: dict[str, Any], start_response: Callable[..., Any], reply: Reply) -> Any:
        status, headers, body = reply
        if status[:1] in ("4", "5"):
            environ.setdefault(FAULT_KEY, status)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]


def _replacing_errors(result: Iterable[bytes], error_page: list[bytes]) -> Iterable[bytes]:
    """wsgidav's body, or IIS's error page when the answer was an error."""
    try:
        chunks = [chunk for chunk in result if not error_page]
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return list(error_page) if error_page else chunks


def _text(status: str, message: str) -> Reply:
    return status, [("Content-Type", "text/plain; charset=utf-8")], message.encode("utf-8")


_BAD_PATH = "the URL path is not valid UTF-8 once percent-decoded"


def _utf8_path(environ: dict[str, Any]) -> bool:
    try:
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return True


def _decoded_path(environ: dict[str, Any]) -> str:
    """PATH_INFO as text: WSGI hands it over as latin-1; clients send UTF-8."""
    raw = environ.get("PATH_INFO", "")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _kept_body(environ: dict[str, Any]) -> bytes:
    """The body, read and put back (for whoever reads it next: wsgidav, or the
    general path after the fast one declined)."""
    body = _read_body(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH", "").strip()
    if length.isdigit():
        return stream.read(int(length)) if int(length) else b""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return stream.read()
    return b""


__all__ = ["WebDavFrontEnd"]
