"""Request builders and response readers for raw EWS tests."""

from __future__ import annotations

from lxml import etree

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
NS = {"s": S, "m": M, "t": T, "e": E}


def envelope(
    body: str,
    *,
    impersonate: str | None = None,
    principal: str | None = None,
    version: str | None = "Exchange2007_SP1",
    headers: str = "",
) -> str:
    """A SOAP envelope the way exchangelib writes one (prefixes s/m/t)."""
    head = ""
    if version:
        head += f'<t:RequestServerVersion Version="{version}"/>'
    if impersonate or principal:
        sid = ""
        if principal:
            sid += f"<t:PrincipalName>{principal}</t:PrincipalName>"
        if impersonate:
            sid += f"<t:PrimarySmtpAddress>{impersonate}</t:PrimarySmtpAddress>"
        head += f"<t:ExchangeImpersonation><t:ConnectingSID>{sid}</t:ConnectingSID></t:ExchangeImpersonation>"
    head += headers
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<s:Envelope xmlns:s="{S}" xmlns:m="{M}" '
        f'xmlns:t="{T}"><s:Header>{head}</s:Header><s:Body>{body}</s:Body></s:Envelope>'
    )


def distinguished(name: str, mailbox: str | None = None) -> str:
    inner = f"<t:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></t:Mailbox>" if mailbox else ""
    return f'<t:DistinguishedFolderId Id="{name}">{inner}</t:DistinguishedFolderId>'


def shape(base: str = "IdOnly", *fields: str, tag: str = "m:ItemShape") -> str:
    extra = ""
    if fields:
        paths = "".join(
            f'<t:IndexedFieldURI FieldURI="{f.split("#")[0]}" FieldIndex="{f.split("#")[1]}"/>'
            if "#" in f
            else f'<t:FieldURI FieldURI="{f}"/>'
            for f in fields
        )
        extra = f"<t:AdditionalProperties>{paths}</t:AdditionalProperties>"
    return f"<{tag}><t:BaseShape>{base}</t:BaseShape>{extra}</{tag}>"


def calendar_view(
    start: str,
    end: str,
    folder: str,
    *,
    fields: tuple[str, ...] = (),
    max_entries: int | None = None,
) -> str:
    limit = f' MaxEntriesReturned="{max_entries}"' if max_entries is not None else ""
    return (
        f'<m:FindItem Traversal="Shallow">{shape("IdOnly", *fields)}'
        f'<m:CalendarView{limit} StartDate="{start}" EndDate="{end}"/>'
        f"<m:ParentFolderIds>{folder}</m:ParentFolderIds></m:FindItem>"
    )


def parse(content: bytes) -> etree._Element:
    return etree.fromstring(content)


def messages(content: bytes) -> list[etree._Element]:
    """The *ResponseMessage elements of a response."""
    root = parse(content)
    return root.findall(".//m:ResponseMessages/*", NS)


def codes(content: bytes) -> list[str]:
    return [m.findtext("m:ResponseCode", namespaces=NS) or "" for m in messages(content)]


def fault_code(content: bytes) -> str | None:
    """detail/e:ResponseCode of a SOAP fault, None if the response is not a fault."""
    try:
        root = parse(content)
    except etree.XMLSyntaxError:
        return None
    fault = root.find("s:Body/s:Fault", NS)
    if fault is None:
        return None
    return fault.findtext("detail/e:ResponseCode", namespaces=NS)


def texts(element: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in element.findall(path, NS)]
