"""The protocol-independent parts: query checks, merging, the folder cache, and the
EWS request text and answer parsing on answers written here after the 2007 schema."""

from __future__ import annotations

import asyncio

import pytest
from lxml import etree

from integration.contacts import ContactHit, InvalidQuery, PublicFolder
from integration.contacts.ews import (
    FIND_FOLDER_BODY,
    find_item_body,
    parse_find_folder,
    parse_find_item,
    xml_attribute,
)
from integration.contacts.model import FolderCache, check_query, merge_hits
from integration.sources import AccessDenied, SourceProtocolError
from integration.sources.ews import parse_xml, soap_payload
from tests.schema_check import SKIP_REASON, load_schema, response_errors, schema_dir

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
HOSTILE = [
    "O'Brien",
    'say "x"',
    "a&b",
    "<t:Contact/>",
    "]]>",
    "%_[",
    "&amp;",
    "tab\there",
    "€ ü 日本",
]


def payload(body: str) -> etree._Element:
    text = f'<s:Envelope xmlns:s="{S}"><s:Body>{body}</s:Body></s:Envelope>'
    return soap_payload(parse_xml(text.encode()), None)


def response(operation: str, inner: str, cls: str = "Success", code: str = "NoError") -> str:
    return (
        f'<m:{operation}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        f'<m:{operation}ResponseMessage ResponseClass="{cls}">'
        f"<m:MessageText>{code} text</m:MessageText><m:ResponseCode>{code}</m:ResponseCode>"
        f"{inner}</m:{operation}ResponseMessage></m:ResponseMessages></m:{operation}Response>"
    )


# --- queries ------------------------------------------------------------------------


def test_a_query_is_trimmed() -> None:
    assert check_query("  Carla Customer \n", 50) == "Carla Customer"


@pytest.mark.parametrize("query", ["\x00", "a\x07", "a\u200b\x7f", "\ud800"])
def test_control_characters_are_refused(query: str) -> None:
    with pytest.raises(InvalidQuery, match="control character"):
        check_query(query, 50)


@pytest.mark.parametrize("limit", [0, -1, 1001, True, 2.5])
def test_limits_outside_1_to_1000_are_refused(limit: object) -> None:
    with pytest.raises(InvalidQuery, match="limit"):
        check_query("x", limit)  # type: ignore[arg-type]


def test_matches_ignores_case_over_the_searched_fields_only() -> None:
    hit = ContactHit("Carla C", "Carla", "Customer", "Kunde GmbH", "c@k.de", "+49 30", folder="X")
    assert hit.matches("KUNDE") and hit.matches("@K.") and hit.matches("la c")
    assert not hit.matches("+49") and not hit.matches("x")


# --- merging ------------------------------------------------------------------------


def test_merge_sorts_by_display_name_ignoring_case_then_folder_and_cuts() -> None:
    hits = [
        ContactHit("bert", folder="B"),
        ContactHit("Anna", folder="Z"),
        ContactHit("Bert", folder="A"),
        ContactHit("anna", folder="A"),
    ]
    merged = merge_hits(hits, 3)
    assert [(h.display_name, h.folder) for h in merged] == [
        ("anna", "A"),
        ("Anna", "Z"),
        ("Bert", "A"),
    ]


# --- the folder cache ---------------------------------------------------------------


def test_cache_fetches_once_per_ttl_and_after_invalidate() -> None:
    now = [0.0]
    cache: FolderCache[str] = FolderCache(60, clock=lambda: now[0])
    calls: list[int] = []

    async def fetch() -> list[str]:
        calls.append(1)
        await asyncio.sleep(0)
        return [f"list {len(calls)}"]

    async def go() -> list[list[str]]:
        seen = list(await asyncio.gather(*(cache.get(fetch) for _ in range(5))))
        now[0] = 59.9
        seen.append(await cache.get(fetch))
        now[0] = 60.0
        seen.append(await cache.get(fetch))
        cache.invalidate()
        seen.append(await cache.get(fetch))
        return seen

    seen = asyncio.run(go())
    assert seen == [["list 1"]] * 6 + [["list 2"], ["list 3"]]
    assert cache.fetches == 3


def test_cache_with_ttl_zero_always_fetches() -> None:
    cache: FolderCache[int] = FolderCache(0)

    async def go() -> int:
        for _ in range(3):
            await cache.get(lambda: asyncio.sleep(0, [1]))
        return cache.fetches

    assert asyncio.run(go()) == 3


# --- EWS request text ---------------------------------------------------------------


@pytest.mark.parametrize("query", HOSTILE)
def test_the_query_reaches_the_constant_unchanged(query: str) -> None:
    body = find_item_body(PublicFolder('AA"x', "F", 'k"<'), query, 50)
    root = etree.fromstring(body)
    values = {c.get("Value") for c in root.iter(f"{{{T}}}Constant")}
    assert values == {query}
    folder_id = root.find(f".//{{{M}}}ParentFolderIds/{{{T}}}FolderId")
    assert folder_id is not None and (folder_id.get("Id"), folder_id.get("ChangeKey")) == (
        'AA"x',
        'k"<',
    )
    assert len(root.findall(f".//{{{M}}}FindItem")) == 1  # no structure injected


def test_xml_attribute_escapes_every_special_character() -> None:
    assert xml_attribute("<&>\"'\t\n\r") == "&lt;&amp;&gt;&quot;&apos;&#9;&#10;&#13;"


@pytest.mark.schema
@pytest.mark.skipif(schema_dir() is None, reason=SKIP_REASON)
@pytest.mark.parametrize("query", HOSTILE[:3])
def test_both_requests_validate_against_the_2007_schema(query: str) -> None:
    folder = schema_dir()
    assert folder is not None
    schema = load_schema(str(folder))
    assert response_errors(FIND_FOLDER_BODY, schema) == []
    body = find_item_body(PublicFolder("AAMkPF1=", "F", "AQAAAA=="), query, 50)
    assert response_errors(body, schema) == []


# --- EWS answers --------------------------------------------------------------------


def test_find_folder_keeps_contact_folders_by_class_or_element() -> None:
    folders = (
        '<m:RootFolder TotalItemsInView="5" IncludesLastItemInRange="true"><t:Folders>'
        '<t:ContactsFolder><t:FolderId Id="AA1" ChangeKey="k1"/>'
        "<t:FolderClass>IPF.Contact</t:FolderClass><t:DisplayName>Customers</t:DisplayName>"
        "</t:ContactsFolder>"
        '<t:Folder><t:FolderId Id="AA2"/><t:FolderClass>IPF.Contact.Custom</t:FolderClass>'
        "<t:DisplayName>Custom</t:DisplayName></t:Folder>"
        '<t:ContactsFolder><t:FolderId Id="AA3"/><t:DisplayName>NoClass</t:DisplayName>'
        "</t:ContactsFolder>"
        '<t:CalendarFolder><t:FolderId Id="AA4"/><t:FolderClass>IPF.Appointment</t:FolderClass>'
        "<t:DisplayName>Events</t:DisplayName></t:CalendarFolder>"
        '<t:Folder><t:FolderId Id="AA5"/><t:FolderClass>IPF.Contactless</t:FolderClass>'
        "<t:DisplayName>Lookalike</t:DisplayName></t:Folder>"
        "</t:Folders></m:RootFolder>"
    )
    found = parse_find_folder(payload(response("FindFolder", folders)))
    assert found == [
        PublicFolder("AA1", "Customers", "k1"),
        PublicFolder("AA2", "Custom"),
        PublicFolder("AA3", "NoClass"),
    ]


def test_find_item_reads_contacts_and_skips_other_items() -> None:
    items = (
        '<m:RootFolder TotalItemsInView="2" IncludesLastItemInRange="true"><t:Items>'
        '<t:Contact><t:ItemId Id="AAi1"/><!-- note --><t:DisplayName>Carla</t:DisplayName>'
        "<t:CompanyName>Kunde</t:CompanyName><t:EmailAddresses>"
        '<t:Entry Key="EmailAddress1">SMTP:carla@kunde.de</t:Entry></t:EmailAddresses>'
        '<t:PhoneNumbers><t:Entry Key="BusinessPhone">+49 1</t:Entry>'
        '<t:Entry Key="Pager">999</t:Entry><t:Entry Key="HomePhone">+49 2</t:Entry>'
        "</t:PhoneNumbers><t:Surname>C</t:Surname></t:Contact>"
        '<t:DistributionList><t:ItemId Id="AAi2"/><t:DisplayName>All</t:DisplayName>'
        "</t:DistributionList></t:Items></m:RootFolder>"
    )
    hits = parse_find_item(payload(response("FindItem", items)), PublicFolder("AA1", "Cust"))
    assert hits == [
        ContactHit(
            "Carla",
            surname="C",
            company="Kunde",
            email="carla@kunde.de",
            business_phone="+49 1",
            home_phone="+49 2",
            folder="Cust",
        )
    ]


def test_a_per_folder_error_keeps_its_code() -> None:
    answer = payload(response("FindItem", "", cls="Error", code="ErrorAccessDenied"))
    with pytest.raises(AccessDenied) as caught:
        parse_find_item(answer, PublicFolder("AA1", "Cust"))
    assert caught.value.code == "ErrorAccessDenied"
    assert "FindItem: ErrorAccessDenied text" in str(caught.value)


def test_an_answer_to_another_operation_is_a_protocol_error() -> None:
    with pytest.raises(SourceProtocolError, match="unexpected answer"):
        parse_find_folder(payload(response("FindItem", "")))
