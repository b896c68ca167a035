"""OWA tests share the WebDAV tests' site and seed (one site per module, re-seeded
per test), plus helpers that log in through the form and read the canary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.simulators.webdav.conftest import DavSite, dav, running_site

__all__ = ["DavSite", "canary", "dav", "log_in", "running_site"]

_CANARY = re.compile(r'name="hidcanary" value="([0-9a-f]+)"')


@contextmanager
def log_in(dav: DavSite, user: str, password: str) -> Iterator[httpx.Client]:
    """A client with an OWA forms session (the site is switched to forms mode)."""
    dav.site.set_webdav_auth("forms")
    with dav.client() as client:
        yield _logged_in(client, dav, user, password)


def _logged_in(client: httpx.Client, dav: DavSite, user: str, password: str) -> httpx.Client:
    response = client.post(
        "/owa/auth/owaauth.dll",
        data={
            "destination": f"{dav.url}/owa/",
            "flags": "0",
            "forcedownlevel": "0",
            "trusted": "0",
            "isUtf8": "1",
            "username": user,
            "password": password,
        },
    )
    assert response.status_code == 302
    return client


def canary(page: str) -> str:
    match = _CANARY.search(page)
    assert match is not None, "no canary on the page"
    return match.group(1)
