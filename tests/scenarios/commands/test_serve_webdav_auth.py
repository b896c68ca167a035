"""``harness serve`` starts the site with the seed's ``exchange.webdav_auth``: with
``forms`` OWA redirects to its log-on form and WebDAV answers 440, as Exchange 2007's
forms-based authentication does (it used to ask for Basic whatever the seed said)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.davmail import Served, serve_harness

SEED = """\
name: Forms log-in
start: 2026-03-02 08:00
exchange: {webdav_auth: forms}
users:
  - {extension: "100", name: Anna, email: user1@domain.net, password: anna-pw}
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED, encoding="utf-8")
    served = serve_harness(seed, tmp_path)
    try:
        yield served
    finally:
        served.stop()


def test_the_seeds_forms_log_in_is_served(served: Served) -> None:
    tls = ssl.create_default_context(cafile=str(served.ca))
    with httpx.Client(base_url=served.site, verify=tls, timeout=10) as client:
        owa = client.get("/owa/")
        assert owa.status_code == 302
        assert "/owa/auth/logon.aspx?url=" in owa.headers["location"]
        assert client.request("PROPFIND", "/exchange/user1@domain.net/").status_code == 440
        logged_on = client.post(
            "/owa/auth/owaauth.dll",
            data={
                "destination": served.site + "/owa/",
                "flags": "4",
                "trusted": "4",
                "username": "user1@domain.net",
                "password": "anna-pw",
            },
        )
        assert logged_on.status_code == 302 and "sessionid" in logged_on.cookies
        found = client.request("PROPFIND", "/exchange/user1@domain.net/", headers={"Depth": "0"})
        assert found.status_code == 207
