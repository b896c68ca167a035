"""The engine's own EWS client: one FindItem with a CalendarView per mailbox and poll.

Owns the wire format of a calendar read against Exchange 2007 (SP1..SP3) and the
classification of every way it fails. Per mailbox the request is a FindItem on the
mailbox's ``calendar`` distinguished folder, made through ExchangeImpersonation so
the service account reads as the user (R2); the CalendarView makes Exchange expand
recurring series into occurrences. The request body is a precomputed byte template
with three holes (mailbox, start, end), so a poll costs a join, one HTTP exchange on a
pooled keep-alive connection and one lxml parse: cheap enough for 10,000 mailboxes
per 30 s on two cores.

Responses are parsed with a parser that loads no DTD, resolves no entity and touches
no network, and any DOCTYPE is refused outright.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import httpx
from lxml import etree

from integration.appointments import Appointment, AppointmentKind
from integration.http import (
    USER_AGENT,
    ExchangeHttpClient,
    basic_authorization,
    check_concurrency,
    check_http_url,
    exchange_client,
    exchange_login,
    retry_after,
    transport_failure,
)
from integration.sources.base import (
    AccessDenied,
    MailboxNotFound,
    SourceError,
    SourceProtocolError,
    SourceUnavailable,
)
from integration.transport import PreparedRequests

if TYPE_CHECKING:
    from integration.config import ExchangeConfig, PollingConfig

log = logging.getLogger(__name__)

NS_SOAP: Final = "http://schemas.xmlsoap.org/soap/envelope/"
NS_M: Final = "http://schemas.microsoft.com/exchange/services/2006/messages"
NS_T: Final = "http://schemas.microsoft.com/exchange/services/2006/types"
NS_E: Final = "http://schemas.microsoft.com/exchange/services/2006/errors"

# The properties the rules need, nothing more: IdOnly + these keeps responses small.
FIELD_URIS: Final = (
    "item:Subject",
    "calendar:Start",
    "calendar:End",
    "calendar:IsAllDayEvent",
    "calendar:CalendarItemType",
    "item:DateTimeCreated",
    "item:LastModifiedTime",
    "calendar:LegacyFreeBusyStatus",
    "calendar:IsMeeting",
    "calendar:IsCancelled",
    "calendar:MyResponseType",
)
DEFAULT_MAX_ENTRIES: Final = 200

# Response codes by what the scheduler should do about them; anything else is a
# request Exchange refused as malformed or unsupported (SourceProtocolError).
_NOT_FOUND_CODES: Final = frozenset({"ErrorNonExistentMailbox", "ErrorFolderNotFound"})
_ACCESS_CODES: Final = frozenset(
    {
        "ErrorImpersonateUserDenied",  # ms-Exch-EPI-May-Impersonate missing
        "ErrorImpersonationDenied",  # ms-Exch-EPI-Impersonation missing
        "ErrorImpersonationFailed",
        "ErrorAccessDenied",
    }
)
_UNAVAILABLE_CODES: Final = frozenset(
    {
        "ErrorServerBusy",
        "ErrorMailboxStoreUnavailable",
        "ErrorInternalServerError",
        "ErrorInternalServerTransientError",
        "ErrorMailboxMoveInProgress",
        "ErrorConnectionFailed",
        "ErrorTimeoutExpired",
        "ErrorInsufficientResources",
    }
)

_KINDS: Final[dict[str, AppointmentKind]] = {
    "Single": "single",
    "Occurrence": "occurrence",
    "Exception": "exception",
}


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


_ENVELOPE = _q(NS_SOAP, "Envelope")
_BODY = _q(NS_SOAP, "Body")
_FAULT = _q(NS_SOAP, "Fault")
_FIND_ITEM_RESPONSE = _q(NS_M, "FindItemResponse")
_RESPONSE_MESSAGES = _q(NS_M, "ResponseMessages")
_FIND_ITEM_MESSAGE = _q(NS_M, "FindItemResponseMessage")
_RESPONSE_CODE = _q(NS_M, "ResponseCode")
_MESSAGE_TEXT = _q(NS_M, "MessageText")
_MESSAGE_XML = _q(NS_M, "MessageXml")
_ROOT_FOLDER = _q(NS_M, "RootFolder")
_ITEMS = _q(NS_T, "Items")
_CALENDAR_ITEM = _q(NS_T, "CalendarItem")
_ITEM_ID = _q(NS_T, "ItemId")
_SUBJECT = _q(NS_T, "Subject")
_START = _q(NS_T, "Start")
_END = _q(NS_T, "End")
_ALL_DAY = _q(NS_T, "IsAllDayEvent")
_ITEM_TYPE = _q(NS_T, "CalendarItemType")
_CREATED = _q(NS_T, "DateTimeCreated")
_MODIFIED = _q(NS_T, "LastModifiedTime")
_FREE_BUSY = _q(NS_T, "LegacyFreeBusyStatus")
_IS_MEETING = _q(NS_T, "IsMeeting")
_IS_CANCELLED = _q(NS_T, "IsCancelled")
_RESPONSE = _q(NS_T, "MyResponseType")
_VALUE = _q(NS_T, "Value")


class FindItemTemplate:
    """The FindItem request as bytes with holes for mailbox, start and end."""

    _HOLES = ("\x00MAILBOX\x00", "\x00START\x00", "\x00END\x00")

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        mailbox, start, end = self._HOLES
        fields = "".join(f'<t:FieldURI FieldURI="{uri}"/>' for uri in FIELD_URIS)
        text = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:m="{NS_M}" xmlns:t="{NS_T}">'
            "<s:Header>"
            '<t:RequestServerVersion Version="Exchange2007_SP1"/>'
            "<t:ExchangeImpersonation><t:ConnectingSID>"
            f"<t:PrimarySmtpAddress>{mailbox}</t:PrimarySmtpAddress>"
            "</t:ConnectingSID></t:ExchangeImpersonation>"
            "</s:Header>"
            "<s:Body>"
            '<m:FindItem Traversal="Shallow">'
            "<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
            f"<t:AdditionalProperties>{fields}</t:AdditionalProperties></m:ItemShape>"
            f'<m:CalendarView MaxEntriesReturned="{int(max_entries)}"'
            f' StartDate="{start}" EndDate="{end}"/>'
            "<m:ParentFolderIds>"
            '<t:DistinguishedFolderId Id="calendar">'
            f"<t:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></t:Mailbox>"
            "</t:DistinguishedFolderId>"
            "</m:ParentFolderIds>"
            "</m:FindItem>"
            "</s:Body>"
            "</s:Envelope>"
        )
        parts: list[bytes] = []
        order: list[int] = []
        rest = text
        while True:
            found = [(rest.find(h), i) for i, h in enumerate(self._HOLES) if h in rest]
            if not found:
                parts.append(rest.encode("utf-8"))
                break
            at, which = min(found)
            parts.append(rest[:at].encode("utf-8"))
            order.append(which)
            rest = rest[at + len(self._HOLES[which]) :]
        self._parts = tuple(parts)
        self._order = tuple(order)

    def render(self, mailbox: str, start: datetime, end: datetime) -> bytes:
        values = (_xml_text(mailbox), _ews_time(start), _ews_time(end))
        out = [self._parts[0]]
        for which, part in zip(self._order, self._parts[1:], strict=True):
            out.append(values[which])
            out.append(part)
        return b"".join(out)


def _xml_text(value: str) -> bytes:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


def _ews_time(value: datetime) -> bytes:
    # Whole seconds in UTC with Z: the form every Exchange version accepts.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")


@dataclass(frozen=True)
class FindItemResult:
    """One parsed CalendarView answer."""

    appointments: list[Appointment]
    total_in_view: int | None
    includes_last: bool  # False: Exchange cut the view at MaxEntriesReturned


_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads; one per thread, reused.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        _local.parser = parser
    return parser


def parse_xml(content: bytes, mailbox: str | None = None) -> etree._Element:
    """Parse an answer safely; SourceProtocolError for anything that is not plain XML."""
    refused = SourceProtocolError("answer has a DOCTYPE; refused", mailbox=mailbox)
    if b"<!DOCTYPE" in content:
        raise refused
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        raise SourceProtocolError(f"answer is not XML: {exc}", mailbox=mailbox) from None
    if root.getroottree().docinfo.doctype:
        raise refused
    return root


def parse_find_item(content: bytes, mailbox: str | None = None) -> FindItemResult:
    """Parse a FindItem answer (HTTP 200 or a 500 SOAP Fault) into appointments,
    raising the ``SourceError`` that the server's response code means."""
    return interpret_envelope(soap_payload(parse_xml(content, mailbox), mailbox), mailbox)


def soap_payload(root: etree._Element, mailbox: str | None) -> etree._Element:
    """The first child of the SOAP body: the operation's response or a Fault."""
    if root.tag != _ENVELOPE:
        raise SourceProtocolError(f"answer is not a SOAP envelope: <{root.tag}>", mailbox=mailbox)
    body = root.find(_BODY)
    if body is None or len(body) == 0:
        raise SourceProtocolError("SOAP envelope without a body", mailbox=mailbox)
    return body[0]


def interpret_envelope(payload: etree._Element, mailbox: str | None) -> FindItemResult:
    """A FindItemResponse's appointments, or the error a Fault or an Error message means."""
    if payload.tag == _FAULT:
        raise fault_error(payload, mailbox)
    if payload.tag != _FIND_ITEM_RESPONSE:
        raise SourceProtocolError(f"unexpected answer <{payload.tag}>", mailbox=mailbox)
    message = payload.find(f"{_RESPONSE_MESSAGES}/{_FIND_ITEM_MESSAGE}")
    if message is None:
        raise SourceProtocolError("FindItemResponse without a response message", mailbox=mailbox)
    if message.get("ResponseClass") == "Error":
        code = (message.findtext(_RESPONSE_CODE) or "").strip() or "Error"
        text = (message.findtext(_MESSAGE_TEXT) or "").strip() or code
        raise classify(code, text, mailbox, _backoff(message.find(_MESSAGE_XML)))
    folder = message.find(_ROOT_FOLDER)
    if folder is None:
        raise SourceProtocolError("FindItemResponse without a RootFolder", mailbox=mailbox)
    items = folder.find(_ITEMS)
    appointments = [] if items is None else _appointments(items, mailbox)
    total = folder.get("TotalItemsInView")
    return FindItemResult(
        appointments=appointments,
        total_in_view=int(total) if total and total.isdigit() else None,
        includes_last=folder.get("IncludesLastItemInRange", "true").strip() != "false",
    )


def fault_error(fault: etree._Element, mailbox: str | None) -> SourceError:
    """The error a SOAP Fault stands for: detail/e:ResponseCode first, then faultcode."""
    detail = fault.find("detail")
    code = ""
    message = ""
    if detail is not None:
        code = (detail.findtext(_q(NS_E, "ResponseCode")) or "").strip()
        message = (detail.findtext(_q(NS_E, "Message")) or "").strip()
    if not code:
        faultcode = (fault.findtext("faultcode") or "").strip()
        code = faultcode.rpartition(":")[2] or "Fault"
    message = message or (fault.findtext("faultstring") or "").strip() or code
    return classify(code, message, mailbox, _backoff(detail))


def classify(code: str, message: str, mailbox: str | None, backoff: float | None) -> SourceError:
    """Map an EWS response code to the error class the scheduler acts on."""
    if code in _NOT_FOUND_CODES:
        return MailboxNotFound(message, mailbox=mailbox, code=code)
    if code in _ACCESS_CODES:
        return AccessDenied(message, mailbox=mailbox, code=code)
    if code in _UNAVAILABLE_CODES:
        return SourceUnavailable(message, mailbox=mailbox, code=code, retry_after=backoff)
    return SourceProtocolError(message, mailbox=mailbox, code=code)


def _backoff(container: etree._Element | None) -> float | None:
    # ErrorServerBusy carries <t:Value Name="BackOffMilliseconds">; anywhere below is fine.
    if container is None:
        return None
    for value in container.iter(_VALUE):
        if value.get("Name") == "BackOffMilliseconds" and (value.text or "").strip().isdigit():
            return int((value.text or "").strip()) / 1000
    return None


def parse_time(text: str) -> datetime:
    """An xs:dateTime from Exchange as aware UTC; without an offset it is UTC."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _appointments(items: etree._Element, mailbox: str | None) -> list[Appointment]:
    found: list[Appointment] = []
    for item in items:
        if item.tag != _CALENDAR_ITEM:
            continue  # a meeting request or other item class in the calendar: not ours
        try:
            appointment = _appointment(item)
        except (ValueError, KeyError) as exc:
            raise SourceProtocolError(f"unreadable CalendarItem: {exc}", mailbox=mailbox) from None
        if appointment is not None:
            found.append(appointment)
    return found


def _appointment(item: etree._Element) -> Appointment | None:
    # One pass over the children: cheaper than a find() per property.
    item_id = subject = start = end = created = modified = item_type = busy = response = None
    all_day = is_meeting = cancelled = False
    for child in item:
        tag = child.tag
        text = child.text
        if tag == _ITEM_ID:
            item_id = child.get("Id")
        elif tag == _SUBJECT:
            subject = text
        elif tag == _START:
            start = text
        elif tag == _END:
            end = text
        elif tag == _ALL_DAY:
            all_day = (text or "").strip() in ("true", "1")
        elif tag == _ITEM_TYPE:
            item_type = (text or "").strip()
        elif tag == _CREATED:
            created = text
        elif tag == _MODIFIED:
            modified = text
        elif tag == _FREE_BUSY:
            busy = (text or "").strip()
        elif tag == _IS_MEETING:
            is_meeting = (text or "").strip() in ("true", "1")
        elif tag == _IS_CANCELLED:
            cancelled = (text or "").strip() in ("true", "1")
        elif tag == _RESPONSE:
            response = (text or "").strip()
    if item_type == "RecurringMaster":
        return None  # a CalendarView never returns masters; ignore one if a server does
    if not item_id:
        raise ValueError("no ItemId")
    if not start or not end:
        raise ValueError(f"item {item_id} has no Start or End")
    kind = _KINDS.get(item_type or "Single")
    if kind is None:
        raise ValueError(f"item {item_id} has CalendarItemType {item_type!r}")
    return Appointment(
        id=item_id,
        subject=subject or "",
        start=parse_time(start),
        end=parse_time(end),
        all_day=all_day,
        created=parse_time(created) if created else None,
        modified=parse_time(modified) if modified else None,
        kind=kind,
        busy_status=busy or None,  # as Exchange spells it: Free, Tentative, Busy, OOF
        is_meeting=is_meeting,
        response=(response or None) if is_meeting else None,
        cancelled=cancelled,
    )


def ews_headers(username: str, password: str) -> dict[str, str]:
    """The headers of every EWS request the service account makes."""
    return {
        # Preemptive Basic: one round trip per read, as exchangelib does.
        "Authorization": basic_authorization(username, password),
        "Content-Type": "text/xml; charset=utf-8",
        "Accept": "text/xml",
        "User-Agent": USER_AGENT,
    }


class EwsCalendarSource(ExchangeHttpClient):
    """Reads calendars over EWS as one service account, impersonating each user.

    One instance serves every mailbox; ``concurrency`` bounds both the reads in flight
    and the keep-alive connection pool. Use ``async with`` or call ``aclose()``.
    """

    def __init__(
        self,
        server_url: str,
        username: str,
        password: str,
        *,
        verify: bool | ssl.SSLContext = True,
        ca_file: str | None = None,
        concurrency: int = 50,
        timeout: float = 10.0,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        check_http_url(server_url)
        check_concurrency(concurrency)
        self.server_url = server_url
        self.username = username
        self.timeout = timeout
        self.truncated_reads = 0  # views Exchange cut at max_entries, since start
        self._template = FindItemTemplate(max_entries)
        self._slots = asyncio.Semaphore(concurrency)
        self._client = exchange_client(
            headers=ews_headers(username, password),
            timeout=timeout,
            connections=concurrency,
            idle_connections=concurrency,
            verify=verify,
            ca_file=ca_file,
            transport=transport,
        )
        # The poll's request written once (integration.transport): most of the CPU of
        # a read was httpx building the same request again. Not with a test transport.
        self._prepared = (
            PreparedRequests(self._client, "POST", server_url) if transport is None else None
        )

    @classmethod
    def from_config(
        cls, exchange: ExchangeConfig, polling: PollingConfig | None = None
    ) -> EwsCalendarSource:
        """A source for the [exchange] and [polling] sections of the engine's config."""
        return cls(
            **exchange_login(exchange, "ews"),
            concurrency=polling.concurrency if polling else 50,
            timeout=polling.request_timeout.total_seconds() if polling else 10.0,
        )

    def request_body(self, mailbox: str, start: datetime, end: datetime) -> bytes:
        """The exact FindItem request ``read`` sends."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if not start < end:
            raise ValueError(f"empty window: {start.isoformat()} .. {end.isoformat()}")
        return self._template.render(mailbox, start, end)

    async def read(self, mailbox: str, start: datetime, end: datetime) -> list[Appointment]:
        """Appointments of ``mailbox`` overlapping ``[start, end)``, occurrences expanded."""
        result = await self.find_items(mailbox, start, end)
        if not result.includes_last:
            self.truncated_reads += 1
            log.warning(
                "%s: calendar view truncated: %d of %s appointments returned (MaxEntriesReturned)",
                mailbox,
                len(result.appointments),
                result.total_in_view if result.total_in_view is not None else "more",
            )
        return result.appointments

    async def find_items(self, mailbox: str, start: datetime, end: datetime) -> FindItemResult:
        """``read`` with the view's paging facts (total count, truncation)."""
        if not _plausible_address(mailbox):
            raise MailboxNotFound(f"not an e-mail address: {mailbox!r}", mailbox=mailbox)
        body = self.request_body(mailbox, start, end)
        prepared = self._prepared
        try:
            async with self._slots:
                if prepared is not None and prepared.usable:
                    response = await prepared.send(prepared.url.raw_path, body)
                else:
                    response = await self._client.post(self.server_url, content=body)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self.server_url, self.timeout, mailbox) from None
        return self._interpret(response, mailbox)

    def _interpret(self, response: httpx.Response, mailbox: str) -> FindItemResult:
        status = response.status_code
        if status == 401:
            raise AccessDenied(
                f"service account credentials refused for {self.username}",
                mailbox=mailbox,
                code="HTTP 401",
            )
        if status == 200:
            return parse_find_item(response.content, mailbox)
        if status == 500:
            # EWS reports header and security failures as a SOAP Fault with HTTP 500;
            # anything else with a 500 is IIS or ASP.NET failing: try again later.
            try:
                payload = soap_payload(parse_xml(response.content, mailbox), mailbox)
            except SourceProtocolError:
                payload = None
            if payload is not None and payload.tag == _FAULT:
                raise fault_error(payload, mailbox)
        reason = response.reason_phrase or ""
        code = f"HTTP {status}"
        if status >= 500:
            raise SourceUnavailable(
                f"server error {reason}".strip(),
                mailbox=mailbox,
                code=code,
                retry_after=retry_after(response),
            )
        if status == 403:
            raise AccessDenied(f"forbidden for {self.username}", mailbox=mailbox, code=code)
        if 300 <= status < 400:
            target = response.headers.get("location", "?")
            raise SourceProtocolError(
                f"redirected to {target}: is server_url the EWS URL?", mailbox=mailbox, code=code
            )
        if status == 404:
            raise SourceProtocolError(f"no EWS at {self.server_url}", mailbox=mailbox, code=code)
        raise SourceProtocolError(f"unexpected answer {reason}".strip(), mailbox=mailbox, code=code)


def _plausible_address(mailbox: str) -> bool:
    local, at, domain = mailbox.partition("@")
    return bool(at and local and domain) and mailbox.isprintable() and " " not in mailbox
