"""MoveItem and CopyItem: items into another folder (the caller's rights checked on
both folders).

A moved item keeps its id, a copy gets a new one; each response message names the
item in its new place, as Exchange 2007 SP1 answers within a mailbox. Occurrences
cannot be moved or copied (ErrorCalendarCannotMoveOrCopyOccurrence).
"""

from __future__ import annotations

from lxml import etree

from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import ResponseError, error_message, success_message
from simulators.exchange.ews.kinds import kind_and_view
from simulators.exchange.ews.xmlkit import Element, Sequence_, m, new_element, t
from simulators.exchange.store import StoreError

SubElement = etree.SubElement

MOVE_COPY = Sequence_(("m:ToFolderId", 1, 1), ("m:ItemIds", 1, 1))
TO_FOLDER = Sequence_(("t:FolderId|t:DistinguishedFolderId", 1, 1))
ITEM_IDS = Sequence_(("t:ItemId|t:OccurrenceItemId|t:RecurringMasterItemId", 1, -1))


def _children(element: Element) -> list[Element]:
    return [c for c in element if isinstance(c.tag, str)]


def _move_or_copy(call: EwsCall, request: Element, operation: str) -> Element:
    kids = MOVE_COPY.read(request)
    to_folder = kids.one("m:ToFolderId")
    TO_FOLDER.read(to_folder)
    ids = kids.one("m:ItemIds")
    ITEM_IDS.read(ids)
    tag = f"{operation}ItemResponseMessage"
    responses = new_element(m("ResponseMessages"))
    try:
        folder = call.folder(_children(to_folder)[0])
    except ResponseError as exc:
        for _ in _children(ids):
            responses.append(error_message(tag, exc, ("Items",)))
        return responses
    for id_el in _children(ids):
        try:
            item = call.item(id_el)
            if operation == "Move":
                placed = call.store.move_item(item.id, folder)
            else:
                placed = call.store.copy_item(item.id, folder)
        except ResponseError as exc:
            responses.append(error_message(tag, exc, ("Items",)))
            continue
        except StoreError as exc:
            responses.append(error_message(tag, ResponseError.from_store(exc), ("Items",)))
            continue
        message = success_message(tag)
        kind = kind_and_view(call.store, placed)[0]  # type: ignore[arg-type]
        node = SubElement(SubElement(message, m("Items")), t(kind.name))
        SubElement(node, t("ItemId"), Id=placed.id, ChangeKey=placed.change_key)
        responses.append(message)
    return responses


def move_item(call: EwsCall, request: Element) -> Element:
    return _move_or_copy(call, request, "Move")


def copy_item(call: EwsCall, request: Element) -> Element:
    return _move_or_copy(call, request, "Copy")


__all__ = ["copy_item", "move_item"]
