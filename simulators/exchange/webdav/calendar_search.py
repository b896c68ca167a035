"""The engine's poll answered without the XML parse, the SQL parser and the WHERE
interpreter: a SEARCH of one calendar folder in the exact shape
``integration.sources.webdav`` writes it.

Per poll, parsing the body and the statement, building a row for every item of the
folder and interpreting the WHERE clause on each cost more than finding and writing
the few rows in the window (profiled with ``harness bench --profile``). This module
recognises that one request by its bytes (a strict pattern: the engine's XML
declaration and prefix, its statement word for word, no comments, no entities but
the two the engine writes, no whitespace of its own) and answers it with the
functions the general path calls (locator, row builder, ``sql.order``,
``sql.parse_range``, ``search.write``), so the answer is the same to the byte. The
WHERE clause is fixed (``NOT instancetype = 1 AND contentclass = appointment AND
dtstart < end AND dtend > start``), so on a folder holding only calendar items and
no subfolders it is decided from the items themselves, before any row is built, by
``sql_eval``'s own comparison rules. Anything else goes the general way, and so does
a matching request whose answer would be an error: the fast path never decides one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from simulators.exchange.ews.auth import ACCOUNT_KEY
from simulators.exchange.ews.context import MAILBOX_TARGET_KEY
from simulators.exchange.model import CalendarItem
from simulators.exchange.owa.gate import site_base
from simulators.exchange.recurrence import HORIZON
from simulators.exchange.store import ExchangeStore
from simulators.exchange.webdav import search, sql
from simulators.exchange.webdav.locate import FolderTarget, ItemNames, Locator
from simulators.exchange.webdav.props import Row, value
from simulators.exchange.webdav.rows import RowBuilder
from simulators.exchange.webdav.sql_eval import DTSTART, comparable

Reply = tuple[str, list[tuple[str, str]], bytes]

# A property name as the engine writes one: nothing the SQL lexer or XML would
# unescape, normalise or end a name with.
_NAME = rb'"[A-Za-z0-9:/._#{}-]{1,200}"'
# The folder's path: no quote of either kind (they end the SQL string and the scope's
# URL), no '%' (the scope is percent-decoded once more than the request path), no '&'
# or '<' (entities); what else the bytes hold is checked once they are text.
_SCOPE = rb"/[^\"'%&<>\x00-\x1f]{0,1000}"
_DATE = rb"[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
_SEARCH = re.compile(
    rb'<\?xml version="1\.0" encoding="utf-8"\?>'
    rb'<g:searchrequest xmlns:g="DAV:"><g:sql>SELECT (?P<select>'
    + _NAME
    + rb"(?:, "
    + _NAME
    + rb"){0,99}) FROM SCOPE\('SHALLOW TRAVERSAL OF \"(?P<scope>"
    + _SCOPE
    + rb")\"'\) WHERE NOT \"urn:schemas:calendar:instancetype\" = 1"
    rb" AND \"DAV:contentclass\" = 'urn:content-classes:appointment'"
    rb" AND \"urn:schemas:calendar:dtstart\" &lt; '(?P<end>" + _DATE + rb")'"
    rb" AND \"urn:schemas:calendar:dtend\" &gt; '(?P<start>" + _DATE + rb")'"
    rb' ORDER BY "urn:schemas:calendar:dtstart" ASC</g:sql></g:searchrequest>'
)
_ORDER_BY = ((DTSTART, True),)

_SELECT_LIMIT = 64  # distinct select lists remembered; a client sends one or two
_INSTANT_LIMIT = 256
_selects: dict[bytes, tuple[sql.SelectItem, ...] | None] = {}
_instants: dict[bytes, datetime | None] = {}


def _select(raw: bytes) -> tuple[sql.SelectItem, ...] | None:
    """The select list as the general path's parser reads it (None: it refuses it)."""
    known = _selects.get(raw, False)
    if known is not False:
        return known  # type: ignore[return-value]
    try:
        items: tuple[sql.SelectItem, ...] | None = sql.parse(
            f'SELECT {raw.decode("ascii")} FROM "/"'
        ).select
    except sql.SqlError:
        items = None
    if len(_selects) >= _SELECT_LIMIT:
        _selects.clear()
    _selects[raw] = items
    return items


def _instant(raw: bytes) -> datetime | None:
    """A date literal as the general path reads it; None: it refuses it. Polls sent
    in the same second share their window: the last few are remembered."""
    known = _instants.get(raw, False)
    if known is not False:
        return known  # type: ignore[return-value]
    moment = sql.parse_date_literal(raw.decode("ascii"))
    if len(_instants) >= _INSTANT_LIMIT:
        _instants.clear()
    _instants[raw] = moment
    return moment


def _scope(raw: bytes, request_path: str) -> str | None:
    """The scope as text when it is the request's own path and XML reads it as
    written (valid UTF-8, nothing XML refuses); else None."""
    try:
        scope = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # isprintable: no control, format, unassigned or separator characters but the
    # space, so none that XML refuses or normalises.
    if scope != request_path or not scope.isprintable() or "://" in scope:
        return None
    return scope


def answer(
    store: ExchangeStore,
    names: ItemNames,
    environ: dict[str, Any],
    request_path: str,
    body: bytes,
) -> Reply | None:
    """(status, headers, body) of the poll ``body`` when it is one and succeeds, else
    None. On an answer, ``environ`` carries the mailbox touched, for the journal."""
    match = _SEARCH.fullmatch(body)
    if match is None:
        return None
    select = _select(match["select"])
    start, end = _instant(match["start"]), _instant(match["end"])
    scope = _scope(match["scope"], request_path)
    if select is None or start is None or end is None or scope is None:
        return None
    locator = Locator(store, names, environ.get(ACCOUNT_KEY), site_base(environ))
    try:
        target = locator.resolve(scope)
        if not isinstance(target, FolderTarget) or target.folder.child_ids:
            return None  # subfolder rows: the general path weighs them
        first, last = 0, None
        range_header = environ.get("HTTP_RANGE")
        if range_header:
            first, last = sql.parse_range(range_header)
        rows = _matching(store, RowBuilder(locator), target, start, end)
        if rows is None:
            return None
        ordered = sql.order(rows, _ORDER_BY, value)
    except Exception:
        return None  # a 400, 403, 404 or 500: the general path answers it
    total = len(ordered)
    if range_header:
        ordered = ordered[first : None if last is None else last + 1]
    mailbox = target.mailbox.smtp if target.mailbox is not None else None
    query = sql.SearchQuery(select, (sql.Scope("shallow", scope),), None, _ORDER_BY, False)
    reply = search.write(
        query, search.SearchResult(ordered, total, first, bool(range_header), mailbox)
    )
    if mailbox is not None:
        environ[MAILBOX_TARGET_KEY] = mailbox
    return reply


def _matching(
    store: ExchangeStore, builder: RowBuilder, target: FolderTarget, start: datetime, end: datetime
) -> list[Row] | None:
    """The rows the WHERE clause keeps, in the general path's order (items, then the
    series' instances); None when the folder holds anything but calendar items.

    Per row the clause is: not a recurring master (instancetype 1), an appointment
    (every calendar item is one), ``dtstart < end`` and ``dtend > start`` compared as
    ``sql_eval`` compares dates (naive ones as UTC).
    """
    items = store.items_in(target.folder)
    href = target.href
    rows: list[Row] = []
    series = False
    for item in items:
        if not isinstance(item, CalendarItem):
            return None
        if item.recurrence is not None:
            series = True
        elif comparable(item.start) < end and comparable(item.end) > start:
            rows.append(builder.item_row(href, item))
    if series:
        # As search.run: series without an end are cut at a far horizon.
        for occ in store.calendar_view(target.folder, start, min(end, start + HORIZON)):
            if occ.item_type not in ("Occurrence", "Exception"):
                continue
            if comparable(occ.start) < end and comparable(occ.end) > start:
                rows.append(builder.item_row(href, occ.master, occ))
    return rows


__all__ = ["answer"]
