"""Messages and folders over EWS: CreateItem SaveOnly / SendOnly / SendAndSaveCopy
(sending through the SMTP sink into the recipients' inboxes), GetItem with
IncludeMimeContent, FindItem on mail folders, UpdateItem of the read state and flags,
MoveItem, CopyItem, DeleteItem to Deleted Items, calendar items from iCalendar, and
CreateFolder/UpdateFolder/DeleteFolder. Answers are schema-checked by ``ews``."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

from simulators.exchange.mapi import PropKey
from simulators.exchange.model import CalendarItem, Message
from simulators.smtp import SinkSettings, SmtpSink
from tests.conftest import ALICE, BOB, EwsServer
from tests.simulators.ews.soap import NS, codes, distinguished, envelope, messages, shape

MIME = (
    f"From: {ALICE}\r\nTo: {BOB}\r\nSubject: Quarterly numbers\r\n"
    "Message-ID: <q1@domain.test>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
    "\r\nSee attached, well, not attached.\r\n"
).encode()
FLAGS = '<t:ExtendedFieldURI PropertyTag="0xe07" PropertyType="Integer"/>'
FLAG_STATUS = '<t:ExtendedFieldURI PropertyTag="0x1090" PropertyType="Integer"/>'


def _post(ews: EwsServer, body: str, mailbox: str = ALICE) -> bytes:
    response = ews.post(envelope(body, impersonate=mailbox))
    assert response.status_code == 200, response.text
    return response.content


def _create(ews: EwsServer, disposition: str, item: str, saved: str = "") -> bytes:
    folder = f"<m:SavedItemFolderId>{saved}</m:SavedItemFolderId>" if saved else ""
    return _post(
        ews,
        f'<m:CreateItem MessageDisposition="{disposition}">{folder}<m:Items>{item}</m:Items>'
        "</m:CreateItem>",
    )


def _mime_item(mime: bytes = MIME, extra: str = "") -> str:
    return f"<t:Message><t:MimeContent>{base64.b64encode(mime).decode()}</t:MimeContent>{extra}</t:Message>"


def _in(ews: EwsServer, mailbox: str, folder: str) -> list[Message]:
    found = ews.store.items_in(ews.store.distinguished_folder(folder, mailbox))
    return [m for m in found if isinstance(m, Message)]


def test_save_only_keeps_a_draft_that_reads_back_as_sent(ews: EwsServer) -> None:
    content = _create(ews, "SaveOnly", _mime_item())
    assert codes(content) == ["NoError"]
    item_id = messages(content)[0].find("m:Items/t:Message/t:ItemId", NS).get("Id")
    (draft,) = _in(ews, ALICE, "drafts")
    assert draft.id == item_id and draft.is_draft and draft.subject == "Quarterly numbers"
    got = _post(
        ews,
        "<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape>"
        "<t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>"
        f'<m:ItemIds><t:ItemId Id="{item_id}"/></m:ItemIds></m:GetItem>',
    )
    message = messages(got)[0].find("m:Items/t:Message", NS)
    assert base64.b64decode(message.findtext("t:MimeContent", namespaces=NS)) == MIME
    assert message.findtext("t:IsRead", namespaces=NS) == "false"
    assert message.findtext("t:ToRecipients/t:Mailbox/t:EmailAddress", namespaces=NS) == BOB


def test_send_and_save_copy_goes_through_the_sink(ews: EwsServer) -> None:
    with SmtpSink(ews.store, SinkSettings(host="127.0.0.1")) as sink:
        content = _create(
            ews,
            "SendAndSaveCopy",
            '<t:Message><t:Subject>Lunch?</t:Subject><t:Body BodyType="Text">At noon</t:Body>'
            f"<t:ToRecipients><t:Mailbox><t:EmailAddress>{BOB}</t:EmailAddress></t:Mailbox>"
            "</t:ToRecipients></t:Message>",
            distinguished("sentitems"),
        )
        (transaction,) = sink.journal.transactions()
    assert codes(content) == ["NoError"]
    assert messages(content)[0].find("m:Items/*", NS) is None  # sent: no item to name
    assert transaction.listener == "submission" and list(transaction.delivered) == [BOB]
    (received,) = _in(ews, BOB, "inbox")
    assert received.subject == "Lunch?" and b"At noon" in received.mime
    (copy,) = _in(ews, ALICE, "sentitems")
    assert copy.subject == "Lunch?" and not copy.is_draft


def test_send_only_keeps_no_copy_and_needs_recipients(ews: EwsServer) -> None:
    assert codes(_create(ews, "SendOnly", _mime_item())) == ["NoError"]
    assert [m.subject for m in _in(ews, BOB, "inbox")] == ["Quarterly numbers"]
    assert _in(ews, ALICE, "sentitems") == [] and _in(ews, ALICE, "drafts") == []
    nobody = _mime_item(b"Subject: to nobody\r\n\r\nhello\r\n")
    assert codes(_create(ews, "SendOnly", nobody)) == ["ErrorInvalidRecipients"]
    content = _post(ews, f"<m:CreateItem><m:Items>{_mime_item()}</m:Items></m:CreateItem>")
    assert codes(content) == ["ErrorMessageDispositionRequired"]


def test_find_item_lists_the_inbox_and_update_item_marks_it_read(ews: EwsServer) -> None:
    ews.store.deliver_message(ALICE, subject="Hello", sender=BOB, recipients=[ALICE], mime=MIME)
    found = _post(
        ews,
        f'<m:FindItem Traversal="Shallow">{shape("Default")}'
        f"<m:ParentFolderIds>{distinguished('inbox')}</m:ParentFolderIds></m:FindItem>",
    )
    (row,) = messages(found)[0].findall(".//t:Items/t:Message", NS)
    assert row.findtext("t:Subject", namespaces=NS) == "Hello"
    assert row.findtext("t:IsRead", namespaces=NS) == "false"
    item_id = row.find("t:ItemId", NS).get("Id")
    updated = _post(
        ews,
        '<m:UpdateItem ConflictResolution="AlwaysOverwrite" MessageDisposition="SaveOnly">'
        f'<m:ItemChanges><t:ItemChange><t:ItemId Id="{item_id}"/><t:Updates>'
        '<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true'
        f"</t:IsRead></t:Message></t:SetItemField><t:SetItemField>{FLAG_STATUS}<t:Message>"
        f"<t:ExtendedProperty>{FLAG_STATUS}<t:Value>2</t:Value></t:ExtendedProperty>"
        "</t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>",
    )
    assert codes(updated) == ["NoError"]
    (message,) = _in(ews, ALICE, "inbox")
    assert message.is_read and ews.store.get_property(message, PropKey.tagged(0x1090)) == 2
    assert ews.store.get_property(message, PropKey.tagged(0x0E07)) == 1


def test_move_copy_and_delete_to_deleted_items(ews: EwsServer) -> None:
    item = ews.store.deliver_message(
        ALICE, subject="Spam?", sender=BOB, recipients=[ALICE], mime=MIME
    )
    moved = _post(
        ews,
        f"<m:MoveItem><m:ToFolderId>{distinguished('junkemail')}</m:ToFolderId>"
        f'<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:MoveItem>',
    )
    assert codes(moved) == ["NoError"]
    assert messages(moved)[0].find("m:Items/t:Message/t:ItemId", NS).get("Id") == item.id
    assert [m.id for m in _in(ews, ALICE, "junkemail")] == [item.id]
    copied = _post(
        ews,
        f"<m:CopyItem><m:ToFolderId>{distinguished('inbox')}</m:ToFolderId>"
        f'<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:CopyItem>',
    )
    twin_id = messages(copied)[0].find("m:Items/t:Message/t:ItemId", NS).get("Id")
    assert twin_id != item.id and [m.id for m in _in(ews, ALICE, "inbox")] == [twin_id]
    deleted = _post(
        ews,
        '<m:DeleteItem DeleteType="MoveToDeletedItems">'
        f'<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:DeleteItem>',
    )
    assert codes(deleted) == ["NoError"]
    assert [m.id for m in _in(ews, ALICE, "deleteditems")] == [item.id]
    occurrence = ews.store.calendar_view(
        ews.store.distinguished_folder("calendar", ALICE),
        datetime(2026, 3, 16, tzinfo=UTC),
        datetime(2026, 3, 17, tzinfo=UTC),
    )[0]
    refused = _post(
        ews,
        f"<m:MoveItem><m:ToFolderId>{distinguished('inbox')}</m:ToFolderId>"
        f'<m:ItemIds><t:ItemId Id="{occurrence.id}"/></m:ItemIds></m:MoveItem>',
    )
    assert codes(refused) == ["ErrorCalendarCannotMoveOrCopyOccurrence"]


ICAL = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:ews-ical-1\r\nSUMMARY:Stand-up\r\n"
    "DTSTART;TZID=Europe/Berlin:20260316T091500\r\nDTEND;TZID=Europe/Berlin:20260316T093000\r\n"
    "RRULE:FREQ=DAILY;COUNT=5\r\nEXDATE;TZID=Europe/Berlin:20260318T091500\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_calendar_items_come_and_go_as_icalendar_mime_content(ews: EwsServer) -> None:
    content = _post(
        ews,
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>'
        f"<t:MimeContent>{base64.b64encode(ICAL.encode()).decode()}</t:MimeContent>"
        "</t:CalendarItem></m:Items></m:CreateItem>",
    )
    assert codes(content) == ["NoError"]
    item = ews.store.item(messages(content)[0].find(".//t:ItemId", NS).get("Id"))
    assert (
        isinstance(item, CalendarItem) and item.subject == "Stand-up" and item.uid == "ews-ical-1"
    )
    assert item.recurrence is not None and item.deleted == {date(2026, 3, 18)}
    got = _post(
        ews,
        "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
        "<t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>"
        f'<m:ItemIds><t:ItemId Id="{item.id}"/></m:ItemIds></m:GetItem>',
    )
    ical = base64.b64decode(messages(got)[0].findtext(".//t:MimeContent", namespaces=NS)).decode()
    assert ical.startswith("BEGIN:VCALENDAR") and "RRULE:FREQ=DAILY" in ical
    assert "EXDATE;TZID=Europe/Berlin:20260318T091500" in ical


def test_a_calendar_item_with_only_a_meeting_time_zone_gets_default_times(
    ews: EwsServer,
) -> None:
    content = _post(
        ews,
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>'
        '<t:MeetingTimeZone TimeZoneName="W. Europe Standard Time"/></t:CalendarItem>'
        "</m:Items></m:CreateItem>",
    )
    assert codes(content) == ["NoError"]
    item = ews.store.item(messages(content)[0].find(".//t:ItemId", NS).get("Id"))
    assert isinstance(item, CalendarItem) and item.time_zone == "Europe/Berlin"
    assert item.end - item.start == (datetime(2026, 1, 1, 0, 30) - datetime(2026, 1, 1))


def test_folders_are_created_renamed_and_deleted(ews: EwsServer) -> None:
    created = _post(
        ews,
        f"<m:CreateFolder><m:ParentFolderId>{distinguished('msgfolderroot')}</m:ParentFolderId>"
        "<m:Folders><t:Folder><t:FolderClass>IPF.Appointment</t:FolderClass>"
        "<t:DisplayName>davmailtemp</t:DisplayName></t:Folder></m:Folders></m:CreateFolder>",
    )
    assert codes(created) == ["NoError"]
    folder_id = messages(created)[0].find("m:Folders/t:Folder/t:FolderId", NS).get("Id")
    folder = ews.store.folder(folder_id)
    assert (folder.display_name, folder.kind, folder.mailbox) == ("davmailtemp", "calendar", ALICE)
    again = _post(
        ews,
        f"<m:CreateFolder><m:ParentFolderId>{distinguished('msgfolderroot')}</m:ParentFolderId>"
        "<m:Folders><t:Folder><t:DisplayName>DavMailTemp</t:DisplayName></t:Folder></m:Folders>"
        "</m:CreateFolder>",
    )
    assert codes(again) == ["ErrorFolderExists"]
    renamed = _post(
        ews,
        f'<m:UpdateFolder><m:FolderChanges><t:FolderChange><t:FolderId Id="{folder_id}"/>'
        '<t:Updates><t:SetFolderField><t:FieldURI FieldURI="folder:DisplayName"/><t:Folder>'
        "<t:DisplayName>Projects</t:DisplayName></t:Folder></t:SetFolderField></t:Updates>"
        "</t:FolderChange></m:FolderChanges></m:UpdateFolder>",
    )
    assert codes(renamed) == ["NoError"] and folder.display_name == "Projects"
    deleted = _post(
        ews,
        f'<m:DeleteFolder DeleteType="HardDelete"><m:FolderIds><t:FolderId Id="{folder_id}"/>'
        f"{distinguished('inbox')}</m:FolderIds></m:DeleteFolder>",
    )
    assert codes(deleted) == ["NoError", "ErrorDeleteDistinguishedFolder"]
    assert folder_id not in ews.store.folders
