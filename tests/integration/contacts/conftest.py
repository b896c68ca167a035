"""The ``dav`` fixture: the per-worker site of tests/conftest.py with its WebDAV front
end at /exchange/ and /public/, reset to the default seed and Basic authentication for
each test.

A site that does not mount WebDAV itself gets the front end mounted here (once), with a
minimal ``/owa/auth/owaauth.dll`` (``SiteAuth.logon``, answered as Exchange 2007 does:
302 to the destination with the session cookies, whatever the password) so forms-based
log-in can be tested too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest

from simulators.exchange.owa.sessions import SiteAuth
from simulators.exchange.webdav import WebDavFrontEnd
from simulators.site import RunningSite
from tests.conftest import EwsServer

_MOUNTED: dict[int, SiteAuth] = {}


def _owaauth(auth: SiteAuth) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8"))
        session = auth.logon(form.get("username", [""])[0], form.get("password", [""])[0])
        secure = environ.get("wsgi.url_scheme") == "https"
        where = form.get("destination", ["/owa/"])[0]
        start_response(
            "302 Found",
            [("Location", where), ("Content-Length", "0"), *session.set_cookie_headers(secure)],
        )
        return [b""]

    return app


def _mount(site: RunningSite) -> SiteAuth | None:
    """The site's WebDAV auth, mounting the front end (and a log-in endpoint) first
    when the site has none; None when it cannot be reached."""
    own: SiteAuth | None = getattr(site, "auth", None)
    if own is not None:
        return own
    if id(site) in _MOUNTED:
        return _MOUNTED[id(site)]
    if any(m.prefix == "/public/" for m in site.dispatcher.mounts):
        return None
    auth = SiteAuth(site.store)
    front = WebDavFrontEnd(site.store, auth)
    site.mount("/exchange/", front, "webdav")
    site.mount("/public/", front, "webdav")
    if not any(m.prefix.startswith("/owa") for m in site.dispatcher.mounts):
        site.mount("/owa/auth/owaauth.dll", _owaauth(auth), "owa", exact=True)
    _MOUNTED[id(site)] = auth
    return auth


@dataclass
class DavServer:
    """The EWS fixture's site plus the WebDAV URLs and auth switch."""

    ews: EwsServer
    auth: SiteAuth | None

    @property
    def site(self) -> RunningSite:
        return self.ews.site

    @property
    def exchange_url(self) -> str:
        return self.site.url + "/exchange/"

    def forms(self) -> None:
        if self.auth is None:
            pytest.skip("the site's WebDAV auth is not reachable from here")
        self.auth.reset("forms")
        webdav = getattr(self.site, "webdav", None)
        if webdav is not None:
            webdav.reset()


@pytest.fixture
def dav(ews: EwsServer) -> Iterator[DavServer]:
    auth = _mount(ews.site)
    if auth is not None:
        auth.reset("basic")
    yield DavServer(ews, auth)
    if auth is not None:
        auth.reset("basic")  # leave the shared site as other tests expect it
