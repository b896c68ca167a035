"""One web site like the Exchange server's IIS site: EWS at /ews/exchange.asmx,
WebDAV at /exchange/ and /public/, and Outlook Web Access at /owa/, on one port.

``start_site(store, host, port, tls)`` serves it (``simulators.wsgi_server``), plain
HTTP or HTTPS with a certificate from a CA generated at start (trustme; SAN
127.0.0.1, ::1 and localhost), and returns a ``RunningSite``. Every mounted
service is wrapped by the request journal and fault injection of the site.
Paths match case-insensitively, as IIS matches them. WebDAV and OWA authenticate
per the site's auth mode (``RunningSite.set_webdav_auth``: "basic" or "forms").

``RunningSite.go_down()`` / ``come_back()`` (or ``restart()``) stop and start the
web server the way an IIS restart does: the listening socket closes (connections are
refused), open keep-alive connections are cut, OWA forms sessions end; it comes back
on the same host and port with the same certificate files, the store untouched.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulators.clock import utc_now
from simulators.exchange.ews import EWS_PATH, EwsOptions, make_ews_app
from simulators.exchange.ews.middleware import ClockFn, Journaled, RequestJournal, WsgiApp
from simulators.exchange.owa import OWA_PREFIX, OwaFrontEnd, SiteAuth
from simulators.exchange.store import ExchangeStore
from simulators.exchange.webdav import WEBDAV_PREFIXES, WebDavFrontEnd
from simulators.faults.http import FaultInjecting
from simulators.faults.injector import FaultInjector
from simulators.http_out import SERVER_HEADER, with_iis_headers
from simulators.wsgi_server import WsgiServer

_NOT_FOUND = (
    b"<html><head><title>The resource cannot be found.</title></head><body>"
    b"<h2>HTTP Error 404 - File or directory not found.</h2></body></html>"
)
_ROUTES_KEPT = 1024


@dataclass
class Mount:
    prefix: str  # lower case; exact path when ``exact``
    app: WsgiApp
    service: str
    exact: bool = False

    def matches(self, path: str) -> bool:
        if self.exact:
            return path == self.prefix
        return path == self.prefix.rstrip("/") or path.startswith(self.prefix)


class SiteDispatcher:
    """A WSGI app routing by path prefix (case-insensitive), longest prefix first."""

    def __init__(self, journal: RequestJournal, faults: FaultInjector) -> None:
        self.journal = journal
        self.faults = faults
        self.mounts: list[Mount] = []
        self.internal: list[Mount] = []  # the harness's own pages: see mount_internal
        # Requests no service claims are journaled too (service "site").
        self._unclaimed = Journaled(self._not_found, journal, "site")
        # The mount each lower-case path went to (None: no mount), until the mounts
        # change; bounded, since WebDAV paths are many. Every request routes.
        self._routes: dict[str, tuple[Mount | None]] = {}

    def mount(self, prefix: str, app: WsgiApp, service: str, exact: bool = False) -> None:
        """Serve ``prefix`` with ``app``, journaled and fault-injectable as ``service``;
        a mount at the same prefix is replaced."""
        wrapped = Journaled(FaultInjecting(app, self.faults, service), self.journal, service)
        key = (prefix.lower(), exact)
        self.mounts = [m for m in self.mounts if (m.prefix, m.exact) != key]
        self.mounts.append(Mount(prefix.lower(), wrapped, service, exact))
        self.mounts.sort(key=lambda m: len(m.prefix), reverse=True)
        self._routes = {}

    def mount_internal(self, prefix: str, app: WsgiApp) -> None:
        """Serve ``prefix`` with ``app`` as it is: not journaled, never faulted (the
        harness's live view, which real clients never ask for)."""
        self.internal = [m for m in self.internal if m.prefix != prefix.lower()]
        self.internal.append(Mount(prefix.lower(), app, "harness"))
        self._routes = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def iis(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # IIS names itself on every answer.
            return start_response(status, with_iis_headers(headers), exc_info)

        return self._route(environ, iis)

    def _route(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "") or "/"
        lowered = path.lower()
        routes = self._routes
        found = routes.get(lowered)
        if found is None:
            found = (next((m for m in (*self.internal, *self.mounts) if m.matches(lowered)), None),)
            if len(routes) >= _ROUTES_KEPT:
                routes.clear()
            routes[lowered] = found
        mount = found[0]
        if mount is None:
            return self._unclaimed(environ, start_response)
        base = len(mount.prefix.rstrip("/")) if not mount.exact else len(path)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + path[:base]
        environ["PATH_INFO"] = path[base:]
        return mount.app(environ, start_response)

    @staticmethod
    def _not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(
            "404 Not Found",
            [("Content-Type", "text/html"), ("Content-Length", str(len(_NOT_FOUND)))],
        )
        return [_NOT_FOUND]


@dataclass
class RunningSite:
    """A serving site. ``url`` is the base (no trailing slash); ``ews_url`` the endpoint."""

    host: str
    port: int
    tls: bool
    store: ExchangeStore
    journal: RequestJournal
    faults: FaultInjector
    dispatcher: SiteDispatcher
    ca_cert_pem: str | None = None
    auth: SiteAuth | None = None
    webdav: WebDavFrontEnd | None = None
    _server: WsgiServer | None = field(default=None, repr=False)
    _tmpdir: str | None = field(default=None, repr=False)
    _cert_files: tuple[str, str] | None = field(default=None, repr=False)  # chain, key
    _threads: int = field(default=16, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    restarts: int = 0  # times the site came back after going down

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def ews_url(self) -> str:
        return self.url + "/EWS/Exchange.asmx"

    @property
    def webdav_url(self) -> str:
        return self.url + "/exchange/"

    @property
    def public_url(self) -> str:
        return self.url + "/public/"

    @property
    def owa_url(self) -> str:
        return self.url + "/owa/"

    def set_webdav_auth(self, mode: str) -> None:
        """Switch WebDAV/OWA authentication ("basic" or "forms"); ends every OWA session
        and empties the WebDAV scratch area (a scenario starts afresh)."""
        if self.auth is not None:
            self.auth.reset(mode)
        if self.webdav is not None:
            self.webdav.reset()

    def mount(self, prefix: str, app: WsgiApp, service: str, exact: bool = False) -> None:
        """Add a front end (WebDAV under /exchange/, OWA under /owa/, ...) to the site."""
        self.dispatcher.mount(prefix, app, service, exact)

    def mount_internal(self, prefix: str, app: WsgiApp) -> None:
        """Add a page of the harness itself (not journaled, outside fault injection)."""
        self.dispatcher.mount_internal(prefix, app)

    @property
    def serving(self) -> bool:
        """Whether the site listens (False between ``go_down`` and ``come_back``)."""
        return self._server is not None

    def go_down(self) -> None:
        """Stop serving as an IIS restart does: refuse connections, cut the open ones
        (keep-alive included), end OWA sessions. The certificate files, the store, the
        journal and the fault windows stay. Idempotent."""
        with self._lock:
            self._halt()
            if self.auth is not None:
                self.auth.reset(self.auth.mode)  # forms sessions do not survive a restart

    def come_back(self) -> None:
        """Serve again on the same host and port with the same certificate. Idempotent."""
        with self._lock:
            if self._server is not None:
                return
            self._server = _serve(
                self.host, self.port, self.dispatcher, self._threads, self._cert_files
            )
            self.restarts += 1

    def restart(self) -> None:
        """``go_down`` then ``come_back`` at once."""
        self.go_down()
        self.come_back()

    def _halt(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def stop(self) -> None:
        with self._lock:
            self._halt()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> RunningSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def site_names(host: str) -> list[str]:
    """The names the site's certificate carries: the bound host and loopback."""
    names = ["127.0.0.1", "::1", "localhost"]
    if host not in names and host not in ("0.0.0.0", "::", ""):
        names.insert(0, host)
    return names


def _tls_files(host: str) -> tuple[str, str, str, str]:
    """(tmpdir, CA PEM, server cert chain PEM, server key PEM) from a fresh CA."""
    import trustme

    tmpdir = tempfile.mkdtemp(prefix="harness-site-")
    ca = trustme.CA(organization_name="Exchange harness test CA")
    cert = ca.issue_cert(*site_names(host))
    ca_path = str(Path(tmpdir, "ca.pem"))
    cert_path = str(Path(tmpdir, "server.pem"))
    key_path = str(Path(tmpdir, "server.key"))
    ca.cert_pem.write_to_path(ca_path)
    cert.private_key_pem.write_to_path(key_path)
    with open(cert_path, "wb") as out:
        for blob in cert.cert_chain_pems:
            out.write(blob.bytes())
    return tmpdir, ca_path, cert_path, key_path


def start_site(
    store: ExchangeStore,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
    *,
    options: EwsOptions | None = None,
    journal: RequestJournal | None = None,
    faults: FaultInjector | None = None,
    clock: ClockFn = utc_now,
    threads: int = 16,
    webdav_auth: str = "basic",
    certificate: tuple[str, str, str] | None = None,
) -> RunningSite:
    """Serve EWS, WebDAV and OWA (and whatever is mounted later) on ``host:port``;
    port 0 picks one. ``webdav_auth`` is the initial WebDAV/OWA auth mode.
    ``certificate`` (CA PEM, chain PEM, key PEM paths; with ``tls``): the files to
    serve, kept by the caller (``harness serve --state-dir``); else a fresh CA."""
    journal = journal or RequestJournal(clock=clock)
    faults = faults or FaultInjector(clock=clock)
    dispatcher = SiteDispatcher(journal, faults)
    dispatcher.mount(EWS_PATH, make_ews_app(store, options), "ews", exact=True)
    auth = SiteAuth(store, webdav_auth)  # type: ignore[arg-type]
    webdav = WebDavFrontEnd(store, auth)
    for prefix in WEBDAV_PREFIXES:
        dispatcher.mount(prefix, webdav, "webdav")
    dispatcher.mount(OWA_PREFIX, OwaFrontEnd(store, auth), "owa")
    tmpdir = ca_path = None
    cert_files: tuple[str, str] | None = None
    if tls and certificate is not None:
        ca_path, cert_path, key_path = certificate
        cert_files = (cert_path, key_path)
    elif tls:
        tmpdir, ca_path, cert_path, key_path = _tls_files(host)
        cert_files = (cert_path, key_path)
    try:
        server = _serve(host, port, dispatcher, threads, cert_files)
    except BaseException:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return RunningSite(
        host=server.bind_addr[0],
        port=server.bind_addr[1],
        tls=tls,
        store=store,
        journal=journal,
        faults=faults,
        dispatcher=dispatcher,
        ca_cert_pem=ca_path,
        auth=auth,
        webdav=webdav,
        _server=server,
        _tmpdir=tmpdir,
        _cert_files=cert_files,
        _threads=threads,
    )


def _serve(
    host: str,
    port: int,
    dispatcher: SiteDispatcher,
    threads: int,
    cert_files: tuple[str, str] | None,
) -> WsgiServer:
    """A server for ``dispatcher`` listening on ``host:port`` (SO_REUSEADDR: the same
    port binds again after a restart, while the connections it cut are in TIME_WAIT)."""
    context = None
    if cert_files is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert_files)
    server = WsgiServer(
        dispatcher,
        host,
        port,
        ssl_context=context,
        threads=threads,
        server_header=SERVER_HEADER,
        name="site",
    )
    return server.start()


__all__ = ["RunningSite", "SiteDispatcher", "site_names", "start_site"]
