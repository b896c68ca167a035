"""Hostile XML bodies: any DOCTYPE (external entities, entity expansion) is refused
with 400 in PROPFIND, PROPPATCH and SEARCH, and nothing of the referenced file leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.simulators.webdav.conftest import ALICE, DavSite

SECRET = "harness-xxe-canary-5b1c"

BODIES = {
    "PROPFIND": (
        '<?xml version="1.0"?><!DOCTYPE D:propfind [<!ENTITY x SYSTEM "file://{path}">]>'
        '<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&x;</D:displayname></D:prop></D:propfind>'
    ),
    "PROPPATCH": (
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{path}">]>'
        '<a:propertyupdate xmlns:a="DAV:" xmlns:e="urn:schemas:httpmail:"><a:set><a:prop>'
        "<e:subject>&x;</e:subject></a:prop></a:set></a:propertyupdate>"
    ),
    "SEARCH": (
        '<?xml version="1.0"?><!DOCTYPE g [<!ENTITY x SYSTEM "file://{path}">]>'
        '<g:searchrequest xmlns:g="DAV:"><g:sql>SELECT "DAV:href" FROM "&x;"</g:sql></g:searchrequest>'
    ),
}
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;">]><g:searchrequest xmlns:g="DAV:"><g:sql>&c;</g:sql>'
    "</g:searchrequest>"
)


@pytest.mark.parametrize("method", sorted(BODIES))
def test_external_entity_is_refused(dav: DavSite, tmp_path: Path, method: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    path = f"/exchange/{ALICE}/Calendar/" + ("x.EML" if method == "PROPPATCH" else "")
    response = dav.request(method, path, BODIES[method].format(path=secret), headers={"Depth": "0"})
    assert response.status_code == 400
    assert "DOCTYPE" in response.text
    assert SECRET not in response.text
    assert not [i for i in dav.store.items.values() if SECRET in getattr(i, "subject", "")]


def test_entity_expansion_is_refused(dav: DavSite) -> None:
    response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", BILLION_LAUGHS)
    assert response.status_code == 400


def test_doctype_is_refused_in_the_scratch_area_too(dav: DavSite) -> None:
    body = BODIES["PROPFIND"].format(path="/etc/hostname")
    response = dav.request("PROPFIND", f"/exchange/{ALICE}/scratch/", body, headers={"Depth": "0"})
    assert response.status_code == 400
