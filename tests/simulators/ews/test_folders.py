"""GetFolder and FindFolder over raw SOAP."""

from __future__ import annotations

from simulators.exchange.seed import ServiceAccount
from tests.conftest import ALICE, CAROL, SERVICE_PASSWORD, SERVICE_USER, EwsServer, default_seed
from tests.simulators.ews.soap import NS, codes, distinguished, envelope, messages, shape, texts


def _get_folder(ews: EwsServer, ids: str, base: str = "AllProperties", **kw: str) -> bytes:
    body = f"<m:GetFolder>{shape(base, tag='m:FolderShape')}<m:FolderIds>{ids}</m:FolderIds></m:GetFolder>"
    response = ews.post(envelope(body, **kw))
    assert response.status_code == 200, response.text
    return response.content


def test_distinguished_folders_of_a_mailbox(ews: EwsServer) -> None:
    names = ("root", "msgfolderroot", "calendar", "contacts", "inbox")
    content = _get_folder(ews, "".join(distinguished(n, ALICE) for n in names))

    found = [
        (f.tag.rpartition("}")[2], f.findtext("t:DisplayName", namespaces=NS))
        for m in messages(content)
        for f in m.find("m:Folders", NS)
    ]
    assert found == [
        ("Folder", "Root"),
        ("Folder", "Top of Information Store"),
        ("CalendarFolder", "Calendar"),
        ("ContactsFolder", "Contacts"),
        ("Folder", "Inbox"),
    ]
    calendar = messages(content)[2].find("m:Folders/t:CalendarFolder", NS)
    assert calendar.findtext("t:FolderClass", namespaces=NS) == "IPF.Appointment"
    assert calendar.findtext("t:TotalCount", namespaces=NS) == "2"
    assert calendar.find("t:UnreadCount", NS) is None  # not in CalendarFolderType (2007)


def test_folder_names_follow_the_mailbox_language(ews: EwsServer) -> None:
    body = f"<m:GetFolder>{shape('Default', tag='m:FolderShape')}<m:FolderIds>{distinguished('calendar')}</m:FolderIds></m:GetFolder>"
    # Carol reads her own (German) mailbox; the service account may not (denied).
    own = ews.post(envelope(body), auth=(CAROL, "secret"))
    assert texts(messages(own.content)[0], ".//t:DisplayName") == ["Kalender"]
    assert codes(_get_folder(ews, distinguished("calendar", CAROL))) == ["ErrorAccessDenied"]


def test_impersonated_mailbox_is_the_default_and_folder_ids_resolve(ews: EwsServer) -> None:
    content = _get_folder(ews, distinguished("calendar"), impersonate=ALICE)
    folder_id = messages(content)[0].find(".//t:FolderId", NS).get("Id")
    assert folder_id == ews.store.distinguished_folder("calendar", ALICE).id

    again = _get_folder(ews, f'<t:FolderId Id="{folder_id}"/>', base="IdOnly", impersonate=ALICE)
    folder = messages(again)[0].find("m:Folders/t:CalendarFolder", NS)
    assert [c.tag.rpartition("}")[2] for c in folder] == ["FolderId"]


def test_public_folders_root_and_default_shape(ews: EwsServer) -> None:
    content = _get_folder(ews, distinguished("publicfoldersroot"), base="Default")
    folder = messages(content)[0].find("m:Folders/t:Folder", NS)
    assert [c.tag.rpartition("}")[2] for c in folder] == [
        "FolderId",
        "DisplayName",
        "TotalCount",
        "ChildFolderCount",
        "UnreadCount",
    ]
    assert folder.findtext("t:ChildFolderCount", namespaces=NS) == "2"


def test_a_mailbox_without_its_address_needs_one(ews: EwsServer) -> None:
    # The service account has no mailbox of its own.
    assert codes(_get_folder(ews, distinguished("calendar"))) == ["ErrorMissingEmailAddress"]


def test_unknown_mailbox_is_a_per_message_error_naming_the_address(ews: EwsServer) -> None:
    content = _get_folder(ews, distinguished("calendar", "ghost@w03ex07.net"))
    message = messages(content)[0]
    assert message.get("ResponseClass") == "Error"
    assert [c.tag.rpartition("}")[2] for c in message] == [
        "MessageText",
        "ResponseCode",
        "DescriptiveLinkKey",
        "MessageXml",
    ]
    assert message.findtext("m:ResponseCode", namespaces=NS) == "ErrorNonExistentMailbox"
    value = message.find("m:MessageXml/t:Value", NS)
    assert (value.get("Name"), value.text) == ("SmtpAddress", "ghost@w03ex07.net")


def test_other_mailbox_needs_full_access(ews: EwsServer) -> None:
    bob = ("bob@w03ex07.net", "bobpw")
    body = f"<m:GetFolder>{shape('IdOnly', tag='m:FolderShape')}<m:FolderIds>{distinguished('calendar', ALICE)}{distinguished('calendar', 'bob@w03ex07.net')}</m:FolderIds></m:GetFolder>"
    response = ews.post(envelope(body), auth=bob)
    assert codes(response.content) == ["ErrorAccessDenied", "NoError"]

    seed = default_seed()
    seed.service_account = ServiceAccount(SERVICE_USER, SERVICE_PASSWORD, full_access=False)
    ews.seed(seed)
    assert codes(ews.post(envelope(body)).content) == ["ErrorAccessDenied", "ErrorAccessDenied"]


def _find_folder(ews: EwsServer, parent: str, traversal: str = "Shallow", view: str = "") -> bytes:
    body = (
        f'<m:FindFolder Traversal="{traversal}">{shape("Default", tag="m:FolderShape")}{view}'
        f"<m:ParentFolderIds>{parent}</m:ParentFolderIds></m:FindFolder>"
    )
    response = ews.post(envelope(body, impersonate=ALICE))
    assert response.status_code == 200
    return response.content


def test_find_folder_shallow_on_public_folders(ews: EwsServer) -> None:
    message = messages(_find_folder(ews, distinguished("publicfoldersroot")))[0]
    root = message.find("m:RootFolder", NS)
    assert (root.get("TotalItemsInView"), root.get("IncludesLastItemInRange")) == ("2", "true")
    assert [f.tag.rpartition("}")[2] for f in root.find("t:Folders", NS)] == [
        "ContactsFolder",
        "ContactsFolder",
    ]
    assert texts(root, "t:Folders/*/t:DisplayName") == ["Customers", "Suppliers"]


def test_find_folder_deep_on_public_folders_is_refused(ews: EwsServer) -> None:
    content = _find_folder(ews, distinguished("publicfoldersroot"), traversal="Deep")
    message = messages(content)[0]
    assert codes(content) == ["ErrorInvalidOperation"]
    assert message.findtext("m:MessageText", namespaces=NS) == (
        "Deep traversal queries cannot be performed on public folders."
    )


def test_find_folder_deep_in_a_mailbox_and_paging(ews: EwsServer) -> None:
    deep = messages(_find_folder(ews, distinguished("root"), traversal="Deep"))[0]
    # Every default folder of a 2007 mailbox: 11 in the Top of Information Store (and
    # itself), the search folders root and Voice Mail outside it.
    assert len(texts(deep, "m:RootFolder/t:Folders/*/t:DisplayName")) == 14
    paged = messages(
        _find_folder(
            ews,
            distinguished("msgfolderroot"),
            view='<m:IndexedPageFolderView MaxEntriesReturned="2" Offset="1" BasePoint="Beginning"/>',
        )
    )[0]
    root = paged.find("m:RootFolder", NS)
    assert (
        root.get("IndexedPagingOffset"),
        root.get("TotalItemsInView"),
        root.get("IncludesLastItemInRange"),
    ) == ("3", "11", "false")
    assert texts(root, "t:Folders/*/t:DisplayName") == ["Contacts", "Inbox"]
