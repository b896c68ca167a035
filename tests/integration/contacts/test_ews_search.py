"""EWS contact search against the EWS simulator: what is found, what is not, failures.

The default seed (tests/conftest.py) has two first-level contact folders, Customers
(Carla Customer, Carlos Other, Dieter Kunde; subfolder Archive with Old Contact) and
Suppliers (Sam Supplier). Tests add folders and contacts to the store directly.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Coroutine
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from lxml import etree

from integration.contacts import ContactHit, ContactSearch, InvalidQuery
from integration.contacts.ews import EwsContactSearch
from integration.sources import AccessDenied, SourceUnavailable
from simulators.exchange.model import Folder
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER, EwsServer

R = TypeVar("R")
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


def search(
    ews: EwsServer, query: str, limit: int = 50, password: str = SERVICE_PASSWORD
) -> list[ContactHit]:
    async def go() -> list[ContactHit]:
        async with EwsContactSearch(ews.url, SERVICE_USER, password) as client:
            return await client.search(query, limit)

    return run(go())


def names(hits: list[ContactHit]) -> list[str]:
    return [hit.display_name for hit in hits]


def public_folder(ews: EwsServer, name: str) -> Folder:
    root = ews.store.folders[ews.store.public_root_id]
    return next(f for f in ews.store.children(root) if f.display_name == name)


def add_contact(ews: EwsServer, folder: Folder, display_name: str, **fields: Any) -> None:
    ews.store.create_contact(
        folder,
        display_name=display_name,
        given_name=fields.get("given_name", ""),
        surname=fields.get("surname", ""),
        company=fields.get("company", ""),
        emails=fields.get("emails", []),
        phones=fields.get("phones", {}),
    )


def test_it_is_a_contact_search(ews: EwsServer) -> None:
    client = EwsContactSearch(ews.url, SERVICE_USER, SERVICE_PASSWORD)
    try:
        assert isinstance(client, ContactSearch)
    finally:
        run(client.aclose())


def test_first_level_contact_folders_are_found(ews: EwsServer) -> None:
    async def go() -> list[str]:
        async with EwsContactSearch(ews.url, SERVICE_USER, SERVICE_PASSWORD) as client:
            return [folder.name for folder in await client.folders()]

    assert sorted(run(go())) == ["Customers", "Suppliers"]


def test_a_hit_carries_name_company_email_phones_and_folder(ews: EwsServer) -> None:
    hits = search(ews, "carla")
    assert hits == [
        ContactHit(
            display_name="Carla Customer",
            given_name="Carla",
            surname="Customer",
            company="Kunde GmbH",
            email="carla@kunde.de",
            business_phone="+49 30 5550",
            mobile_phone="+49 171 555",
            folder="Customers",
        )
    ]
    assert hits[0].phones == [("business", "+49 30 5550"), ("mobile", "+49 171 555")]
    assert search(ews, "dieter")[0].home_phone == "+49 30 777"


def test_a_contact_in_a_subfolder_is_not_found(ews: EwsServer) -> None:
    # Vendor-documented limitation: only the first level of the tree is searched.
    archive = next(f for f in ews.store.folders.values() if f.display_name == "Archive")
    stored = [item.display_name for item in ews.store.items_in(archive)]  # type: ignore[attr-defined]
    assert stored == ["Old Contact"]
    assert search(ews, "Old Contact") == []
    assert search(ews, "o") and "Old Contact" not in names(search(ews, "o"))
    finds = ews.site.journal.entries(operation="FindItem")
    assert finds and all(archive.id.encode() not in (e.body or b"") for e in finds)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("D DISPL", "display name"),
        ("qUINt", "given name"),
        ("XYL", "surname"),
        ("arrow l", "company"),
        ("WOMBAT@EX", "e-mail"),
    ],
)
def test_case_insensitive_substring_on_each_field(ews: EwsServer, query: str, field: str) -> None:
    add_contact(
        ews,
        public_folder(ews, "Suppliers"),
        "Zed Display",
        given_name="Quintus",
        surname="Xylophon",
        company="Yarrow Ltd",
        emails=["wombat@example.org"],
    )
    assert names(search(ews, query)) == ["Zed Display"], field


def test_only_the_first_address_is_searched(ews: EwsServer) -> None:
    add_contact(
        ews, public_folder(ews, "Suppliers"), "Two Addresses", emails=["a@one.de", "b@second.de"]
    )
    assert names(search(ews, "one.de")) == ["Two Addresses"]
    assert search(ews, "second.de") == []


def test_several_folders_are_merged_sorted_by_display_name(ews: EwsServer) -> None:
    add_contact(ews, public_folder(ews, "Suppliers"), "Anton Supply")
    hits = search(ews, "s")
    assert names(hits) == [
        "Anton Supply",
        "Carla Customer",
        "Carlos Other",
        "Sam Supplier",
    ]
    assert [hit.folder for hit in hits] == ["Suppliers", "Customers", "Customers", "Suppliers"]


def test_the_limit_applies_to_the_merged_list(ews: EwsServer) -> None:
    add_contact(ews, public_folder(ews, "Suppliers"), "Anton Supply")
    assert names(search(ews, "s", limit=2)) == ["Anton Supply", "Carla Customer"]
    assert names(search(ews, "s", limit=1)) == ["Anton Supply"]


def test_a_new_first_level_folder_is_searched(ews: EwsServer) -> None:
    partners = ews.store.add_public_folder("Partners")
    add_contact(ews, partners, "Paula Partner", company="Kunde GmbH")
    assert names(search(ews, "kunde gmbh")) == ["Carla Customer", "Dieter Kunde", "Paula Partner"]


def test_folders_that_hold_no_contacts_are_ignored(ews: EwsServer) -> None:
    for name, folder_class in (("Events", "IPF.Appointment"), ("Mail", "IPF.Note")):
        folder = ews.store.add_public_folder(name, folder_class=folder_class)
        add_contact(ews, folder, f"Hidden in {name}")
    assert search(ews, "hidden in") == []
    finds = ews.site.journal.entries(operation="FindItem")
    assert len(finds) == 2  # Customers and Suppliers only


HOSTILE = [
    ("Pat O'Brien", "o'brien"),
    ('Say "Cheese" Studio', 'say "cheese"'),
    ("Fish & Chips <Ltd>", "& chips <ltd>"),
    ("100% Sure", "100%"),
    ("Under_Score", "r_s"),
    ("Odd ]]> Name", "]]>"),
    ("Entity &amp; Literal", "&amp;"),
    ("Tag <t:Contact/> Inc", "<t:Contact/>"),
    ("Back\\slash", "k\\s"),
]


@pytest.mark.parametrize(("display_name", "query"), HOSTILE)
def test_hostile_queries_find_exactly_their_contact(
    ews: EwsServer, display_name: str, query: str
) -> None:
    folder = public_folder(ews, "Customers")
    for other, _ in HOSTILE:
        add_contact(ews, folder, other)
    assert names(search(ews, query)) == [display_name]


@pytest.mark.parametrize(
    "query", ["' OR 1=1 --", '"/><t:Exists/>', "%", "_", "*", "]]><x>", "&lt;", "<!DOCTYPE x>"]
)
def test_hostile_queries_that_match_nothing_are_answered_empty(ews: EwsServer, query: str) -> None:
    assert search(ews, query) == []
    assert ews.site.journal.count(operation="FindItem", status=200) == 2


@pytest.mark.parametrize(
    ("query", "limit", "message"),
    [
        ("", 50, "must not be empty"),
        ("   ", 50, "must not be empty"),
        ("a\x00b", 50, "control character"),
        ("a\x1bb", 50, "control character"),
        ("x" * 201, 50, "longer than 200"),
        ("carla", 0, "limit"),
        ("carla", 1001, "limit"),
    ],
)
def test_unusable_queries_are_refused_before_anything_is_sent(
    ews: EwsServer, query: str, limit: int, message: str
) -> None:
    with pytest.raises(InvalidQuery, match=message):
        search(ews, query, limit)
    assert ews.site.journal.count(service="ews") == 0


def test_the_requests_ask_as_the_service_account_without_impersonation(ews: EwsServer) -> None:
    search(ews, "carla")
    entries = ews.site.journal.entries(service="ews")
    assert [e.operation for e in entries] == ["FindFolder", "FindItem", "FindItem"]
    assert all((e.account or "").lower() == SERVICE_USER.lower() for e in entries)
    assert all(e.impersonated is None and e.mailbox is None for e in entries)


def test_the_folder_list_is_cached_for_the_ttl(ews: EwsServer) -> None:
    now = [1000.0]

    async def go() -> list[list[str]]:
        seen: list[list[str]] = []
        async with EwsContactSearch(
            ews.url, SERVICE_USER, SERVICE_PASSWORD, folder_ttl=300, clock=lambda: now[0]
        ) as client:
            seen.append(names(await client.search("a")))
            partners = ews.store.add_public_folder("Partners")
            add_contact(ews, partners, "Paula Partner")
            now[0] += 299
            seen.append(names(await client.search("paula")))  # list still cached
            now[0] += 1
            seen.append(names(await client.search("paula")))  # expired: read again
            assert client.folder_cache.fetches == 2
        return seen

    first, cached, fresh = run(go())
    assert "Carla Customer" in first
    assert cached == []
    assert fresh == ["Paula Partner"]
    assert ews.site.journal.count(operation="FindFolder") == 2


def test_concurrent_searches_read_the_folder_list_once(ews: EwsServer) -> None:
    async def go() -> list[list[ContactHit]]:
        async with EwsContactSearch(ews.url, SERVICE_USER, SERVICE_PASSWORD) as client:
            return await asyncio.gather(*(client.search(q) for q in ("carla", "sam", "kunde")))

    results = run(go())
    assert [names(r) for r in results] == [
        ["Carla Customer"],
        ["Sam Supplier"],
        ["Carla Customer", "Dieter Kunde"],
    ]
    assert ews.site.journal.count(operation="FindFolder") == 1


def test_a_folder_deleted_since_the_list_was_read_is_skipped_then_forgotten(
    ews: EwsServer,
) -> None:
    async def go() -> tuple[list[str], list[str], int]:
        async with EwsContactSearch(ews.url, SERVICE_USER, SERVICE_PASSWORD) as client:
            assert len(await client.folders()) == 2
            suppliers = public_folder(ews, "Suppliers")
            # What a public folder admin deleting it does to the store.
            ews.store.folders[ews.store.public_root_id].child_ids.remove(suppliers.id)
            del ews.store.folders[suppliers.id]
            during = names(await client.search("s"))
            after = names(await client.search("s"))
            return during, after, client.folder_cache.fetches

    during, after, fetches = run(go())
    assert during == ["Carla Customer", "Carlos Other"]
    assert after == during
    assert fetches == 2


def test_wrong_password_is_access_denied_with_a_clear_message(ews: EwsServer) -> None:
    with pytest.raises(AccessDenied) as caught:
        search(ews, "carla", password="wrong")
    assert caught.value.code == "HTTP 401"
    assert str(caught.value) == f"service account credentials refused for {SERVICE_USER} (HTTP 401)"


def test_server_busy_is_unavailable(ews: EwsServer) -> None:
    ews.site.faults.add("ews", "busy", timedelta(minutes=5))
    with pytest.raises(SourceUnavailable) as caught:
        search(ews, "carla")
    assert caught.value.code == "ErrorServerBusy"


def test_service_down_is_unavailable(ews: EwsServer) -> None:
    ews.site.faults.add("ews", "http_503", timedelta(minutes=5))
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        search(ews, "carla")


def test_nothing_listening_is_unavailable_naming_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/EWS/Exchange.asmx"

    async def go() -> None:
        async with EwsContactSearch(url, SERVICE_USER, SERVICE_PASSWORD, timeout=2) as client:
            await client.search("carla")

    with pytest.raises(SourceUnavailable, match=f"cannot connect to {url}"):
        run(go())


def test_over_https_with_the_site_ca(ews_tls: EwsServer) -> None:
    async def go() -> list[ContactHit]:
        async with EwsContactSearch(
            ews_tls.url, SERVICE_USER, SERVICE_PASSWORD, ca_file=ews_tls.site.ca_cert_pem
        ) as client:
            return await client.search("sam")

    assert names(run(go())) == ["Sam Supplier"]


def test_untrusted_certificate_is_unavailable_saying_so(ews_tls: EwsServer) -> None:
    with pytest.raises(SourceUnavailable, match="not trusted"):
        search(ews_tls, "sam")


def test_request_shape_as_the_reference_describes(ews: EwsServer) -> None:
    from integration.contacts.ews import FIND_FOLDER_BODY, find_item_body
    from integration.contacts.model import PublicFolder

    folder = etree.fromstring(FIND_FOLDER_BODY)
    find_folder = folder.find(f".//{{{M}}}FindFolder")
    assert find_folder is not None and find_folder.get("Traversal") == "Shallow"
    parent = find_folder.find(f"{{{M}}}ParentFolderIds/{{{T}}}DistinguishedFolderId")
    assert parent is not None and parent.get("Id") == "publicfoldersroot" and len(parent) == 0
    assert folder.find(f".//{{{T}}}ExchangeImpersonation") is None

    item = etree.fromstring(find_item_body(PublicFolder("AAMkPF1=", "Customers"), 'a"b', 7))
    view = item.find(f".//{{{M}}}IndexedPageItemView")
    assert view is not None and view.get("MaxEntriesReturned") == "7"
    contains = item.findall(f".//{{{M}}}Restriction/{{{T}}}Or/{{{T}}}Contains")
    assert [(c.get("ContainmentMode"), c.get("ContainmentComparison")) for c in contains] == [
        ("Substring", "IgnoreCase")
    ] * 5
    assert {c[1].get("Value") for c in contains} == {'a"b'}
    paths = [c[0].get("FieldURI") for c in contains]
    assert paths == [
        "contacts:DisplayName",
        "contacts:GivenName",
        "contacts:Surname",
        "contacts:CompanyName",
        "contacts:EmailAddress",
    ]
    assert contains[4][0].get("FieldIndex") == "EmailAddress1"


# --- a folder the service account may not read (public folder permissions) ----------


class _CannedEws(BaseHTTPRequestHandler):
    """Two contact folders; FindItem in the second is ErrorAccessDenied."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if b"FindFolder" in body:
            inner = (
                '<m:RootFolder TotalItemsInView="2" IncludesLastItemInRange="true"><t:Folders>'
                '<t:ContactsFolder><t:FolderId Id="AAopen"/><t:FolderClass>IPF.Contact'
                "</t:FolderClass><t:DisplayName>Open</t:DisplayName></t:ContactsFolder>"
                '<t:ContactsFolder><t:FolderId Id="AAclosed"/><t:FolderClass>IPF.Contact'
                "</t:FolderClass><t:DisplayName>Closed</t:DisplayName></t:ContactsFolder>"
                "</t:Folders></m:RootFolder>"
            )
            answer = _message("FindFolder", "Success", "NoError", inner)
        elif b'Id="AAopen"' in body:
            inner = (
                '<m:RootFolder TotalItemsInView="1" IncludesLastItemInRange="true"><t:Items>'
                '<t:Contact><t:ItemId Id="AAc"/><t:DisplayName>Olga Open</t:DisplayName>'
                "</t:Contact></t:Items></m:RootFolder>"
            )
            answer = _message("FindItem", "Success", "NoError", inner)
        else:
            answer = _message("FindItem", "Error", "ErrorAccessDenied", "")
        data = (
            f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            f"{answer}</s:Body></s:Envelope>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _message(operation: str, cls: str, code: str, inner: str) -> str:
    return (
        f'<m:{operation}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        f'<m:{operation}ResponseMessage ResponseClass="{cls}"><m:MessageText>Access is denied.'
        f"</m:MessageText><m:ResponseCode>{code}</m:ResponseCode>{inner}"
        f"</m:{operation}ResponseMessage></m:ResponseMessages></m:{operation}Response>"
    )


def test_a_folder_the_account_may_not_read_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CannedEws)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/EWS/Exchange.asmx"

    async def go() -> list[ContactHit]:
        async with EwsContactSearch(url, SERVICE_USER, SERVICE_PASSWORD) as client:
            return await client.search("o")

    try:
        with caplog.at_level(logging.WARNING, logger="integration.contacts.ews"):
            hits = run(go())
    finally:
        server.shutdown()
        server.server_close()
    assert names(hits) == ["Olga Open"]
    assert "public folder 'Closed' skipped: FindItem: Access is denied. (ErrorAccessDenied)" in (
        caplog.text
    )
