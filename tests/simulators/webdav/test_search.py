"""SEARCH as clients send it: DavMail's calendar and contact statements verbatim, the
reference's instance query across the 2026 DST change, public folders, Range paging,
and 400 answers that name the offending token."""

from __future__ import annotations

from lxml import etree

from tests.simulators.webdav.conftest import ALICE, EVE, DavSite

NS = {
    "a": "DAV:",
    "d": "urn:schemas:calendar:",
    "e": "urn:schemas:httpmail:",
    "c": "urn:schemas:contacts:",
    "x": "http://schemas.microsoft.com/exchange/",
}
DT = "{urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/}dt"

# DavExchangeSession.searchEvents(folder, "20260301T000000Z", "20260501T000000Z") as
# DavMail 6 builds it (Field URIs, MultiCondition parentheses, formatSearchDate).
DAVMAIL_CALENDAR = (
    'SELECT "http://schemas.microsoft.com/exchange/permanenturl","DAV:getetag",'
    '"DAV:displayname","urn:schemas:calendar:instancetype",'
    '"http://schemas.microsoft.com/mapi/proptag/x10f3001f","urn:schemas:httpmail:subject",'
    '"DAV:contentclass" FROM SCOPE(\'SHALLOW TRAVERSAL OF "{folder}"\') WHERE '
    '("DAV:isfolder" = false AND "DAV:ishidden" = false AND '
    "(((\"http://schemas.microsoft.com/exchange/outlookmessageclass\" = 'IPM.Appointment' OR "
    "\"http://schemas.microsoft.com/exchange/outlookmessageclass\" = 'IPM.Appointment.MeetingEvent') "
    'AND ("urn:schemas:calendar:instancetype" = 1 OR ("urn:schemas:calendar:instancetype" = 0 '
    "AND (\"urn:schemas:calendar:dtend\" > '2026/03/01 00:00:00' AND "
    "\"urn:schemas:calendar:dtstart\" < '2026/05/01 00:00:00')))))) "
    'ORDER BY "http://schemas.microsoft.com/mapi/proptag/x0e230003" DESC'
)

# DavExchangeSession.getAllContacts(folder): searchContacts with CONTACT_ATTRIBUTES
# (those whose URIs need no settings), e-mail and flags by MAPI id with aliases.
DAVMAIL_CONTACTS = (
    'SELECT "http://schemas.microsoft.com/exchange/permanenturl",'
    '"http://schemas.microsoft.com/mapi/proptag/x0e230003","DAV:getetag",'
    '"http://schemas.microsoft.com/mapi/proptag/x10f3001f","urn:schemas:contacts:cn",'
    '"urn:schemas:contacts:givenName","urn:schemas:contacts:sn","urn:schemas:contacts:o",'
    '"http://schemas.microsoft.com/mapi/id/{{00062004-0000-0000-c000-000000000046}}/32900" as smtpemail1,'
    '"http://schemas.microsoft.com/mapi/id/{{00062004-0000-0000-c000-000000000046}}/32916" as smtpemail2,'
    '"urn:schemas:contacts:telephoneNumber","urn:schemas:contacts:mobile",'
    '"urn:schemas:contacts:homePhone","DAV:getlastmodified",'
    '"http://schemas.microsoft.com/mapi/id/{{00062004-0000-0000-c000-000000000046}}/32789" as haspicture,'
    '"http://schemas.microsoft.com/mapi/id/{{00062008-0000-0000-c000-000000000046}}/0x8506" as private,'
    '"http://schemas.microsoft.com/mapi/proptag/x00360003","urn:schemas:httpmail:textdescription" '
    "FROM SCOPE('SHALLOW TRAVERSAL OF \"{folder}\"') WHERE "
    "(\"http://schemas.microsoft.com/exchange/outlookmessageclass\" = 'IPM.Contact' AND "
    '"DAV:isfolder" = false AND "DAV:ishidden" = false AND '
    "\"http://schemas.microsoft.com/exchange/outlookmessageclass\" = 'IPM.Contact') "
    'ORDER BY "http://schemas.microsoft.com/mapi/proptag/x0e230003" DESC'
)

# The reference's poll: instances (not masters) overlapping a window.
INSTANCES = """SELECT "urn:schemas:httpmail:subject", "urn:schemas:calendar:dtstart",
  "urn:schemas:calendar:dtend", "urn:schemas:calendar:instancetype",
  "urn:schemas:calendar:busystatus", "urn:schemas:calendar:alldayevent"
FROM Scope('SHALLOW TRAVERSAL OF "{folder}"')
WHERE NOT "urn:schemas:calendar:instancetype" = 1
  AND "DAV:contentclass" = 'urn:content-classes:appointment'
  AND "urn:schemas:calendar:dtstart" < '{upper}'
  AND "urn:schemas:calendar:dtend" > '{lower}'
ORDER BY "urn:schemas:calendar:dtstart" ASC"""


def body(sql: str) -> str:
    escaped = sql.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<?xml version="1.0"?><g:searchrequest xmlns:g="DAV:"><g:sql>{escaped}</g:sql></g:searchrequest>'


def rows(response_body: bytes) -> list[etree._Element]:
    return etree.fromstring(response_body).findall("a:response", NS)


def ok_prop(row: etree._Element, path: str) -> etree._Element | None:
    found = row.xpath(f"a:propstat[a:status='HTTP/1.1 200 OK']/a:prop/{path}", namespaces=NS)
    return found[0] if found else None


def test_davmail_calendar_query_gets_masters_and_singles_in_range(dav: DavSite) -> None:
    folder = f"{dav.url}/exchange/alice/Calendar"
    response = dav.request(
        "SEARCH", f"/exchange/{ALICE}/Calendar/", body(DAVMAIL_CALENDAR.format(folder=folder))
    )
    assert response.status_code == 207
    assert response.headers["content-type"] == "text/xml"
    found = {
        ok_prop(r, "e:subject").text: ok_prop(r, "d:instancetype").text
        for r in rows(response.content)
    }
    assert found == {"Weekly review": "1", "Lunch": "0"}
    for row in rows(response.content):
        assert ok_prop(row, "d:instancetype").get(DT) == "int"
        assert ok_prop(row, "a:contentclass").text == "urn:content-classes:appointment"
        href = row.findtext("a:href", namespaces=NS)
        assert ok_prop(row, "x:permanenturl").text == href
        assert href.endswith(ok_prop(row, "a:displayname").text)


def test_davmail_calendar_query_outside_the_range_keeps_only_masters(dav: DavSite) -> None:
    folder = f"{dav.url}/exchange/alice/Calendar"
    sql = (
        DAVMAIL_CALENDAR.format(folder=folder)
        .replace("2026/03/01", "2026/06/01")
        .replace("2026/05/01", "2026/07/01")
    )
    response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
    assert [ok_prop(r, "e:subject").text for r in rows(response.content)] == ["Weekly review"]


def test_instances_expand_across_dst_with_moved_and_deleted_occurrences(dav: DavSite) -> None:
    sql = INSTANCES.format(
        folder=f"/exchange/{ALICE}/Calendar/",
        lower="2026/03/16 00:00:00",
        upper="2026/04/25 00:00:00",
    )
    response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
    assert response.status_code == 207
    got = [
        (
            ok_prop(r, "e:subject").text,
            ok_prop(r, "d:dtstart").text,
            ok_prop(r, "d:dtend").text,
            ok_prop(r, "d:instancetype").text,
            ok_prop(r, "d:busystatus").text,
        )
        for r in rows(response.content)
    ]
    assert got == [
        ("Weekly review", "2026-03-16T08:00:00.000Z", "2026-03-16T09:00:00.000Z", "2", "BUSY"),
        ("Moved review", "2026-03-23T13:00:00.000Z", "2026-03-23T14:00:00.000Z", "3", "BUSY"),
        # 09:00 Berlin is 07:00 UTC after the 29 March change.
        ("Weekly review", "2026-03-30T07:00:00.000Z", "2026-03-30T08:00:00.000Z", "2", "BUSY"),
        ("Lunch", "2026-03-30T10:00:00.000Z", "2026-03-30T11:00:00.000Z", "0", "OUTOFOFFICE"),
        # 6 April is deleted.
        ("Weekly review", "2026-04-13T07:00:00.000Z", "2026-04-13T08:00:00.000Z", "2", "BUSY"),
        ("Weekly review", "2026-04-20T07:00:00.000Z", "2026-04-20T08:00:00.000Z", "2", "BUSY"),
    ]
    first = rows(response.content)[0]
    assert ok_prop(first, "d:alldayevent").text == "0"
    assert ok_prop(first, "d:alldayevent").get(DT) == "boolean"


def test_instances_carry_the_masters_uid_and_their_recurrence_id(dav: DavSite) -> None:
    sql = (
        'SELECT "urn:schemas:calendar:uid", "urn:schemas:calendar:recurrenceid" '
        f"FROM Scope('SHALLOW TRAVERSAL OF \"/exchange/{ALICE}/Calendar/\"') "
        'WHERE "urn:schemas:calendar:instancetype" = 3 '
        'AND "urn:schemas:calendar:dtstart" < CAST("2026-03-24T00:00:00Z" as \'dateTime.tz\') '
        'AND "urn:schemas:calendar:dtend" > CAST("2026-03-23T00:00:00Z" as \'dateTime.tz\')'
    )
    response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
    [row] = rows(response.content)
    assert ok_prop(row, "d:uid").text == dav.handles["weekly"].uid
    assert ok_prop(row, "d:recurrenceid").text == "2026-03-23T08:00:00.000Z"


def test_range_header_pages_rows_and_answers_content_range(dav: DavSite) -> None:
    sql = INSTANCES.format(
        folder=f"/exchange/{ALICE}/Calendar/",
        lower="2026/03/16 00:00:00",
        upper="2026/04/25 00:00:00",
    )
    page1 = dav.request(
        "SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql), headers={"Range": "rows=0-3"}
    )
    page2 = dav.request(
        "SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql), headers={"Range": "rows=4-9"}
    )
    assert page1.headers["content-range"] == "rows 0-3; total=6"
    assert page2.headers["content-range"] == "rows 4-5; total=6"
    assert len(rows(page1.content)) == 4 and len(rows(page2.content)) == 2
    starts = [ok_prop(r, "d:dtstart").text for r in rows(page1.content) + rows(page2.content)]
    assert starts == sorted(starts)
    assert (
        dav.request(
            "SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql), headers={"Range": "bytes=0-1"}
        ).status_code
        == 400
    )


def test_unknown_props_are_in_a_404_propstat(dav: DavSite) -> None:
    sql = (
        'SELECT "urn:schemas:httpmail:subject", "urn:schemas:calendar:nosuch" '
        f'FROM "/exchange/{ALICE}/Calendar/" WHERE "urn:schemas:calendar:instancetype" = 0'
    )
    [row] = rows(dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql)).content)
    statuses = row.xpath("a:propstat/a:status/text()", namespaces=NS)
    assert statuses == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Resource Not Found"]
    assert row.xpath("a:propstat[2]/a:prop/d:nosuch", namespaces=NS)


def test_empty_result_is_an_empty_multistatus(dav: DavSite) -> None:
    sql = f'SELECT "DAV:href" FROM "/exchange/{ALICE}/Calendar/" WHERE "urn:schemas:httpmail:subject" = \'none\''
    response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
    assert response.status_code == 207
    root = etree.fromstring(response.content)
    assert root.tag == "{DAV:}multistatus" and len(root) == 0


def test_bad_sql_is_400_naming_the_token(dav: DavSite) -> None:
    cases = {
        'SELECT "DAV:href" FROM "/x/" WHERE "DAV:isfolder" == false': "=",
        'SELECT "DAV:href" FROM "/x/" GROUP BY "DAV:href"': "GROUP",
        'SELEKT "DAV:href"': "SELEKT",
        'SELECT "DAV:href" FROM "/x/" WHERE CONTAINS(\'x\')': "CONTAINS",
    }
    for sql, token in cases.items():
        response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
        assert response.status_code == 400, sql
        assert token in response.text, (sql, response.text)


def test_body_without_sql_or_not_xml_is_400(dav: DavSite) -> None:
    no_sql = (
        '<?xml version="1.0"?><g:searchrequest xmlns:g="DAV:"><g:basicsearch/></g:searchrequest>'
    )
    assert dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", no_sql).status_code == 400
    assert dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", "<not xml").status_code == 400
    assert dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", b"").status_code == 400


def test_scope_in_a_mailbox_without_full_access_is_403(dav: DavSite) -> None:
    sql = f'SELECT "DAV:href" FROM "/exchange/{EVE}/Calendar/"'
    assert dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql)).status_code == 403


def test_public_first_level_folders(dav: DavSite) -> None:
    sql = (
        'SELECT "DAV:displayname","DAV:href" FROM SCOPE(\'SHALLOW TRAVERSAL OF "/public/"\') '
        'WHERE "DAV:isfolder" = True AND "DAV:ishidden" = False'
    )
    response = dav.request("SEARCH", "/public/", body(sql))
    found = {
        ok_prop(r, "a:displayname").text: ok_prop(r, "a:href").text for r in rows(response.content)
    }
    assert found == {
        "Customers": f"{dav.url}/public/Customers/",
        "Suppliers": f"{dav.url}/public/Suppliers/",
    }


def test_public_contacts_by_contentclass(dav: DavSite) -> None:
    sql = (
        'SELECT "urn:schemas:contacts:cn","urn:schemas:contacts:email1","urn:schemas:contacts:mobile" '
        'FROM SCOPE(\'SHALLOW TRAVERSAL OF "/public/Customers/"\') WHERE "DAV:isfolder" = false '
        'AND "DAV:ishidden" = false AND "DAV:contentclass" = \'urn:content-classes:person\' '
        'ORDER BY "urn:schemas:contacts:cn"'
    )
    response = dav.request("SEARCH", "/public/Customers/", body(sql))
    got = [
        (ok_prop(r, "c:cn").text, getattr(ok_prop(r, "c:email1"), "text", None))
        for r in rows(response.content)
    ]
    assert got == [("Carla Customer", "carla@kunde.de"), ("Dieter Kunde", None)]


def test_davmail_contact_query_verbatim(dav: DavSite) -> None:
    folder = f"{dav.url}/public/Customers"
    response = dav.request(
        "SEARCH", "/public/Customers/", body(DAVMAIL_CONTACTS.format(folder=folder))
    )
    assert response.status_code == 207
    root = etree.fromstring(response.content)
    carla = next(
        r for r in root.findall("a:response", NS) if ok_prop(r, "c:cn").text == "Carla Customer"
    )
    # The aliased MAPI property comes back under its alias, in no namespace.
    assert ok_prop(carla, "smtpemail1").text == "carla@kunde.de"
    assert ok_prop(carla, "c:givenName").text == "Carla"
    assert ok_prop(carla, "c:o").text == "Kunde GmbH"
    assert len(root.findall("a:response", NS)) == 2


def test_deep_traversal_of_public_folders_is_refused(dav: DavSite) -> None:
    sql = 'SELECT "DAV:href" FROM SCOPE(\'DEEP TRAVERSAL OF "/public/"\')'
    response = dav.request("SEARCH", "/public/", body(sql))
    assert response.status_code == 400
    assert "Deep traversal" in response.text


def test_deep_traversal_of_a_mailbox_finds_items_in_subfolders(dav: DavSite) -> None:
    sql = (
        f'SELECT "urn:schemas:httpmail:subject" FROM SCOPE(\'DEEP TRAVERSAL OF "/exchange/{ALICE}/"\') '
        "WHERE \"DAV:contentclass\" = 'urn:content-classes:appointment'"
    )
    response = dav.request("SEARCH", f"/exchange/{ALICE}/", body(sql))
    assert sorted(ok_prop(r, "e:subject").text for r in rows(response.content)) == [
        "Lunch",
        "Weekly review",
    ]


def test_search_is_journaled_with_the_mailbox(dav: DavSite) -> None:
    sql = f'SELECT "DAV:href" FROM "/exchange/{ALICE}/Calendar/"'
    dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
    [entry] = dav.site.journal.entries(service="webdav", operation="SEARCH")
    assert entry.mailbox == ALICE and entry.status == 207


def test_series_without_end_is_cut_at_a_far_horizon(dav: DavSite) -> None:
    from datetime import UTC, date, datetime

    from simulators.exchange.recurrence import Recurrence

    calendar = dav.store.distinguished_folder("calendar", ALICE)
    dav.store.create_calendar_item(
        calendar,
        subject="Daily forever",
        start=datetime(2026, 1, 1, 8, tzinfo=UTC),
        end=datetime(2026, 1, 1, 9, tzinfo=UTC),
        recurrence=Recurrence("daily", date(2026, 1, 1)),
    )
    sql = INSTANCES.format(
        folder=f"/exchange/{ALICE}/Calendar/",
        lower="2026/01/01 00:00:00",
        upper="2400/01/01 00:00:00",
    )
    response = dav.request("SEARCH", f"/exchange/{ALICE}/Calendar/", body(sql))
    daily = [r for r in rows(response.content) if ok_prop(r, "e:subject").text == "Daily forever"]
    assert 366 * 5 - 2 <= len(daily) <= 366 * 5 + 1
