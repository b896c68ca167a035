"""FindItem: CalendarView (expanded occurrences) and the paged views (no expansion).

A CalendarView returns singles, occurrences and exceptions overlapping the range,
never masters; more than MaxEntriesReturned rows gives the first N and
IncludesLastItemInRange="false"; a range over two years is
ErrorCalendarViewRangeTooBig. Without a CalendarView nothing is expanded: singles
and recurring masters only (why clients that skip CalendarView miss meetings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from lxml import etree

from simulators.exchange.ews.calendar import CALENDAR, view_of
from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import ResponseError, error_message
from simulators.exchange.ews.itemxml import Out, RawXml, element_text, write_items
from simulators.exchange.ews.kinds import kind_and_view
from simulators.exchange.ews.restrictions import (
    Getter,
    Predicate,
    compile_restriction,
    compile_sort,
    sort_rows,
)
from simulators.exchange.ews.shapes import Shape, read_shape
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    attr,
    attr_datetime,
    attr_enum,
    attr_int,
    attr_required_int,
    fmt_bool,
    local,
)
from simulators.exchange.model import Folder
from simulators.exchange.store import StoreError

SubElement = etree.SubElement

FIND_ITEM = Sequence_(
    ("m:ItemShape", 1, 1),
    ("m:IndexedPageItemView|m:FractionalPageItemView|m:CalendarView|m:ContactsView", 0, 1),
    ("m:GroupBy|m:DistinguishedGroupBy", 0, 1),
    ("m:Restriction", 0, 1),
    ("m:SortOrder", 0, 1),
    ("m:ParentFolderIds", 1, 1),
)
FOLDER_IDS = Sequence_(("t:FolderId|t:DistinguishedFolderId", 1, -1))
CALENDAR_VIEW_LIMIT = relativedelta(years=2)
_TWO_YEARS_AT_LEAST, _TWO_YEARS_AT_MOST = timedelta(days=730), timedelta(days=731)


@dataclass
class Paging:
    """The view element of a FindItem request, read and checked up front."""

    kind: str  # "none", "IndexedPageItemView", "FractionalPageItemView", "CalendarView", ...
    max_entries: int | None = None
    offset: int = 0
    from_end: bool = False
    numerator: int = 0
    denominator: int = 1
    start: datetime | None = None
    end: datetime | None = None
    initial_name: str | None = None
    final_name: str | None = None


def read_paging(view: Element | None) -> Paging:
    if view is None:
        return Paging("none")
    kind = local(view.tag).replace("PageFolderView", "PageItemView")
    paging = Paging(kind, max_entries=attr_int(view, "MaxEntriesReturned"))
    if kind == "IndexedPageItemView":
        paging.offset = attr_required_int(view, "Offset")
        base = attr_enum(
            view, "BasePoint", ("Beginning", "End"), "IndexBasePointType", required=True
        )
        paging.from_end = base == "End"
    elif kind == "FractionalPageItemView":
        paging.numerator = attr_required_int(view, "Numerator")
        paging.denominator = attr_required_int(view, "Denominator")
    elif kind == "CalendarView":
        paging.start = attr_datetime(view, "StartDate")
        paging.end = attr_datetime(view, "EndDate")
    else:
        paging.initial_name = attr(view, "InitialName")
        paging.final_name = attr(view, "FinalName")
    return paging


def calendar_rows(call: EwsCall, folder: Folder, paging: Paging, filtered: bool) -> list[Any]:
    """The CalendarView rows of ``folder`` (occurrences expanded), the view checked."""
    assert paging.start is not None and paging.end is not None
    if filtered:
        raise ResponseError("ErrorInvalidRestriction")
    if paging.end < paging.start:
        raise ResponseError("ErrorCalendarEndDateIsEarlierThanStartDate")
    span = paging.end - paging.start
    # Two years are 730 or 731 days: only a span in between needs the calendar sum.
    if span > _TWO_YEARS_AT_LEAST and (
        span > _TWO_YEARS_AT_MOST or paging.end > paging.start + CALENDAR_VIEW_LIMIT
    ):
        raise ResponseError("ErrorCalendarViewRangeTooBig")
    if folder.folder_class != "IPF.Appointment":
        raise ResponseError("ErrorCalendarFolderIsInvalidForCalendarView")
    return [view_of(row) for row in call.store.calendar_view(folder, paging.start, paging.end)]


def page_rows(rows: list[Any], paging: Paging) -> tuple[list[Any], dict[str, str]]:
    """The returned slice and the RootFolder paging attributes."""
    total = len(rows)
    limit = paging.max_entries
    if limit is not None and limit <= 0:
        raise ResponseError("ErrorInvalidPagingMaxRows")
    if paging.kind == "IndexedPageItemView":
        if paging.offset < 0:
            raise ResponseError(
                "ErrorInvalidIndexedPagingParameters", "The indexed paging parameters are invalid."
            )
        if paging.from_end:
            stop = max(total - paging.offset, 0)
            begin = max(stop - limit, 0) if limit is not None else 0
            page = rows[begin:stop]
            next_offset = paging.offset + len(page)
            last = begin == 0
        else:
            stop = total if limit is None else min(total, paging.offset + limit)
            page = rows[paging.offset : stop]
            next_offset = paging.offset + len(page)
            last = next_offset >= total
        return page, {
            "IndexedPagingOffset": str(next_offset),
            "TotalItemsInView": str(total),
            "IncludesLastItemInRange": fmt_bool(last),
        }
    if paging.kind == "FractionalPageItemView":
        if paging.denominator <= 0 or not 0 <= paging.numerator <= paging.denominator:
            raise ResponseError(
                "ErrorInvalidFractionalPagingParameters",
                "The fractional paging parameters are invalid.",
            )
        begin = total * paging.numerator // paging.denominator
        stop = total if limit is None else min(total, begin + limit)
        return rows[begin:stop], {
            "NumeratorOffset": str(stop),
            "AbsoluteDenominator": str(total),
            "TotalItemsInView": str(total),
            "IncludesLastItemInRange": fmt_bool(stop >= total),
        }
    page = rows if limit is None else rows[:limit]
    return page, {
        "TotalItemsInView": str(total),
        "IncludesLastItemInRange": fmt_bool(len(page) == total),
    }


def _stored_rows(call: EwsCall, folder: Folder, paging: Paging) -> list[Any]:
    rows = [kind_and_view(call.store, item) for item in call.store.items_in(folder)]
    if paging.kind == "ContactsView":
        low, high = (paging.initial_name or "").casefold(), (paging.final_name or "").casefold()
        rows = [
            (kind, v)
            for kind, v in rows
            if (not low or v.subject.casefold() >= low)
            and (not high or v.subject.casefold() <= high)
        ]
    return rows


def find_item(call: EwsCall, request: Element) -> RawXml:
    kids = FIND_ITEM.read(request)
    traversal = attr_enum(
        request, "Traversal", ("Shallow", "SoftDeleted"), "ItemQueryTraversalType", required=True
    )
    shape = read_shape(kids.one("m:ItemShape"))
    paging = read_paging(
        kids.first_of(
            "m:IndexedPageItemView",
            "m:FractionalPageItemView",
            "m:CalendarView",
            "m:ContactsView",
        )
    )
    restriction_el, sort_el = kids.opt("m:Restriction"), kids.opt("m:SortOrder")
    grouped = kids.first_of("m:GroupBy", "m:DistinguishedGroupBy") is not None
    parents = kids.one("m:ParentFolderIds")
    FOLDER_IDS.read(parents)
    query_error: ResponseError | None = None
    predicate: Predicate | None = None
    sort_keys: list[tuple[Getter, bool]] = []
    try:
        if restriction_el is not None:
            predicate = compile_restriction(restriction_el, call.store)
        if sort_el is not None:
            sort_keys = compile_sort(sort_el, call.store)
        if grouped:
            raise ResponseError("ErrorInvalidOperation", "Grouping is not supported.")
    except ResponseError as exc:
        query_error = exc
    out = Out(call.store, call.options.meeting_time_zone)
    parts = ["<m:ResponseMessages>"]
    for parent_id in parents:
        if not isinstance(parent_id.tag, str):
            continue
        try:
            if query_error is not None:
                raise query_error
            folder = call.folder(parent_id)
            if paging.kind == "CalendarView":
                calendar = calendar_rows(
                    call, folder, paging, predicate is not None or bool(sort_keys)
                )
                rows = [(CALENDAR, v) for v in calendar]
            elif traversal == "SoftDeleted":
                rows = []
            else:
                rows = _stored_rows(call, folder, paging)
                if predicate is not None:
                    rows = [(kind, v) for kind, v in rows if predicate(v)]
                if sort_keys:
                    views = sort_rows([v for _, v in rows], sort_keys)
                    kinds = {id(v): kind for kind, v in rows}
                    rows = [(kinds[id(v)], v) for v in views]
            page, attributes = page_rows(rows, paging)
        except ResponseError as exc:
            parts.append(element_text(error_message("FindItemResponseMessage", exc)))
            continue
        except StoreError as exc:
            error = ResponseError.from_store(exc)
            parts.append(element_text(error_message("FindItemResponseMessage", error)))
            continue
        write_success(parts, page, attributes, shape, out)
    parts.append("</m:ResponseMessages>")
    return RawXml("".join(parts))


def write_success(
    parts: list[str], page: list[Any], attributes: dict[str, str], shape: Shape, out: Out
) -> None:
    """One successful FindItemResponseMessage: the RootFolder and its items."""
    root = " ".join(f'{name}="{value}"' for name, value in attributes.items())
    parts.append(
        '<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError'
        f"</m:ResponseCode><m:RootFolder {root}><t:Items>"
    )
    write_items(parts, page, shape, out, find=True)
    parts.append("</t:Items></m:RootFolder></m:FindItemResponseMessage>")
