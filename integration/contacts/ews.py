"""Public folder contact search over EWS (Exchange 2007 SP1..SP3).

Owns the two requests and their answers: a FindFolder with Traversal="Shallow" on the
``publicfoldersroot`` distinguished folder (no Mailbox: public folders belong to the
organisation, so the service account reads them as itself, without impersonation),
keeping only contact folders (FolderClass IPF.Contact); then per folder a FindItem
with an IndexedPageItemView, sorted by display name, whose Restriction is an ``Or`` of
case-insensitive substring ``Contains`` over display name, given name, surname,
company and first e-mail address. The folder list is cached for ``folder_ttl``
seconds; the per-folder searches run concurrently and are merged.

The query travels only inside the ``Value`` attribute of ``t:Constant``, escaped for
an XML attribute, so no query can change the request's structure. Answers are parsed
with the engine's safe parser (no DTD, no entities, no network) and failures become the
engine's ``SourceError`` classes.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import httpx
from lxml import etree

from integration.contacts.model import (
    DEFAULT_FOLDER_TTL,
    ContactHit,
    FirstLevelSearch,
    FolderCache,
    PublicFolder,
)
from integration.http import (
    ExchangeHttpClient,
    check_concurrency,
    check_http_url,
    exchange_client,
    exchange_login,
    transport_failure,
)
from integration.sources.base import (
    AccessDenied,
    SourceError,
    SourceProtocolError,
    SourceUnavailable,
)
from integration.sources.ews import (
    NS_M,
    NS_SOAP,
    NS_T,
    classify,
    ews_headers,
    fault_error,
    parse_xml,
    soap_payload,
)

if TYPE_CHECKING:
    from integration.config import ExchangeConfig

log = logging.getLogger(__name__)

CONTACT_FOLDER_CLASS: Final = "IPF.Contact"
# The properties searched, in the Or's order; e-mail is the first address only.
SEARCHED_FIELDS: Final = (
    '<t:FieldURI FieldURI="contacts:DisplayName"/>',
    '<t:FieldURI FieldURI="contacts:GivenName"/>',
    '<t:FieldURI FieldURI="contacts:Surname"/>',
    '<t:FieldURI FieldURI="contacts:CompanyName"/>',
    '<t:IndexedFieldURI FieldURI="contacts:EmailAddress" FieldIndex="EmailAddress1"/>',
)
RETURNED_FIELDS: Final = (
    *SEARCHED_FIELDS,
    '<t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="BusinessPhone"/>',
    '<t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="MobilePhone"/>',
    '<t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="HomePhone"/>',
)
# Per-folder answers that cost one folder, not the search: public folders carry their
# own permissions, and a folder may vanish between the cached list and the FindItem.
_FOLDER_DENIED: Final = frozenset({"ErrorAccessDenied"})
_FOLDER_GONE: Final = frozenset({"ErrorFolderNotFound", "ErrorItemNotFound"})

_ENVELOPE_HEAD: Final = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:m="{NS_M}" xmlns:t="{NS_T}">'
    '<s:Header><t:RequestServerVersion Version="Exchange2007_SP1"/></s:Header><s:Body>'
)
_ENVELOPE_TAIL: Final = "</s:Body></s:Envelope>"

FIND_FOLDER_BODY: Final = (
    _ENVELOPE_HEAD + '<m:FindFolder Traversal="Shallow">'
    "<m:FolderShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
    '<t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURI FieldURI="folder:FolderClass"/>'
    "</t:AdditionalProperties></m:FolderShape>"
    '<m:ParentFolderIds><t:DistinguishedFolderId Id="publicfoldersroot"/></m:ParentFolderIds>'
    "</m:FindFolder>" + _ENVELOPE_TAIL
).encode("utf-8")


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


_FAULT = _q(NS_SOAP, "Fault")
_RESPONSE_MESSAGES = _q(NS_M, "ResponseMessages")
_RESPONSE_CODE = _q(NS_M, "ResponseCode")
_MESSAGE_TEXT = _q(NS_M, "MessageText")
_ROOT_FOLDER = _q(NS_M, "RootFolder")
_FOLDERS = _q(NS_T, "Folders")
_FOLDER_ID = _q(NS_T, "FolderId")
_FOLDER_CLASS = _q(NS_T, "FolderClass")
_DISPLAY_NAME = _q(NS_T, "DisplayName")
_CONTACTS_FOLDER = _q(NS_T, "ContactsFolder")
_ITEMS = _q(NS_T, "Items")
_CONTACT = _q(NS_T, "Contact")
_ENTRY = _q(NS_T, "Entry")
_SIMPLE_FIELDS: Final = {
    _q(NS_T, "DisplayName"): "display_name",
    _q(NS_T, "GivenName"): "given_name",
    _q(NS_T, "Surname"): "surname",
    _q(NS_T, "CompanyName"): "company",
}
_PHONE_FIELDS: Final = {
    "BusinessPhone": "business_phone",
    "MobilePhone": "mobile_phone",
    "HomePhone": "home_phone",
}


def xml_attribute(value: str) -> str:
    """``value`` escaped for a double-quoted XML attribute; tabs and line breaks as
    character references, which attribute-value normalisation would otherwise turn
    into spaces."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def find_item_body(folder: PublicFolder, query: str, limit: int) -> bytes:
    """The FindItem request for one folder: contacts containing ``query``, first
    ``limit`` by display name."""
    constant = f'<t:Constant Value="{xml_attribute(query)}"/>'
    contains = "".join(
        '<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase">'
        f"{field}{constant}</t:Contains>"
        for field in SEARCHED_FIELDS
    )
    change_key = f' ChangeKey="{xml_attribute(folder.change_key)}"' if folder.change_key else ""
    text = (
        _ENVELOPE_HEAD + '<m:FindItem Traversal="Shallow">'
        "<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
        f"<t:AdditionalProperties>{''.join(RETURNED_FIELDS)}</t:AdditionalProperties>"
        "</m:ItemShape>"
        f'<m:IndexedPageItemView MaxEntriesReturned="{int(limit)}" Offset="0"'
        ' BasePoint="Beginning"/>'
        f"<m:Restriction><t:Or>{contains}</t:Or></m:Restriction>"
        '<m:SortOrder><t:FieldOrder Order="Ascending">'
        '<t:FieldURI FieldURI="contacts:DisplayName"/></t:FieldOrder></m:SortOrder>'
        f'<m:ParentFolderIds><t:FolderId Id="{xml_attribute(folder.id)}"{change_key}/>'
        "</m:ParentFolderIds></m:FindItem>" + _ENVELOPE_TAIL
    )
    return text.encode("utf-8")


def _response_message(payload: etree._Element, operation: str) -> etree._Element:
    """The single ``<operation>ResponseMessage`` of a response, or the error it means."""
    if payload.tag == _FAULT:
        raise fault_error(payload, None)
    if payload.tag != _q(NS_M, f"{operation}Response"):
        raise SourceProtocolError(f"unexpected answer <{payload.tag}> to {operation}")
    message = payload.find(f"{_RESPONSE_MESSAGES}/{_q(NS_M, operation + 'ResponseMessage')}")
    if message is None:
        raise SourceProtocolError(f"{operation}Response without a response message")
    if message.get("ResponseClass") == "Error":
        code = (message.findtext(_RESPONSE_CODE) or "").strip() or "Error"
        text = (message.findtext(_MESSAGE_TEXT) or "").strip() or code
        raise classify(code, f"{operation}: {text}", None, None)
    return message


def parse_find_folder(payload: etree._Element) -> list[PublicFolder]:
    """The contact folders among the public folder root's children."""
    message = _response_message(payload, "FindFolder")
    folders = message.find(f"{_ROOT_FOLDER}/{_FOLDERS}")
    found: list[PublicFolder] = []
    for node in [] if folders is None else folders:
        folder_class = (node.findtext(_FOLDER_CLASS) or "").strip()
        if folder_class:
            is_contacts = folder_class == CONTACT_FOLDER_CLASS or folder_class.startswith(
                CONTACT_FOLDER_CLASS + "."
            )
        else:
            is_contacts = node.tag == _CONTACTS_FOLDER
        if not is_contacts:
            continue  # calendars, mail and post folders hold no contacts
        folder_id = node.find(_FOLDER_ID)
        if folder_id is None or not folder_id.get("Id"):
            raise SourceProtocolError("FindFolder answer has a folder without a FolderId")
        found.append(
            PublicFolder(
                id=folder_id.get("Id", ""),
                name=(node.findtext(_DISPLAY_NAME) or "").strip(),
                change_key=folder_id.get("ChangeKey", ""),
            )
        )
    return found


def parse_find_item(payload: etree._Element, folder: PublicFolder) -> list[ContactHit]:
    """The contacts of one folder's FindItem answer (other item kinds are skipped)."""
    message = _response_message(payload, "FindItem")
    items = message.find(f"{_ROOT_FOLDER}/{_ITEMS}")
    hits: list[ContactHit] = []
    for item in [] if items is None else items:
        if item.tag == _CONTACT:  # distribution lists and posts share contact folders
            hits.append(_contact(item, folder.name))
    return hits


def _contact(item: etree._Element, folder_name: str) -> ContactHit:
    fields: dict[str, str] = {}
    for child in item:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        name = _SIMPLE_FIELDS.get(child.tag)
        if name is not None:
            fields[name] = (child.text or "").strip()
        elif child.tag == _q(NS_T, "EmailAddresses"):
            for entry in child.iter(_ENTRY):
                if entry.get("Key") == "EmailAddress1":
                    fields["email"] = _address((entry.text or "").strip())
        elif child.tag == _q(NS_T, "PhoneNumbers"):
            for entry in child.iter(_ENTRY):
                phone = _PHONE_FIELDS.get(entry.get("Key") or "")
                if phone is not None:
                    fields[phone] = (entry.text or "").strip()
    return ContactHit(
        display_name=fields.pop("display_name", ""),
        folder=folder_name,
        **fields,
    )


def _address(value: str) -> str:
    # Addresses resolved from the directory come as "SMTP:user@dom"; show the address.
    prefix, colon, rest = value.partition(":")
    return rest if colon and prefix.upper() == "SMTP" else value


class EwsContactSearch(FirstLevelSearch, ExchangeHttpClient):
    """Searches the first-level public contact folders over EWS as the service account.

    One instance serves every caller; ``concurrency`` bounds the folders searched at
    once. ``folder_ttl`` (seconds) is how long the folder list is reused; ``clock``
    (monotonic seconds) is for tests. Use ``async with`` or call ``aclose()``.
    """

    def __init__(
        self,
        server_url: str,
        username: str,
        password: str,
        *,
        verify: bool | ssl.SSLContext = True,
        ca_file: str | None = None,
        timeout: float = 10.0,
        concurrency: int = 8,
        folder_ttl: float = DEFAULT_FOLDER_TTL,
        clock: Callable[[], float] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        check_http_url(server_url)
        check_concurrency(concurrency)
        self.server_url = server_url
        self.username = username
        self.timeout = timeout
        self.folder_cache: FolderCache[PublicFolder] = FolderCache(folder_ttl, clock)
        self._slots = asyncio.Semaphore(concurrency)
        self._client = exchange_client(
            headers=ews_headers(username, password),
            timeout=timeout,
            connections=concurrency,
            verify=verify,
            ca_file=ca_file,
            transport=transport,
        )

    @classmethod
    def from_config(
        cls,
        exchange: ExchangeConfig,
        *,
        folder_ttl: float = DEFAULT_FOLDER_TTL,
        timeout: float = 10.0,
    ) -> EwsContactSearch:
        """A search for the [exchange] section of the engine's configuration."""
        return cls(**exchange_login(exchange, "ews"), timeout=timeout, folder_ttl=folder_ttl)

    async def _find_folders(self) -> list[PublicFolder]:
        payload = await self._post(FIND_FOLDER_BODY)
        folders = parse_find_folder(payload)
        log.debug("public contact folders: %s", ", ".join(f.name for f in folders) or "none")
        return folders

    async def _search_folder(
        self, folder: PublicFolder, query: str, limit: int
    ) -> list[ContactHit]:
        async with self._slots:
            payload = await self._post(find_item_body(folder, query, limit))
        try:
            return parse_find_item(payload, folder)
        except SourceError as exc:
            if exc.code in _FOLDER_DENIED:
                log.warning("public folder %r skipped: %s", folder.name, exc)
                return []
            if exc.code in _FOLDER_GONE:
                log.warning("public folder %r is gone; re-reading the list next time", folder.name)
                self.folder_cache.invalidate()
                return []
            raise

    async def _post(self, body: bytes) -> etree._Element:
        """One EWS exchange: the answer's SOAP payload, or the ``SourceError`` it means."""
        try:
            response = await self._client.post(self.server_url, content=body)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self.server_url, self.timeout, None) from None
        status = response.status_code
        if status == 401:
            raise AccessDenied(
                f"service account credentials refused for {self.username}", code="HTTP 401"
            )
        if status in (200, 500):
            # 500 carries EWS's SOAP Faults; a 500 without one is IIS failing.
            try:
                payload = soap_payload(parse_xml(response.content), None)
            except SourceProtocolError:
                if status == 200:
                    raise
            else:
                if status == 200 or payload.tag == _FAULT:
                    return payload
        reason = response.reason_phrase or ""
        code = f"HTTP {status}"
        if status >= 500:
            raise SourceUnavailable(f"server error {reason}".strip(), code=code)
        if status == 403:
            raise AccessDenied(f"forbidden for {self.username}", code=code)
        if 300 <= status < 400:
            target = response.headers.get("location", "?")
            raise SourceProtocolError(
                f"redirected to {target}: is server_url the EWS URL?", code=code
            )
        if status == 404:
            raise SourceProtocolError(f"no EWS at {self.server_url}", code=code)
        raise SourceProtocolError(f"unexpected answer {reason}".strip(), code=code)
