"""The engine's poll answered without spyne: a FindItem with a CalendarView of one
calendar, in the exact shape ``integration.sources.ews`` writes it.

Per poll, spyne's dispatch, the lxml parse and reading the request's structure cost
more than finding and writing the rows (profiled with ``harness bench --profile``).
This module recognises that one request shape by its bytes (a strict pattern: the
engine's prefixes and namespace declarations, no comments, no entities, no
whitespace between elements) and answers it with the functions the general path
calls (caller, folder, view checks, rows, item writers, envelope), so the answer is
the same to the byte. Anything else goes the general way, and so does a matching
request whose answer would not be a success: the fast path never decides a fault
or an error message.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from lxml import etree

from simulators.exchange.ews.auth import ACCOUNT_KEY, Impersonation, resolve_caller
from simulators.exchange.ews.calendar import CALENDAR
from simulators.exchange.ews.context import EwsCall, EwsOptions
from simulators.exchange.ews.finditem import Paging, calendar_rows, page_rows, write_success
from simulators.exchange.ews.itemxml import Out, RawXml
from simulators.exchange.ews.middleware import IMPERSONATED_KEY, OPERATION_KEY
from simulators.exchange.ews.service import response_chunks
from simulators.exchange.ews.shapes import Shape, read_shape
from simulators.exchange.ews.xmlkit import (
    DateOutOfRange,
    M,
    S,
    SchemaViolation,
    T,
    parse_datetime,
)
from simulators.exchange.store import ExchangeStore

Answer = tuple[str, list[tuple[str, str]], list[bytes]]

# RFC 5322 atext, dots and the at sign: nothing XML would escape or normalise.
_ADDRESS = rb"[A-Za-z0-9.!#$%'*+/=?^_`{|}~@-]{1,320}"
_DATETIME = rb"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,7})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
_POLL = re.compile(
    rb'(?:<\?xml version="1\.0" encoding="(?:utf|UTF)-8"\?>[ \t\r\n]*)?'
    + f'<s:Envelope xmlns:s="{S}" xmlns:m="{M}" xmlns:t="{T}">'.encode()
    + rb"(?:<s:Header>"
    rb'(?:<t:RequestServerVersion Version="Exchange2007(?:_SP1)?"/>)?'
    rb"(?:<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>(?P<impersonate>"
    + _ADDRESS
    + rb")</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>)?"
    rb"</s:Header>)?"
    rb'<s:Body><m:FindItem Traversal="Shallow"><m:ItemShape>(?P<shape>'
    rb"<t:BaseShape>(?:IdOnly|Default|AllProperties)</t:BaseShape>"
    rb'(?:<t:AdditionalProperties>(?:<t:FieldURI FieldURI="[A-Za-z]{1,40}:[A-Za-z]{1,60}"/>)'
    rb"{1,100}</t:AdditionalProperties>)?"
    rb")</m:ItemShape>"
    rb'<m:CalendarView(?: MaxEntriesReturned="(?P<max>[1-9][0-9]{0,8})")?'
    rb' StartDate="(?P<start>' + _DATETIME + rb')" EndDate="(?P<end>' + _DATETIME + rb')"/>'
    rb'<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"(?:/>|>'
    rb"(?:<t:Mailbox><t:EmailAddress>(?P<mailbox>"
    + _ADDRESS
    + rb")</t:EmailAddress></t:Mailbox>)?</t:DistinguishedFolderId>)"
    rb"</m:ParentFolderIds></m:FindItem></s:Body></s:Envelope>[ \t\r\n]*"
)
_SHAPE_OPEN = f'<m:ItemShape xmlns:m="{M}" xmlns:t="{T}">'.encode()
_SHAPE_LIMIT = 64  # distinct shapes remembered; a client sends one or two
_OK = "200 OK"
_CONTENT_TYPE = ("Content-Type", "text/xml; charset=utf-8")  # as spyne sends it

_INSTANT_LIMIT = 256
_shapes: dict[bytes, Shape | None] = {}
_instants: dict[bytes, datetime | None] = {}


def _shape(raw: bytes) -> Shape | None:
    """The Shape of an ItemShape's content, read as the general path reads it (None: a
    schema violation, the general path answers it)."""
    known = _shapes.get(raw, False)
    if known is not False:
        return known  # type: ignore[return-value]
    try:
        shape: Shape | None = read_shape(etree.fromstring(_SHAPE_OPEN + raw + b"</m:ItemShape>"))
    except SchemaViolation:
        shape = None
    if len(_shapes) >= _SHAPE_LIMIT:
        _shapes.clear()
    _shapes[raw] = shape
    return shape


def _instant(raw: bytes) -> datetime | None:
    """StartDate/EndDate as the general path reads them; None: it answers them. Polls
    sent in the same second share their window: the last few are remembered."""
    known = _instants.get(raw, False)
    if known is not False:
        return known  # type: ignore[return-value]
    try:
        moment = parse_datetime(raw.decode("ascii"))
    except DateOutOfRange:
        moment = None
    if len(_instants) >= _INSTANT_LIMIT:
        _instants.clear()
    _instants[raw] = moment
    return moment


def answer(
    store: ExchangeStore, options: EwsOptions, environ: dict[str, Any], body: bytes
) -> Answer | None:
    """(status, headers, body) of the poll ``body`` when it is one and succeeds, else None.

    On an answer, ``environ`` carries what the general path leaves for the journal:
    the operation, the impersonated mailbox and the mailbox touched.
    """
    match = _POLL.fullmatch(body)
    if match is None:
        return None
    shape = _shape(match["shape"])
    start, end = _instant(match["start"]), _instant(match["end"])
    if shape is None or start is None or end is None:
        return None
    limit = match["max"]
    paging = Paging("CalendarView", max_entries=int(limit) if limit else None, start=start, end=end)
    impersonate, mailbox = match["impersonate"], match["mailbox"]
    scratch: dict[str, Any] = {}
    try:
        caller = resolve_caller(
            store,
            environ[ACCOUNT_KEY],
            Impersonation(smtp=impersonate.decode("ascii")) if impersonate else None,
        )
        call = EwsCall(store, caller, options, scratch)
        folder = call.mailbox_folder("calendar", mailbox.decode("ascii") if mailbox else None)
        page, attributes = page_rows(
            [(CALENDAR, v) for v in calendar_rows(call, folder, paging, False)], paging
        )
    except Exception:
        return None  # a fault or an error message: the general path writes it
    parts = ["<m:ResponseMessages>"]
    write_success(parts, page, attributes, shape, Out(store, options.meeting_time_zone))
    parts.append("</m:ResponseMessages>")
    chunks = response_chunks("FindItemResponse", RawXml("".join(parts)))
    environ[OPERATION_KEY] = "FindItem"
    if caller.impersonated is not None:
        environ[IMPERSONATED_KEY] = caller.impersonated.smtp
    environ.update(scratch)
    length = str(sum(len(chunk) for chunk in chunks))
    return _OK, [_CONTENT_TYPE, ("Content-Length", length)], chunks
