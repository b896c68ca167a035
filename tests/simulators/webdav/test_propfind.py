"""PROPFIND on mailbox roots, folders and items: localised folder URLs, Exchange's
207 shape (text/xml, b:dt datatypes, absolute hrefs, 200/404 propstats), and the
FullAccess / unknown mailbox answers."""

from __future__ import annotations

import re

from lxml import etree

from tests.simulators.webdav.conftest import ALICE, ALICE_AUTH, BOB_AUTH, DORA, EVE, DavSite

DT = "urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/"
NS = {"a": "DAV:", "e": "urn:schemas:httpmail:", "d": "urn:schemas:calendar:", "b": DT}

ROOT_QUERY = """<?xml version="1.0"?>
<D:propfind xmlns:D="DAV:" xmlns:e="urn:schemas:httpmail:"><D:prop>
<e:calendar/><e:contacts/><e:inbox/><e:deleteditems/><e:outbox/><D:displayname/>
</D:prop></D:propfind>"""


def _xml(body: bytes) -> etree._Element:
    return etree.fromstring(body)


def test_mailbox_root_depth_0_names_the_english_folders(dav: DavSite) -> None:
    response = dav.request("PROPFIND", f"/exchange/{ALICE}/", ROOT_QUERY, headers={"Depth": "0"})
    assert response.status_code == 207
    assert response.headers["content-type"] == "text/xml"
    root = _xml(response.content)
    [resp] = root.findall("a:response", NS)
    # Exchange answers under the URL that was asked (here the address, not the alias).
    mailbox = f"{dav.url}/exchange/{ALICE}"
    assert resp.findtext("a:href", namespaces=NS) == f"{mailbox}/"
    ok = resp.xpath("a:propstat[a:status='HTTP/1.1 200 OK']/a:prop", namespaces=NS)[0]
    assert ok.findtext("e:calendar", namespaces=NS) == f"{mailbox}/Calendar"
    assert ok.findtext("e:contacts", namespaces=NS) == f"{mailbox}/Contacts"
    assert ok.findtext("e:inbox", namespaces=NS) == f"{mailbox}/Inbox"
    assert ok.findtext("e:deleteditems", namespaces=NS) == f"{mailbox}/Deleted%20Items"
    assert ok.findtext("e:outbox", namespaces=NS) == f"{mailbox}/Outbox"
    assert not resp.xpath("a:propstat[a:status!='HTTP/1.1 200 OK']/a:prop/*", namespaces=NS)
    # The same mailbox asked by its alias answers under the alias.
    by_alias = _xml(
        dav.request("PROPFIND", "/exchange/alice/", ROOT_QUERY, headers={"Depth": "0"}).content
    )
    assert by_alias.findtext(".//e:calendar", namespaces=NS) == f"{dav.url}/exchange/alice/Calendar"


def test_german_mailbox_root_names_localised_folders(dav: DavSite) -> None:
    response = dav.request("PROPFIND", f"/exchange/{DORA}/", ROOT_QUERY, headers={"Depth": "0"})
    ok = _xml(response.content).xpath(
        "//a:propstat[a:status='HTTP/1.1 200 OK']/a:prop", namespaces=NS
    )[0]
    assert ok.findtext("e:calendar", namespaces=NS) == f"{dav.url}/exchange/{DORA}/Kalender"
    assert ok.findtext("e:contacts", namespaces=NS) == f"{dav.url}/exchange/{DORA}/Kontakte"
    assert ok.findtext("e:inbox", namespaces=NS) == f"{dav.url}/exchange/{DORA}/Posteingang"
    assert ok.findtext("e:outbox", namespaces=NS) == f"{dav.url}/exchange/{DORA}/Postausgang"
    # The localised URL works; the English name does not exist in a German mailbox.
    assert (
        dav.request("PROPFIND", "/exchange/dora/Kalender/", headers={"Depth": "0"}).status_code
        == 207
    )
    assert (
        dav.request("PROPFIND", "/exchange/dora/Calendar/", headers={"Depth": "0"}).status_code
        == 404
    )


def test_calendar_depth_1_lists_items_as_eml_with_typed_properties(dav: DavSite) -> None:
    body = """<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:d="urn:schemas:calendar:"
    xmlns:e="urn:schemas:httpmail:"><D:prop><e:subject/><d:dtstart/><d:instancetype/>
    <d:alldayevent/><D:getlastmodified/><D:isfolder/><d:nosuchprop/></D:prop></D:propfind>"""
    response = dav.request("PROPFIND", f"/exchange/{ALICE}/Calendar/", body, headers={"Depth": "1"})
    assert response.status_code == 207
    root = _xml(response.content)
    items = [
        r
        for r in root.findall("a:response", NS)
        if r.findtext("a:href", namespaces=NS).endswith(".EML")
    ]
    assert len(items) == 2
    by_subject = {r.findtext(".//e:subject", namespaces=NS): r for r in items}
    lunch = by_subject["Lunch"]
    assert lunch.findtext("a:href", namespaces=NS).startswith(
        f"{dav.url}/exchange/{ALICE}/Calendar/{{"
    )
    start = lunch.find(".//d:dtstart", NS)
    assert start.text == "2026-03-30T10:00:00.000Z"
    assert start.get(f"{{{DT}}}dt") == "dateTime.tz"
    assert lunch.find(".//d:instancetype", NS).text == "0"
    assert lunch.find(".//d:alldayevent", NS).get(f"{{{DT}}}dt") == "boolean"
    # Exchange writes every date as dateTime.tz with milliseconds, getlastmodified too.
    modified = lunch.find(".//a:getlastmodified", NS)
    assert modified.get(f"{{{DT}}}dt") == "dateTime.tz"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", modified.text)
    assert by_subject["Weekly review"].find(".//d:instancetype", NS).text == "1"
    statuses = set(root.xpath("//a:propstat/a:status/text()", namespaces=NS))
    assert statuses == {"HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"}
    assert lunch.xpath("a:propstat[contains(a:status,'404')]//d:nosuchprop", namespaces=NS)


def test_item_is_addressable_by_its_href(dav: DavSite) -> None:
    listing = dav.request("PROPFIND", f"/exchange/{ALICE}/Calendar/", headers={"Depth": "1"})
    hrefs = _xml(listing.content).xpath("//a:href/text()", namespaces=NS)
    item = next(h for h in hrefs if h.endswith(".EML"))
    response = dav.request("PROPFIND", item, headers={"Depth": "0"})
    assert response.status_code == 207
    assert _xml(response.content).findtext(".//a:href", namespaces=NS) == item


def test_owner_may_read_own_mailbox_but_not_anothers(dav: DavSite) -> None:
    own = dav.request("PROPFIND", f"/exchange/{ALICE}/", auth=ALICE_AUTH, headers={"Depth": "0"})
    other = dav.request("PROPFIND", f"/exchange/{ALICE}/", auth=BOB_AUTH, headers={"Depth": "0"})
    assert own.status_code == 207
    assert other.status_code == 403


def test_service_account_without_full_access_gets_403(dav: DavSite) -> None:
    assert dav.request("PROPFIND", f"/exchange/{EVE}/", headers={"Depth": "0"}).status_code == 403
    assert dav.request("PROPFIND", f"/exchange/{EVE}/Calendar/").status_code == 403
    entry = dav.site.journal.entries(service="webdav")[-1]
    assert entry.status == 403 and entry.account == "OSOMX@domain.net"


def test_unknown_mailbox_and_folder_are_404(dav: DavSite) -> None:
    assert (
        dav.request("PROPFIND", "/exchange/nobody@domain.net/", headers={"Depth": "0"}).status_code
        == 404
    )
    assert (
        dav.request("PROPFIND", f"/exchange/{ALICE}/Nowhere/", headers={"Depth": "0"}).status_code
        == 404
    )


def test_mailbox_may_be_named_by_alias_in_any_case(dav: DavSite) -> None:
    response = dav.request("PROPFIND", "/Exchange/ALICE/calendar/", headers={"Depth": "0"})
    assert response.status_code == 207
    assert (
        _xml(response.content).findtext(".//a:href", namespaces=NS)
        == f"{dav.url}/exchange/ALICE/Calendar/"  # the mailbox as asked, the folder's name
    )


def test_public_folder_tree_lists_folders_and_contacts(dav: DavSite) -> None:
    top = dav.request("PROPFIND", "/public/", headers={"Depth": "1"})
    hrefs = _xml(top.content).xpath("//a:href/text()", namespaces=NS)
    assert f"{dav.url}/public/Customers/" in hrefs and f"{dav.url}/public/Suppliers/" in hrefs
    body = """<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:c="urn:schemas:contacts:">
    <D:prop><c:cn/><c:email1/><c:telephoneNumber/><D:contentclass/></D:prop></D:propfind>"""
    inner = _xml(
        dav.request("PROPFIND", "/public/Customers/", body, headers={"Depth": "1"}).content
    )
    names = inner.xpath("//c:cn/text()", namespaces={"c": "urn:schemas:contacts:"})
    assert sorted(names) == ["Carla Customer", "Dieter Kunde"]
    assert "+49 30 5550" in inner.xpath(
        "//c:telephoneNumber/text()", namespaces={"c": "urn:schemas:contacts:"}
    )
    assert "urn:content-classes:person" in inner.xpath("//a:contentclass/text()", namespaces=NS)


def test_options_announces_search(dav: DavSite) -> None:
    response = dav.request("OPTIONS", f"/exchange/{ALICE}/Calendar/")
    assert response.status_code == 200
    assert "SEARCH" in response.headers["allow"]
    assert response.headers["dasl"] == "<DAV:sql>"
