"""WebDAV contact search against the site's WebDAV front end (same seed as EWS):
first level only, every field, merging, hostile queries, auth and failures."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from lxml import etree

from integration.contacts import ContactHit, ContactSearch, InvalidQuery
from integration.contacts.webdav import (
    WebDavContactSearch,
    contacts_body,
    folders_body,
    like_pattern,
)
from integration.sources import AccessDenied, SourceUnavailable
from simulators.exchange.model import Folder
from simulators.exchange.webdav import sql as exchange_sql
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER
from tests.integration.contacts.conftest import DavServer

R = TypeVar("R")


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


def search(
    dav: DavServer, query: str, limit: int = 50, password: str = SERVICE_PASSWORD
) -> list[ContactHit]:
    async def go() -> list[ContactHit]:
        async with WebDavContactSearch(dav.exchange_url, SERVICE_USER, password) as client:
            return await client.search(query, limit)

    return run(go())


def names(hits: list[ContactHit]) -> list[str]:
    return [hit.display_name for hit in hits]


def public_folder(dav: DavServer, name: str) -> Folder:
    store = dav.ews.store
    return next(
        f for f in store.children(store.folders[store.public_root_id]) if f.display_name == name
    )


def add_contact(dav: DavServer, folder: Folder, display_name: str, **fields: Any) -> None:
    dav.ews.store.create_contact(
        folder,
        display_name=display_name,
        given_name=fields.get("given_name", ""),
        surname=fields.get("surname", ""),
        company=fields.get("company", ""),
        emails=fields.get("emails", []),
        phones=fields.get("phones", {}),
    )


def searches(dav: DavServer) -> list[str]:
    return [e.path for e in dav.site.journal.entries(service="webdav") if e.method == "SEARCH"]


def test_it_is_a_contact_search(dav: DavServer) -> None:
    client = WebDavContactSearch(dav.exchange_url, SERVICE_USER, SERVICE_PASSWORD)
    try:
        assert isinstance(client, ContactSearch)
    finally:
        run(client.aclose())


def test_first_level_contact_folders_are_found(dav: DavServer) -> None:
    async def go() -> list[tuple[str, str]]:
        async with WebDavContactSearch(dav.exchange_url, SERVICE_USER, SERVICE_PASSWORD) as c:
            return [(f.name, f.id) for f in await c.folders()]

    assert sorted(run(go())) == [
        ("Customers", "/public/Customers/"),
        ("Suppliers", "/public/Suppliers/"),
    ]


def test_a_hit_carries_name_company_email_phones_and_folder(dav: DavServer) -> None:
    assert search(dav, "carla") == [
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
    assert search(dav, "dieter")[0].home_phone == "+49 30 777"


def test_a_contact_in_a_subfolder_is_not_found(dav: DavServer) -> None:
    archive = next(f for f in dav.ews.store.folders.values() if f.display_name == "Archive")
    assert [c.display_name for c in dav.ews.store.items_in(archive)] == ["Old Contact"]  # type: ignore[attr-defined]
    assert search(dav, "Old Contact") == []
    assert "Old Contact" not in names(search(dav, "o"))
    assert searches(dav) and not any("archive" in path.lower() for path in searches(dav))


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
def test_case_insensitive_substring_on_each_field(dav: DavServer, query: str, field: str) -> None:
    add_contact(
        dav,
        public_folder(dav, "Suppliers"),
        "Zed Display",
        given_name="Quintus",
        surname="Xylophon",
        company="Yarrow Ltd",
        emails=["wombat@example.org"],
    )
    assert names(search(dav, query)) == ["Zed Display"], field


def test_several_folders_are_merged_sorted_and_limited(dav: DavServer) -> None:
    add_contact(dav, public_folder(dav, "Suppliers"), "Anton Supply")
    hits = search(dav, "s")
    assert names(hits) == ["Anton Supply", "Carla Customer", "Carlos Other", "Sam Supplier"]
    assert [h.folder for h in hits] == ["Suppliers", "Customers", "Customers", "Suppliers"]
    assert names(search(dav, "s", limit=2)) == ["Anton Supply", "Carla Customer"]


def test_folders_that_hold_no_contacts_are_ignored(dav: DavServer) -> None:
    for name, folder_class in (("Events", "IPF.Appointment"), ("Mail", "IPF.Note")):
        folder = dav.ews.store.add_public_folder(name, folder_class=folder_class)
        add_contact(dav, folder, f"Hidden in {name}")
    assert search(dav, "hidden in") == []
    assert sorted(searches(dav)) == ["/public/", "/public/Customers/", "/public/Suppliers/"]


HOSTILE = [
    ("Pat O'Brien", "o'brien"),
    ('Say "Cheese" Studio', 'say "cheese"'),
    ("Fish & Chips <Ltd>", "& chips <ltd>"),
    ("100% Sure", "100%"),
    ("Under_Score", "r_s"),
    ("Odd ]]> Name", "]]>"),
    ("Square [Bracket]", "[bracket]"),
    ("Entity &amp; Literal", "&amp;"),
    ("Quote '' Twice", "''"),
]


@pytest.mark.parametrize(("display_name", "query"), HOSTILE)
def test_hostile_queries_find_exactly_their_contact(
    dav: DavServer, display_name: str, query: str
) -> None:
    folder = public_folder(dav, "Customers")
    for other, _ in HOSTILE:
        add_contact(dav, folder, other)
    add_contact(dav, folder, "100X Sure")  # what '%' or '_' as wildcards would also find
    add_contact(dav, folder, "UnderXScore")
    assert names(search(dav, query)) == [display_name]


@pytest.mark.parametrize("query", ["' OR 1=1 --", "%", "_", "') --", '"/public/"', "]]><x/>"])
def test_hostile_queries_that_match_nothing_are_answered_empty(dav: DavServer, query: str) -> None:
    assert search(dav, query) == []
    assert dav.site.journal.count(service="webdav", status=207) == 3


@pytest.mark.parametrize(
    "query", ["o'brien", "100%", "a_b", "[x]", "'); DROP --", 'say "x"', "<&>", "''"]
)
def test_the_sql_parses_and_keeps_the_query_a_string(query: str) -> None:
    body, exact = contacts_body("/public/Cust'omers/", query)
    sql_text = "".join(etree.fromstring(body).itertext())
    parsed = exchange_sql.parse(sql_text)
    assert [s.url for s in parsed.scopes] == ["/public/Cust%27omers/"]
    pattern, _ = like_pattern(query)
    literal = pattern[1:-1].replace("''", "'")
    assert sql_text.count(pattern) == 5
    assert literal == "%" + "".join("_" if c in "%_[" else c for c in query) + "%"
    assert exact == (not any(c in "%_[" for c in query))
    assert exchange_sql.parse("".join(etree.fromstring(folders_body("/public/")).itertext()))


def test_unusable_queries_are_refused_before_anything_is_sent(dav: DavServer) -> None:
    with pytest.raises(InvalidQuery):
        search(dav, "a\x00")
    assert dav.site.journal.count(service="webdav") == 0


def test_basic_authentication_is_detected(dav: DavServer) -> None:
    async def go() -> str | None:
        async with WebDavContactSearch(dav.exchange_url, SERVICE_USER, SERVICE_PASSWORD) as c:
            await c.search("sam")
            return c.auth_mode

    assert run(go()) == "basic"


def test_forms_authentication_logs_in_and_searches(dav: DavServer) -> None:
    dav.forms()

    async def go() -> tuple[list[str], str | None]:
        async with WebDavContactSearch(dav.exchange_url, SERVICE_USER, SERVICE_PASSWORD) as c:
            return names(await c.search("sam")), c.auth_mode

    assert run(go()) == (["Sam Supplier"], "forms")


def test_forms_with_a_wrong_password_is_access_denied(dav: DavServer) -> None:
    dav.forms()
    with pytest.raises(AccessDenied, match="credentials refused"):
        search(dav, "sam", password="wrong")


def test_wrong_password_is_access_denied_with_a_clear_message(dav: DavServer) -> None:
    with pytest.raises(AccessDenied) as caught:
        search(dav, "carla", password="wrong")
    assert caught.value.code == "HTTP 401"
    assert str(caught.value) == f"service account credentials refused for {SERVICE_USER} (HTTP 401)"


def test_service_down_is_unavailable(dav: DavServer) -> None:
    dav.site.faults.add("webdav", "http_503", timedelta(minutes=5))
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        search(dav, "carla")


def test_the_folder_list_is_cached_for_the_ttl(dav: DavServer) -> None:
    now = [50.0]

    async def go() -> list[list[str]]:
        seen = []
        async with WebDavContactSearch(
            dav.exchange_url, SERVICE_USER, SERVICE_PASSWORD, folder_ttl=60, clock=lambda: now[0]
        ) as c:
            seen.append(names(await c.search("a")))
            add_contact(dav, dav.ews.store.add_public_folder("Partners"), "Paula Partner")
            now[0] += 59
            seen.append(names(await c.search("paula")))
            now[0] += 1
            seen.append(names(await c.search("paula")))
        return seen

    first, cached, fresh = run(go())
    assert "Carla Customer" in first and cached == [] and fresh == ["Paula Partner"]
    assert searches(dav).count("/public/") == 2


def test_a_folder_deleted_since_the_list_was_read_is_skipped_then_forgotten(
    dav: DavServer,
) -> None:
    async def go() -> tuple[list[str], int]:
        async with WebDavContactSearch(dav.exchange_url, SERVICE_USER, SERVICE_PASSWORD) as c:
            await c.folders()
            store = dav.ews.store
            suppliers = public_folder(dav, "Suppliers")
            store.folders[store.public_root_id].child_ids.remove(suppliers.id)
            del store.folders[suppliers.id]
            during = names(await c.search("s"))
            await c.search("s")
            return during, c.folder_cache.fetches

    during, fetches = run(go())
    assert during == ["Carla Customer", "Carlos Other"]
    assert fetches == 2


def test_the_harness_command_with_the_webdav_variant(dav: DavServer, tmp_path: Any) -> None:
    import subprocess
    import sys

    config = tmp_path / "engine.toml"
    config.write_text(
        f'[exchange]\nvariant = "webdav"\nserver_url = "{dav.exchange_url}"\n'
        f'username = "{SERVICE_USER}"\npassword = "{SERVICE_PASSWORD}"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scenarios.commands.cli",
            "contacts",
            "--config",
            str(config),
            "kunde",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "Dieter Kunde" in done.stdout and "home +49 30 777" in done.stdout
