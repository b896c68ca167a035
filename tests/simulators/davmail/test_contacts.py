"""Contacts through DavMail, in EWS and WebDav mode: CardDAV on the public folder
contacts, and LDAP (``ldapsearch``) on the directory.

DavMail's LDAP gateway answers from the global address list (EWS ResolveNames; in
WebDav mode the ``/public/?Cmd=galfind`` search) and from the user's own Contacts
folder, never from public folders (``LdapConnection.contactFind`` searches
``CONTACTS``); so LDAP here finds the organisation's mailboxes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from lxml import etree

from tests.simulators.davmail.conftest import ANNA, Gateway

NS = {"d": "DAV:", "card": "urn:ietf:params:xml:ns:carddav"}
QUERY = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" '
    'xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/>'
    "</d:prop></d:propfind>"
)


def _cards(gateway: Gateway, folder: str) -> dict[str, dict[str, str]]:
    """FN -> {vCard property: value} of every contact in a folder."""
    with gateway.client() as client:
        response = client.request(
            "PROPFIND", folder, content=QUERY, headers={"Depth": "1", "Content-Type": "text/xml"}
        )
    assert response.status_code == 207, gateway.explain()
    cards: dict[str, dict[str, str]] = {}
    for data in etree.fromstring(response.content).iterfind(".//card:address-data", NS):
        fields: dict[str, str] = {}
        for line in re.sub(r"\r?\n[ \t]", "", data.text or "").splitlines():
            if ":" in line:
                head, value = line.split(":", 1)
                fields.setdefault(head.split(";")[0].upper(), value)
        cards[fields["FN"]] = fields
    return cards


def test_carddav_lists_the_public_folder_contacts(davmail: Gateway) -> None:
    cards = _cards(davmail, "/public/Customers/")
    assert set(cards) == {"Carla Customer", "Dieter Dealer"}, davmail.explain()
    carla = cards["Carla Customer"]
    assert carla["N"].startswith("Customer;Carla")
    assert carla["EMAIL"] == "carla@kunde.example"
    assert carla["ORG"].startswith("Kunde GmbH")
    assert carla["TEL"] in ("+49 30 5550", "+49 170 5551")
    assert set(_cards(davmail, "/public/Suppliers/")) == {"Sabine Supplier"}


def _ldapsearch(gateway: Gateway, query: str, *attributes: str) -> str:
    if shutil.which("ldapsearch") is None:
        pytest.skip("ldapsearch not installed (Debian ldap-utils)")
    result = subprocess.run(
        [
            "ldapsearch",
            "-x",
            "-LLL",
            "-H",
            f"ldap://127.0.0.1:{gateway.port('ldap')}",
            "-D",
            ANNA[0],
            "-w",
            ANNA[1],
            "-b",
            "ou=people",
            query,
            *attributes,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{result.stderr}\n{gateway.explain()}"
    return result.stdout


def test_ldap_finds_a_colleague_in_the_directory(davmail: Gateway) -> None:
    found = _ldapsearch(davmail, "(cn=*Bernd*)", "cn", "mail")
    assert "cn: Bernd Krause" in found, davmail.explain()
    assert "mail: user2@domain.net" in found


def test_ldap_finds_nobody_for_an_unknown_name(davmail: Gateway) -> None:
    assert "dn:" not in _ldapsearch(davmail, "(cn=*Zacharias*)", "cn")
