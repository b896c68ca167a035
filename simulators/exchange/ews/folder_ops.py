"""CreateFolder, DeleteFolder, UpdateFolder and MoveFolder: the folders a client makes.

A new folder takes its class from FolderClass (or the element: CalendarFolder is
IPF.Appointment, ContactsFolder IPF.Contact, TasksFolder IPF.Task) and may carry
extended properties; a sibling with the same name is ErrorFolderExists. Default
(distinguished) folders cannot be deleted or moved. UpdateFolder sets DisplayName,
FolderClass and extended properties.
"""

from __future__ import annotations

from lxml import etree

from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import ResponseError, error_message, success_message
from simulators.exchange.ews.extended import (
    EXTENDED_FIELD_URI,
    EXTENDED_PROPERTY,
    read_extended_property,
)
from simulators.exchange.ews.finditem import FOLDER_IDS
from simulators.exchange.ews.itemxml import FOLDER_CHANGE_KEY
from simulators.exchange.ews.shapes import read_path
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    attr_enum,
    local,
    m,
    new_element,
    qname,
    t,
    text,
)
from simulators.exchange.model import Folder
from simulators.exchange.store import StoreError

SubElement = etree.SubElement

FOLDER_ELEMENTS = "t:Folder|t:CalendarFolder|t:ContactsFolder|t:SearchFolder|t:TasksFolder"
CREATE_FOLDER = Sequence_(("m:ParentFolderId", 1, 1), ("m:Folders", 1, 1))
TARGET = Sequence_(("t:FolderId|t:DistinguishedFolderId", 1, 1))
NEW_FOLDERS = Sequence_((FOLDER_ELEMENTS, 1, -1))
NEW_FOLDER = Sequence_(
    ("t:FolderId", 0, 1),
    ("t:ParentFolderId", 0, 1),
    ("t:FolderClass", 0, 1),
    ("t:DisplayName", 0, 1),
    ("t:TotalCount", 0, 1),
    ("t:ChildFolderCount", 0, 1),
    ("t:ExtendedProperty", 0, -1),
    lenient=True,
)
DELETE_FOLDER = Sequence_(("m:FolderIds", 1, 1))
UPDATE_FOLDER = Sequence_(("m:FolderChanges", 1, 1))
FOLDER_CHANGES = Sequence_(("t:FolderChange", 1, -1))
FOLDER_CHANGE = Sequence_(("t:FolderId|t:DistinguishedFolderId", 1, 1), ("t:Updates", 1, 1))
MOVE_FOLDER = Sequence_(("m:ToFolderId", 1, 1), ("m:FolderIds", 1, 1))
DEFAULT_CLASS = {
    "CalendarFolder": "IPF.Appointment",
    "ContactsFolder": "IPF.Contact",
    "TasksFolder": "IPF.Task",
    "Folder": "IPF.Note",
    "SearchFolder": "IPF.Note",
}
DISPOSALS = ("HardDelete", "SoftDelete", "MoveToDeletedItems")


def _children(element: Element) -> list[Element]:
    return [c for c in element if isinstance(c.tag, str)]


def _folder_answer(message: Element, folder: Folder) -> None:
    node = SubElement(SubElement(message, m("Folders")), t("Folder"))
    SubElement(node, t("FolderId"), Id=folder.id, ChangeKey=FOLDER_CHANGE_KEY)


def _store_failure(tag: str, exc: StoreError) -> Element:
    return error_message(tag, ResponseError.from_store(exc), ("Folders",))


def create_folder(call: EwsCall, request: Element) -> Element:
    kids = CREATE_FOLDER.read(request)
    parent_el = kids.one("m:ParentFolderId")
    TARGET.read(parent_el)
    folders = kids.one("m:Folders")
    NEW_FOLDERS.read(folders)
    responses = new_element(m("ResponseMessages"))
    tag = "CreateFolderResponseMessage"
    for spec in _children(folders):
        try:
            parent = call.folder(_children(parent_el)[0])
            parts = NEW_FOLDER.read(spec)
            name_el, class_el = parts.opt("t:DisplayName"), parts.opt("t:FolderClass")
            name = text(name_el).strip() if name_el is not None else ""
            folder_class = (
                text(class_el).strip() if class_el is not None else DEFAULT_CLASS[local(spec.tag)]
            )
            extended = [read_extended_property(e) for e in parts.all("t:ExtendedProperty")]
            with call.store._lock:
                folder = call.store.create_folder(parent, name, folder_class)
                if extended:
                    call.store.set_properties(folder, [(p.key, p.type, v) for p, v in extended])
        except ResponseError as exc:
            responses.append(error_message(tag, exc, ("Folders",)))
            continue
        except StoreError as exc:
            responses.append(_store_failure(tag, exc))
            continue
        message = success_message(tag)
        _folder_answer(message, folder)
        responses.append(message)
    return responses


def delete_folder(call: EwsCall, request: Element) -> Element:
    kids = DELETE_FOLDER.read(request)
    delete_type = attr_enum(request, "DeleteType", DISPOSALS, "DisposalType", required=True)
    ids = kids.one("m:FolderIds")
    FOLDER_IDS.read(ids)
    responses = new_element(m("ResponseMessages"))
    for id_el in _children(ids):
        try:
            call.store.delete_folder(call.folder(id_el), delete_type)  # type: ignore[arg-type]
        except ResponseError as exc:
            responses.append(error_message("DeleteFolderResponseMessage", exc))
            continue
        except StoreError as exc:
            error = ResponseError.from_store(exc)
            responses.append(error_message("DeleteFolderResponseMessage", error))
            continue
        responses.append(success_message("DeleteFolderResponseMessage"))
    return responses


def _folder_update(call: EwsCall, folder: Folder, update: Element) -> None:
    verb = local(update.tag)
    path_el, *rest = _children(update)
    if path_el.tag == EXTENDED_FIELD_URI:
        ext = read_path(path_el).ext
        assert ext is not None
        if verb == "DeleteFolderField":
            call.store.remove_properties(folder, [ext.key])
            return
        values = [e for e in rest[0].iter(EXTENDED_PROPERTY)] if rest else []
        if len(values) != 1:
            raise ResponseError("ErrorIncorrectUpdatePropertyCount")
        path, value = read_extended_property(values[0])
        call.store.set_properties(folder, [(path.key, path.type, value)])
        return
    uri = read_path(path_el).uri
    if verb != "SetFolderField" or uri not in ("folder:DisplayName", "folder:FolderClass"):
        raise ResponseError("ErrorInvalidPropertySet")
    element = "DisplayName" if uri == "folder:DisplayName" else "FolderClass"
    found = rest[0].find(qname(f"t:{element}")) if rest else None
    if found is None:
        raise ResponseError("ErrorUpdatePropertyMismatch")
    value = text(found).strip()
    if element == "DisplayName":
        if not value:
            raise ResponseError("ErrorFolderSavePropertyError", "The folder name is empty.")
        parent = call.store.folders.get(folder.parent_id or "")
        siblings = call.store.children(parent) if parent is not None else []
        if any(f.display_name.lower() == value.lower() and f.id != folder.id for f in siblings):
            raise ResponseError(
                "ErrorFolderExists", "A folder with the specified name already exists."
            )
        if folder.distinguished:
            raise ResponseError("ErrorInvalidOperation", "Default folders cannot be renamed.")
        folder.display_name = value
    else:
        folder.folder_class = value


def update_folder(call: EwsCall, request: Element) -> Element:
    kids = UPDATE_FOLDER.read(request)
    changes = kids.one("m:FolderChanges")
    FOLDER_CHANGES.read(changes)
    responses = new_element(m("ResponseMessages"))
    tag = "UpdateFolderResponseMessage"
    for change in _children(changes):
        try:
            FOLDER_CHANGE.read(change)
            id_el, updates = _children(change)
            folder = call.folder(id_el)
            with call.store._lock:
                for update in _children(updates):
                    _folder_update(call, folder, update)
        except ResponseError as exc:
            responses.append(error_message(tag, exc, ("Folders",)))
            continue
        except StoreError as exc:
            responses.append(_store_failure(tag, exc))
            continue
        message = success_message(tag)
        _folder_answer(message, folder)
        responses.append(message)
    return responses


def move_folder(call: EwsCall, request: Element) -> Element:
    kids = MOVE_FOLDER.read(request)
    to_el = kids.one("m:ToFolderId")
    TARGET.read(to_el)
    ids = kids.one("m:FolderIds")
    FOLDER_IDS.read(ids)
    responses = new_element(m("ResponseMessages"))
    tag = "MoveFolderResponseMessage"
    for id_el in _children(ids):
        try:
            target = call.folder(_children(to_el)[0])
            moved = call.store.move_folder(call.folder(id_el), target)
        except ResponseError as exc:
            responses.append(error_message(tag, exc, ("Folders",)))
            continue
        except StoreError as exc:
            responses.append(_store_failure(tag, exc))
            continue
        message = success_message(tag)
        _folder_answer(message, moved)
        responses.append(message)
    return responses


__all__ = ["create_folder", "delete_folder", "move_folder", "update_folder"]
