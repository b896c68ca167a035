"""The ``dav`` fixture: the per-worker site of tests/conftest.py (EWS, WebDAV at
/exchange/ and /public/, OWA log-in at /owa/), reset to the default seed and to Basic
authentication before and after each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from simulators.site import RunningSite
from tests.conftest import EwsServer


@dataclass
class DavServer:
    """The EWS fixture's site, seen from the WebDAV side."""

    ews: EwsServer

    @property
    def site(self) -> RunningSite:
        return self.ews.site

    @property
    def exchange_url(self) -> str:
        return self.site.webdav_url

    def forms(self) -> None:
        """Switch the site to forms-based (OWA) authentication."""
        self.site.set_webdav_auth("forms")


@pytest.fixture
def dav(ews: EwsServer) -> Iterator[DavServer]:
    ews.site.set_webdav_auth("basic")
    yield DavServer(ews)
    ews.site.set_webdav_auth("basic")  # leave the shared site as other tests expect it
