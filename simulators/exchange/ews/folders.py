"""GetFolder and FindFolder, and folders in EWS 2007 shape.

A folder is written as t:CalendarFolder, t:ContactsFolder, t:TasksFolder or
t:Folder by its class, children in t:BaseFolderType order (UnreadCount only
where the 2007 schema has it). Public folders answer only Shallow traversal:
Deep is ErrorInvalidOperation, as on a real 2007 public folder store.
"""

from __future__ import annotations

from lxml import etree

from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import ResponseError, error_message, success_message
from simulators.exchange.ews.extended import ExtendedPath, property_text
from simulators.exchange.ews.finditem import FOLDER_IDS, page_rows, read_paging
from simulators.exchange.ews.itemxml import FOLDER_CHANGE_KEY
from simulators.exchange.ews.restrictions import compile_restriction
from simulators.exchange.ews.shapes import Shape, read_shape
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    T,
    attr_enum,
    fmt_bool,
    m,
    new_element,
    t,
)
from simulators.exchange.model import Folder, Message
from simulators.exchange.store import ExchangeStore, StoreError

SubElement = etree.SubElement

GET_FOLDER = Sequence_(("m:FolderShape", 1, 1), ("m:FolderIds", 1, 1))
FIND_FOLDER = Sequence_(
    ("m:FolderShape", 1, 1),
    ("m:IndexedPageFolderView|m:FractionalPageFolderView", 0, 1),
    ("m:Restriction", 0, 1),
    ("m:ParentFolderIds", 1, 1),
)
ELEMENT_BY_CLASS = {
    "IPF.Appointment": "CalendarFolder",
    "IPF.Contact": "ContactsFolder",
    "IPF.Task": "TasksFolder",
}
ALL_FOLDER_FIELDS = frozenset(
    {
        "folder:FolderId",
        "folder:ParentFolderId",
        "folder:FolderClass",
        "folder:DisplayName",
        "folder:TotalCount",
        "folder:ChildFolderCount",
        "folder:EffectiveRights",
        "folder:UnreadCount",
    }
)
DEFAULT_FOLDER_FIELDS = frozenset(
    {
        "folder:FolderId",
        "folder:DisplayName",
        "folder:TotalCount",
        "folder:ChildFolderCount",
        "folder:UnreadCount",
    }
)


def _wanted(shape: Shape) -> frozenset[str]:
    if shape.base == "IdOnly":
        return frozenset({"folder:FolderId"}) | shape.fields
    if shape.base == "Default":
        return DEFAULT_FOLDER_FIELDS | shape.fields
    return ALL_FOLDER_FIELDS | shape.fields


def write_folder(
    parent: Element,
    store: ExchangeStore,
    folder: Folder,
    wanted: frozenset[str],
    extended: tuple[ExtendedPath, ...] = (),
) -> None:
    element = ELEMENT_BY_CLASS.get(folder.folder_class, "Folder")
    node = SubElement(parent, t(element))
    if "folder:FolderId" in wanted:
        SubElement(node, t("FolderId"), Id=folder.id, ChangeKey=FOLDER_CHANGE_KEY)
    if "folder:ParentFolderId" in wanted and folder.parent_id:
        SubElement(node, t("ParentFolderId"), Id=folder.parent_id, ChangeKey=FOLDER_CHANGE_KEY)
    if "folder:FolderClass" in wanted and folder.folder_class:
        SubElement(node, t("FolderClass")).text = folder.folder_class
    if "folder:DisplayName" in wanted:
        SubElement(node, t("DisplayName")).text = folder.display_name
    if "folder:TotalCount" in wanted:
        SubElement(node, t("TotalCount")).text = str(len(folder.item_ids))
    if "folder:ChildFolderCount" in wanted:
        SubElement(node, t("ChildFolderCount")).text = str(len(folder.child_ids))
    for path in extended:
        value = store.get_property(folder, path.key, path.type)
        if value is not None:
            node.append(
                etree.fromstring(f'<wrap xmlns:t="{T}">{property_text(path, value)}</wrap>')[0]
            )
    if "folder:EffectiveRights" in wanted:
        rights = SubElement(node, t("EffectiveRights"))
        public = folder.mailbox is None
        for name in ("CreateAssociated", "CreateContents", "CreateHierarchy", "Delete", "Modify"):
            SubElement(rights, t(name)).text = fmt_bool(not public or name == "CreateContents")
        SubElement(rights, t("Read")).text = "true"
    if "folder:UnreadCount" in wanted and element == "Folder":
        unread = sum(
            1 for item in store.items_in(folder) if isinstance(item, Message) and not item.is_read
        )
        SubElement(node, t("UnreadCount")).text = str(unread)


def get_folder(call: EwsCall, request: Element) -> Element:
    kids = GET_FOLDER.read(request)
    shape = read_shape(kids.one("m:FolderShape"), folder=True)
    wanted = _wanted(shape)
    ids = kids.one("m:FolderIds")
    FOLDER_IDS.read(ids)
    messages = new_element(m("ResponseMessages"))
    for id_el in ids:
        if not isinstance(id_el.tag, str):
            continue
        try:
            folder = call.folder(id_el)
        except ResponseError as exc:
            messages.append(error_message("GetFolderResponseMessage", exc))
            continue
        message = success_message("GetFolderResponseMessage")
        write_folder(SubElement(message, m("Folders")), call.store, folder, wanted, shape.extended)
        messages.append(message)
    return messages


def _descendants(store: ExchangeStore, folder: Folder) -> list[Folder]:
    found: list[Folder] = []
    for child in store.children(folder):
        found.append(child)
        found.extend(_descendants(store, child))
    return found


def find_folder(call: EwsCall, request: Element) -> Element:
    kids = FIND_FOLDER.read(request)
    traversal = attr_enum(
        request,
        "Traversal",
        ("Shallow", "Deep", "SoftDeleted"),
        "FolderQueryTraversalType",
        required=True,
    )
    shape = read_shape(kids.one("m:FolderShape"), folder=True)
    wanted = _wanted(shape)
    paging = read_paging(kids.first_of("m:IndexedPageFolderView", "m:FractionalPageFolderView"))
    restriction = kids.opt("m:Restriction")
    parents = kids.one("m:ParentFolderIds")
    FOLDER_IDS.read(parents)
    messages = new_element(m("ResponseMessages"))
    for parent_id in parents:
        if not isinstance(parent_id.tag, str):
            continue
        try:
            folder = call.folder(parent_id)
            if traversal == "Deep" and folder.mailbox is None:
                raise ResponseError(
                    "ErrorInvalidOperation",
                    "Deep traversal queries cannot be performed on public folders.",
                )
            if traversal == "Shallow":
                rows = call.store.children(folder)
            elif traversal == "Deep":
                rows = _descendants(call.store, folder)
            else:
                rows = []
            if restriction is not None:
                predicate = compile_restriction(restriction, call.store)
                rows = [row for row in rows if predicate(row)]
            page, attributes = page_rows(rows, paging)
        except ResponseError as exc:
            messages.append(error_message("FindFolderResponseMessage", exc))
            continue
        except StoreError as exc:
            messages.append(
                error_message("FindFolderResponseMessage", ResponseError.from_store(exc))
            )
            continue
        message = success_message("FindFolderResponseMessage")
        root = SubElement(message, m("RootFolder"), attributes)
        found = SubElement(root, t("Folders"))
        for child in page:
            write_folder(found, call.store, child, wanted, shape.extended)
        messages.append(message)
    return messages
