"""Contacts in EWS 2007 shape (writing, reading CreateItem bodies) and ResolveNames.

ResolveNames searches the directory (every mailbox of the organisation): one hit is
a Success, several a Warning ErrorNameResolutionMultipleResults with all of them,
none an Error ErrorNameResolutionNoResults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from simulators.exchange.ews.context import EwsCall
from simulators.exchange.ews.errors import ResponseError, error_message, success_message
from simulators.exchange.ews.itemxml import ITEM_DEFAULT, Kind, Out, Writer, item_writers
from simulators.exchange.ews.xmlkit import (
    Element,
    Sequence_,
    attr_bool,
    attr_enum,
    esc,
    local,
    m,
    new_element,
    t,
    text,
    words,
)
from simulators.exchange.model import Contact, Mailbox
from simulators.exchange.webdav.ical import item_mime

SubElement = etree.SubElement

PHONE_KEYS = frozenset(
    words(
        "AssistantPhone BusinessFax BusinessPhone BusinessPhone2 Callback CarPhone CompanyMainPhone "
        "HomeFax HomePhone HomePhone2 Isdn MobilePhone OtherFax OtherTelephone Pager PrimaryPhone "
        "RadioPhone Telex TtyTddPhone"
    )
)
EMAIL_KEYS = ("EmailAddress1", "EmailAddress2", "EmailAddress3")
SEARCH_SCOPES = (
    "ActiveDirectory",
    "ActiveDirectoryContacts",
    "Contacts",
    "ContactsActiveDirectory",
)


class ContactView:
    """A stored contact with the few facts the shared item writers need."""

    __slots__ = ("contact", "owner")

    def __init__(self, contact: Contact, owner: str | None) -> None:
        self.contact = contact
        self.owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.contact, name)

    @property
    def subject(self) -> str:
        return self.contact.file_as

    @property
    def body(self) -> str:
        return ""

    @property
    def created(self) -> datetime:
        return self.contact.created

    @property
    def model(self) -> Contact:
        return self.contact

    def mime_content(self, store: Any) -> bytes:
        return item_mime(self.contact)


def _opt_text(name: str, getter: Any) -> Writer:
    opening, closing = f"<t:{name}>", f"</t:{name}>"

    def write(parts: list[str], v: Any, out: Out) -> None:
        value = getter(v)
        if value:
            parts.append(opening + esc(value) + closing)

    return write


def _entries(name: str, entries: list[tuple[str, str]]) -> str:
    inner = "".join(f'<t:Entry Key="{key}">{esc(value)}</t:Entry>' for key, value in entries)
    return f"<t:{name}>{inner}</t:{name}>"


def _emails(parts: list[str], v: Any, out: Out) -> None:
    allowed = out.only.get("contacts:EmailAddresses")
    entries = [
        (key, address)
        for key, address in zip(EMAIL_KEYS, v.contact.emails, strict=False)
        if allowed is None or key in allowed
    ]
    if entries:
        parts.append(_entries("EmailAddresses", entries))


def _phones(parts: list[str], v: Any, out: Out) -> None:
    allowed = out.only.get("contacts:PhoneNumbers")
    entries = [
        (key, number)
        for key, number in v.contact.phones.items()
        if key in PHONE_KEYS and (allowed is None or key in allowed)
    ]
    if entries:
        parts.append(_entries("PhoneNumbers", entries))


def _complete_name(parts: list[str], v: Any, out: Out) -> None:
    c: Contact = v.contact
    first = f"<t:FirstName>{esc(c.given_name)}</t:FirstName>" if c.given_name else ""
    last = f"<t:LastName>{esc(c.surname)}</t:LastName>" if c.surname else ""
    parts.append(
        f"<t:CompleteName>{first}{last}<t:FullName>{esc(c.display_name)}</t:FullName>"
        "</t:CompleteName>"
    )


CONTACT = Kind(
    name="Contact",
    writers=tuple(
        item_writers("IPM.Contact")
        + [
            ("contacts:FileAs", _opt_text("FileAs", lambda v: v.contact.file_as)),
            ("contacts:DisplayName", _opt_text("DisplayName", lambda v: v.contact.display_name)),
            ("contacts:GivenName", _opt_text("GivenName", lambda v: v.contact.given_name)),
            ("contacts:CompleteName", _complete_name),
            ("contacts:CompanyName", _opt_text("CompanyName", lambda v: v.contact.company)),
            ("contacts:EmailAddresses", _emails),
            ("contacts:PhoneNumbers", _phones),
            ("contacts:ContactSource", _opt_text("ContactSource", lambda v: "Store")),
            ("contacts:Surname", _opt_text("Surname", lambda v: v.contact.surname)),
        ]
    ),
    default=ITEM_DEFAULT
    | {
        "contacts:FileAs",
        "contacts:DisplayName",
        "contacts:GivenName",
        "contacts:CompanyName",
        "contacts:EmailAddresses",
        "contacts:PhoneNumbers",
        "contacts:Surname",
    },
)

_CONTACT_ELEMENTS = words(
    "FileAs FileAsMapping DisplayName GivenName Initials MiddleName Nickname CompleteName "
    "CompanyName EmailAddresses PhysicalAddresses PhoneNumbers AssistantName Birthday "
    "BusinessHomePage Children Companies ContactSource Department Generation ImAddresses JobTitle "
    "Manager Mileage OfficeLocation PostalAddressIndex Profession SpouseName Surname "
    "WeddingAnniversary"
)
CONTACT_ITEM = Sequence_(*((f"t:{n}", 0, 1) for n in _CONTACT_ELEMENTS), lenient=True)
_ENTRY_LIST = Sequence_(("t:Entry", 1, -1))


def _read_entries(element: Element, keys: Any, type_name: str) -> dict[str, str]:
    _ENTRY_LIST.read(element)
    found: dict[str, str] = {}
    for entry in element:
        if isinstance(entry.tag, str):
            key = attr_enum(entry, "Key", keys, type_name, required=True) or ""
            found[key] = text(entry)
    return found


def read_contact(element: Element) -> dict[str, Any]:
    """The store fields of a Contact element (CreateItem)."""
    CONTACT_ITEM.read(element)
    fields: dict[str, Any] = {}
    simple = {
        "DisplayName": "display_name",
        "GivenName": "given_name",
        "Surname": "surname",
        "CompanyName": "company",
    }
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = local(child.tag)
        if name in simple:
            fields[simple[name]] = text(child)
        elif name == "EmailAddresses":
            emails = _read_entries(child, EMAIL_KEYS, "EmailAddressKeyType")
            fields["emails"] = [emails[k] for k in EMAIL_KEYS if k in emails]
        elif name == "PhoneNumbers":
            fields["phones"] = _read_entries(child, PHONE_KEYS, "PhoneNumberKeyType")
    if not fields.get("display_name"):
        joined = " ".join(p for p in (fields.get("given_name"), fields.get("surname")) if p)
        fields["display_name"] = joined
    return fields


# -------------------------------------------------------------- ResolveNames
_RESOLVE = Sequence_(("m:ParentFolderIds", 0, 1), ("m:UnresolvedEntry", 1, 1))


def _resolution(parent: Element, box: Mailbox, full: bool) -> None:
    node = SubElement(parent, t("Resolution"))
    mailbox = SubElement(node, t("Mailbox"))
    SubElement(mailbox, t("Name")).text = box.display_name
    SubElement(mailbox, t("EmailAddress")).text = box.smtp
    SubElement(mailbox, t("RoutingType")).text = "SMTP"
    SubElement(mailbox, t("MailboxType")).text = "Mailbox"
    if full:
        contact = SubElement(node, t("Contact"))
        SubElement(contact, t("DisplayName")).text = box.display_name
        emails = SubElement(contact, t("EmailAddresses"))
        SubElement(emails, t("Entry"), Key="EmailAddress1").text = f"SMTP:{box.smtp}"
        SubElement(contact, t("ContactSource")).text = "ActiveDirectory"


def resolve_names(call: EwsCall, request: Element) -> Element:
    kids = _RESOLVE.read(request)
    full = attr_bool(request, "ReturnFullContactData", required=True)
    attr_enum(request, "SearchScope", SEARCH_SCOPES, "ResolveNamesSearchScopeType")
    entry = text(kids.one("m:UnresolvedEntry"))
    messages = new_element(m("ResponseMessages"))
    hits = call.store.resolve_names(entry)[:100] if entry.strip() else []
    if not hits:
        messages.append(
            error_message(
                "ResolveNamesResponseMessage", ResponseError("ErrorNameResolutionNoResults")
            )
        )
        return messages
    if len(hits) == 1:
        message = success_message("ResolveNamesResponseMessage")
    else:
        message = error_message(
            "ResolveNamesResponseMessage",
            ResponseError("ErrorNameResolutionMultipleResults", response_class="Warning"),
        )
    found = SubElement(
        message,
        m("ResolutionSet"),
        TotalItemsInView=str(len(hits)),
        IncludesLastItemInRange="true",
    )
    for box in hits:
        _resolution(found, box, full)
    messages.append(message)
    return messages
