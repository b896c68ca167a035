"""SEARCH: Exchange SQL over the store, answered as Exchange 2007's 207.

The body is a ``DAV:searchrequest`` holding ``DAV:sql``; the statement is parsed by
``sql.parse`` and every scope resolved (FullAccess checked: 403; unknown mailbox or
folder: 404). When the WHERE's top-level terms bound both dtstart (``<``) and dtend
(``>``), recurring series are expanded: besides the master (instancetype 1) each
occurrence in the window is a row (2, exceptions 3); otherwise masters and singles
only. Rows are filtered, ordered, cut by ``Range: rows=first-last`` (answered with
``Content-Range: rows first-last; total=N``) and written with only the selected
properties: found ones in the ``HTTP/1.1 200 OK`` propstat, the others in a 404 one.
Malformed or unsupported SQL is a 400 whose text names the offending token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from simulators.exchange.recurrence import HORIZON
from simulators.exchange.webdav import sql
from simulators.exchange.webdav.locate import FolderTarget, LocateError, Locator
from simulators.exchange.webdav.props import Row, known_names, value
from simulators.exchange.webdav.rows import RowBuilder, Window
from simulators.exchange.webdav.xmlio import DAV, MultiStatusWriter, XmlBodyError

Reply = tuple[str, list[tuple[str, str]], bytes]


class SearchError(Exception):
    """A SEARCH the fake refuses: ``status`` is the HTTP status line to answer."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class SearchResult:
    rows: list[Row]
    total: int
    first: int
    ranged: bool
    mailbox: str | None  # the first mailbox searched (for the request journal)


def sql_text(root: etree._Element) -> str:
    """The statement of a ``DAV:searchrequest`` body."""
    if root.tag != f"{{{DAV}}}searchrequest":
        raise XmlBodyError("the SEARCH body is not a DAV:searchrequest")
    node = root.find(f"{{{DAV}}}sql")
    if node is None:
        raise XmlBodyError("the searchrequest has no DAV:sql (only Exchange SQL is supported)")
    return "".join(node.itertext())


def run(
    locator: Locator, request_path: str, statement: str, range_header: str | None
) -> tuple[sql.SearchQuery, SearchResult]:
    """Parse and run a statement; ``SearchError`` for what Exchange would refuse."""
    try:
        query = sql.parse(statement)
        start_lt, end_gt = sql.time_bounds(query.where)
    except sql.SqlError as exc:
        raise SearchError("400 Bad Request", exc.message) from None
    window: Window | None = None
    if start_lt is not None and end_gt is not None:
        # Series without an end are cut at a far horizon, as Exchange cuts them.
        window = (end_gt, min(start_lt, end_gt + HORIZON))
    builder = RowBuilder(locator)
    rows: list[Row] = []
    mailbox: str | None = None
    for scope in query.scopes:
        target = _scope_target(locator, scope, request_path)
        if target.mailbox is None and scope.traversal == "deep":
            raise SearchError(
                "400 Bad Request", "Deep traversal is not supported in the public folder tree"
            )
        if mailbox is None and target.mailbox is not None:
            mailbox = target.mailbox.smtp
        rows.extend(builder.scope_rows(target, scope.traversal, window))
    try:
        matching = [r for r in rows if sql.evaluate(query.where, _getter(r))]
        ordered = sql.order(matching, query.order_by, value) if query.order_by else matching
    except sql.SqlError as exc:
        raise SearchError("400 Bad Request", exc.message) from None
    first = 0
    total = len(ordered)
    if range_header:
        try:
            first, last = sql.parse_range(range_header)
        except sql.RangeHeaderError as exc:
            raise SearchError("400 Bad Request", str(exc)) from None
        ordered = ordered[first : None if last is None else last + 1]
    return query, SearchResult(ordered, total, first, bool(range_header), mailbox)


def _getter(row: Row) -> Callable[[str], Any]:
    return lambda prop: value(row, prop)


def _scope_target(locator: Locator, scope: sql.Scope, request_path: str) -> FolderTarget:
    url = scope.url or request_path
    try:
        target = locator.resolve_url(url)
    except LocateError as exc:
        status = "403 Forbidden" if exc.status == 403 else "404 Not Found"
        raise SearchError(status, exc.message) from None
    if not isinstance(target, FolderTarget):
        raise SearchError("404 Not Found", f"the scope {url} is not a folder")
    return target


def write(query: sql.SearchQuery, result: SearchResult) -> Reply:
    """The 207 body and headers for a search result."""
    writer = MultiStatusWriter()
    for row in result.rows:
        selected = _selected(query, row)
        found = [(name, v) for name, prop in selected if (v := value(row, prop)) is not None]
        present = {name for name, _ in found}
        missing = [name for name, _ in selected if name not in present]
        writer.response(row.href, found, missing)
    headers = [("Content-Type", "text/xml")]
    if result.ranged:
        last = result.first + len(result.rows) - 1
        span = f"{result.first}-{last}" if result.rows else "*"
        headers.append(("Content-Range", f"rows {span}; total={result.total}"))
    return "207 Multi-Status", headers, writer.body()


def _selected(query: sql.SearchQuery, row: Row) -> list[tuple[str, str]]:
    """(response element name, property) pairs; an alias names the element."""
    if query.select_all:
        return [(name, name) for name in known_names(row)]
    return [((item.alias or item.prop), item.prop) for item in query.select]


__all__ = ["SearchError", "SearchResult", "run", "sql_text", "write"]
