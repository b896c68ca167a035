"""What DavMail's WebDav mode does beyond appointments: PUT of events and messages,
PROPPATCH of a draft in Drafts with MAPI properties, MOVE (to the submission URI:
sending), COPY, MKCOL with a property body, DELETE of folders, NON_IPM_SUBTREE,
stored MAPI properties by their WebDAV names, and the GAL search ``?Cmd=galfind``."""

from __future__ import annotations

from lxml import etree

from simulators.exchange.mapi import PS_PUBLIC_STRINGS, PropKey
from simulators.exchange.model import CalendarItem, Message
from tests.simulators.webdav.conftest import ALICE, BOB, DavSite

NS = {"a": "DAV:", "e": "urn:schemas:httpmail:"}
MAILBOX = f"/exchange/{ALICE}"
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:put-1\r\nSUMMARY:{summary}\r\n"
    "DTSTART;TZID=Europe/Berlin:20260325T150000\r\nDTEND;TZID=Europe/Berlin:20260325T160000\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)
MIME_EVENT = (
    'Subject: {summary}\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
    '--b\r\nContent-Type: text/calendar; charset="utf-8"\r\n\r\n' + EVENT + "--b--\r\n"
)
MAIL = f"From: {ALICE}\r\nTo: {BOB}\r\nSubject: Hello Bob\r\n\r\nHi there.\r\n"
DRAFT = """<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"
 xmlns:e="http://schemas.microsoft.com/mapi/proptag/"
 xmlns:f="urn:schemas-microsoft-com:datatypes"
 xmlns:g="http://schemas.microsoft.com/mapi/id/{00062008-0000-0000-c000-000000000046}/">
<D:set><D:prop><e:x0e070003 f:dt="int">9</e:x0e070003>
<g:_x0030_x8570 f:dt="int">1</g:_x0030_x8570></D:prop></D:set></D:propertyupdate>"""


# Exchange's MAPI namespaces hold braces ("mapi/id/{GUID}/"), which libxml2 refuses as
# URIs unless it recovers; Java's parsers (DavMail's) read them as they are.
LENIENT = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)


def _calendar_items(dav: DavSite, subject: str) -> list[CalendarItem]:
    folder = dav.store.distinguished_folder("calendar", ALICE)
    return [
        i
        for i in dav.store.items_in(folder)
        if isinstance(i, CalendarItem) and i.subject == subject
    ]


def _messages(dav: DavSite, mailbox: str, folder: str) -> list[Message]:
    found = dav.store.items_in(dav.store.distinguished_folder(folder, mailbox))
    return [m for m in found if isinstance(m, Message)]


def test_put_creates_and_replaces_an_event(dav: DavSite) -> None:
    path = f"{MAILBOX}/Calendar/put-1.EML"
    created = dav.request(
        "PUT",
        path,
        MIME_EVENT.format(summary="Put event"),
        headers={"Translate": "f", "Content-Type": "message/rfc822", "If-None-Match": "*"},
    )
    assert created.status_code == 201
    assert created.headers["GetETag"] == created.headers["ETag"]
    (item,) = _calendar_items(dav, "Put event")
    assert item.url_name == "put-1.EML" and item.uid == "put-1"
    assert item.start.isoformat() == "2026-03-25T14:00:00+00:00"
    again = dav.request(
        "PUT",
        path,
        EVENT.format(summary="x"),
        headers={"Content-Type": "text/calendar", "If-None-Match": "*"},
    )
    assert again.status_code == 412
    stale = dav.request(
        "PUT",
        path,
        EVENT.format(summary="x"),
        headers={"Content-Type": "text/calendar", "If-Match": '"nope"'},
    )
    assert stale.status_code == 412
    replaced = dav.request(
        "PUT",
        path,
        EVENT.format(summary="Put event (changed)"),
        headers={"Content-Type": "text/calendar", "If-Match": created.headers["ETag"]},
    )
    assert replaced.status_code == 200 and item.subject == "Put event (changed)"
    broken = dav.request(
        "PUT",
        f"{MAILBOX}/Calendar/b.EML",
        "BEGIN:VCALENDAR\r\n",
        headers={"Content-Type": "text/calendar"},
    )
    assert broken.status_code == 400 and "cannot be read" in broken.text


def test_a_draft_made_by_proppatch_gets_its_body_by_put_and_is_sent_by_move(dav: DavSite) -> None:
    path = f"{MAILBOX}/Drafts/d1.EML"
    patched = dav.request("PROPPATCH", path, DRAFT)
    assert patched.status_code == 207
    root = etree.fromstring(patched.content, LENIENT)
    assert root.findtext("a:response/a:status", namespaces=NS) == "HTTP/1.1 201 Created"
    assert root.xpath("//a:propstat/a:status/text()", namespaces=NS) == ["HTTP/1.1 200 OK"]
    (draft,) = _messages(dav, ALICE, "drafts")
    assert draft.is_draft and draft.is_read  # PR_MESSAGE_FLAGS 9: unsent and read
    assert (
        dav.store.get_property(
            draft, PropKey.numbered("00062008-0000-0000-c000-000000000046", 0x8570)
        )
        == 1
    )
    put = dav.request(
        "PUT", path, MAIL, headers={"Translate": "f", "Content-Type": "message/rfc822"}
    )
    assert put.status_code == 200 and draft.subject == "Hello Bob" and draft.is_draft
    sent = dav.request(
        "MOVE",
        path,
        headers={"Destination": f"{dav.url}{MAILBOX}/%23%23DavMailSubmissionURI%23%23/"},
    )
    assert sent.status_code == 201
    assert _messages(dav, ALICE, "drafts") == []
    assert [m.subject for m in _messages(dav, BOB, "inbox")] == ["Hello Bob"]
    assert [m.subject for m in _messages(dav, ALICE, "sentitems")] == ["Hello Bob"]


def test_saveinsent_f_keeps_no_copy(dav: DavSite) -> None:
    path = f"{MAILBOX}/Drafts/d2.EML"
    dav.request("PUT", path, MAIL, headers={"Content-Type": "message/rfc822"})
    sent = dav.request(
        "MOVE",
        path,
        headers={"Destination": f"{MAILBOX}/%23%23DavMailSubmissionURI%23%23/", "Saveinsent": "f"},
    )
    assert sent.status_code == 201 and _messages(dav, ALICE, "sentitems") == []


def test_move_and_copy_between_folders(dav: DavSite) -> None:
    path = f"{MAILBOX}/Inbox/m.EML"
    assert (
        dav.request("PUT", path, MAIL, headers={"Content-Type": "message/rfc822"}).status_code
        == 201
    )
    (message,) = _messages(dav, ALICE, "inbox")
    copied = dav.request("COPY", path, headers={"Destination": f"{MAILBOX}/Drafts/c.EML"})
    assert copied.status_code == 201
    moved = dav.request("MOVE", path, headers={"Destination": f"{MAILBOX}/Deleted%20Items/m.EML"})
    assert moved.status_code == 201
    assert [m.id for m in _messages(dav, ALICE, "deleteditems")] == [message.id]
    (copy,) = _messages(dav, ALICE, "drafts")
    assert copy.id != message.id and copy.url_name == "c.EML"
    taken = dav.request(
        "COPY",
        f"{MAILBOX}/Drafts/c.EML",
        headers={"Destination": f"{MAILBOX}/Deleted%20Items/m.EML", "Overwrite": "F"},
    )
    assert taken.status_code == 412


def test_mkcol_with_a_property_body_makes_a_calendar_folder(dav: DavSite) -> None:
    body = """<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"
    xmlns:e="http://schemas.microsoft.com/exchange/"><D:set><D:prop>
    <e:outlookfolderclass>IPF.Appointment</e:outlookfolderclass></D:prop></D:set>
    </D:propertyupdate>"""
    made = dav.request("MKCOL", f"{MAILBOX}/davmailtemp", body)
    assert made.status_code == 207
    root = etree.fromstring(made.content)
    assert root.findtext("a:response/a:status", namespaces=NS) == "HTTP/1.1 201 Created"
    folder = next(f for f in dav.store.folders.values() if f.display_name == "davmailtemp")
    assert (folder.folder_class, folder.kind, folder.mailbox) == (
        "IPF.Appointment",
        "calendar",
        ALICE,
    )
    assert dav.request("MKCOL", f"{MAILBOX}/davmailtemp", body).status_code == 405
    # DavMail's time-zone probe: an appointment with no dates, then its MIME.
    probe = """<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>
    <D:contentclass>urn:content-classes:appointment</D:contentclass></D:prop></D:set>
    </D:propertyupdate>"""
    assert dav.request("PROPPATCH", f"{MAILBOX}/davmailtemp/p.EML", probe).status_code == 207
    mime = dav.request("GET", f"{MAILBOX}/davmailtemp/p.EML", headers={"Translate": "f"})
    assert "TZID:Europe/Berlin" in mime.text
    assert dav.request("MKCOL", f"{MAILBOX}/Plain").status_code == 201
    assert dav.request("DELETE", f"{MAILBOX}/davmailtemp/").status_code == 200
    assert folder.id not in dav.store.folders
    assert dav.request("DELETE", f"{MAILBOX}/Inbox/").status_code == 403


def test_non_ipm_subtree_holds_the_folders_outside_the_top_of_store(dav: DavSite) -> None:
    listing = dav.request("PROPFIND", f"{MAILBOX}/NON_IPM_SUBTREE/", headers={"Depth": "1"})
    assert listing.status_code == 207
    hrefs = etree.fromstring(listing.content).xpath("//a:href/text()", namespaces=NS)
    assert f"{dav.url}{MAILBOX}/NON_IPM_SUBTREE/" in hrefs
    assert f"{dav.url}{MAILBOX}/NON_IPM_SUBTREE/Finder/" in hrefs
    assert not [h for h in hrefs if h.endswith("/Inbox/")]


def test_mapi_properties_by_webdav_name_are_the_stores(dav: DavSite) -> None:
    lunch = dav.handles["lunch"]
    dav.store.set_properties(
        lunch, [(PropKey.named(PS_PUBLIC_STRINGS, "urn:x:tag"), "String", "blue")]
    )
    sql = (
        '<?xml version="1.0"?><D:searchrequest xmlns:D="DAV:"><D:sql>SELECT '
        '"http://schemas.microsoft.com/mapi/proptag/x0e230003", "urn:x:tag", '
        '"http://schemas.microsoft.com/mapi/proptag/x0037001f" '
        f"FROM SCOPE('SHALLOW TRAVERSAL OF \"{MAILBOX}/Calendar/\"') "
        "WHERE \"urn:x:tag\" = 'blue'</D:sql></D:searchrequest>"
    )
    found = etree.fromstring(dav.request("SEARCH", f"{MAILBOX}/Calendar/", sql).content)
    (response,) = found.findall("a:response", NS)
    values = {etree.QName(e).localname: e.text for e in response.iterfind(".//a:prop/*", NS)}
    assert values == {"x0e230003": str(lunch.article), "tag": "blue", "x0037001f": "Lunch"}


def test_galfind_searches_the_directory(dav: DavSite) -> None:
    answer = dav.request("GET", "/public/?Cmd=galfind&DN=alice")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/xml"
    items = etree.fromstring(answer.content).findall(".//a:item", NS)
    assert [
        (i.findtext("a:EM", namespaces=NS), i.findtext("a:AN", namespaces=NS)) for i in items
    ] == [(ALICE, "alice")]
    assert (
        etree.fromstring(dav.request("GET", "/public/?Cmd=galfind&DN=zz").content).find(
            ".//a:item", NS
        )
        is None
    )
