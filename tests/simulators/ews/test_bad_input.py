"""Malformed and hostile requests: each gets the right HTTP status and error code,
never a traceback or a hang."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

from tests.conftest import ALICE, SERVICE_PASSWORD, SERVICE_USER, EwsServer
from tests.simulators.ews.soap import M, S, T, codes, distinguished, envelope, fault_code, shape

CAL = distinguished("calendar", ALICE)
GOOD_VIEW = '<m:CalendarView StartDate="2026-03-16T00:00:00Z" EndDate="2026-03-17T00:00:00Z"/>'


def find(
    view: str = GOOD_VIEW,
    folder: str = CAL,
    traversal: str = ' Traversal="Shallow"',
    item_shape: str = "",
) -> str:
    return (
        f"<m:FindItem{traversal}>{item_shape or shape()}{view}"
        f"<m:ParentFolderIds>{folder}</m:ParentFolderIds></m:FindItem>"
    )


GOOD = envelope(find())
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + f']><s:Envelope xmlns:s="{S}"><s:Body>&lol9;</s:Body></s:Envelope>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    + GOOD.split("?>", 1)[1]
    .replace("<m:FindItem", "<m:FindItem>&xxe;<m:X")
    .replace("</m:FindItem>", "</m:X></m:FindItem>")
)


@dataclass
class Case:
    name: str
    body: bytes | str = GOOD
    status: int = 500
    fault: str | None = None  # detail/e:ResponseCode of a SOAP fault
    code: str | None = None  # per-message ResponseCode of an HTTP 200
    auth: tuple[str, str] | None = (SERVICE_USER, SERVICE_PASSWORD)
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    path: str = "/EWS/Exchange.asmx"


CASES = [
    Case("well-formed control", status=200, code="NoError"),
    Case("truncated XML", GOOD[: len(GOOD) // 2], fault="ErrorSchemaValidation"),
    Case("empty body", b"", fault="ErrorSchemaValidation"),
    Case("whitespace only", b"  \n ", fault="ErrorSchemaValidation"),
    Case("not XML", b"hello exchange", fault="ErrorSchemaValidation"),
    Case(
        "invalid UTF-8",
        GOOD.encode().replace(b"Shallow", b"Sh\xff\xfe"),
        fault="ErrorSchemaValidation",
    ),
    Case("XXE external entity", XXE, fault="ErrorSchemaValidation"),
    Case("billion laughs", LAUGHS, fault="ErrorSchemaValidation"),
    Case(
        "internal DTD without entities",
        "<!DOCTYPE x []>" + GOOD.split("?>", 1)[1],
        fault="ErrorSchemaValidation",
    ),
    Case(
        "excessive nesting",
        GOOD.replace("<s:Body>", "<s:Body>" + "<a>" * 3000).replace(
            "</s:Body>", "</a>" * 3000 + "</s:Body>"
        ),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "SOAP 1.2 envelope namespace",
        GOOD.replace(S, "http://www.w3.org/2003/05/soap-envelope"),
        fault="ErrorSchemaValidation",
    ),
    Case("root is not an envelope", f'<m:FindItem xmlns:m="{M}"/>', fault="ErrorSchemaValidation"),
    Case(
        "no Body",
        f'<s:Envelope xmlns:s="{S}"><s:Header/></s:Envelope>',
        fault="ErrorSchemaValidation",
    ),
    Case("empty Body", envelope(""), fault="ErrorSchemaValidation"),
    Case("two operations in Body", envelope(find() + find()), fault="ErrorSchemaValidation"),
    Case(
        "Body before Header",
        GOOD.replace("<s:Header>", "<s:Body/><s:Header>"),
        fault="ErrorSchemaValidation",
    ),
    Case("unknown operation", envelope("<m:MakeCoffee/>"), fault="ErrorInvalidRequest"),
    Case(
        "operation in the types namespace",
        envelope(find().replace("m:FindItem", "t:FindItem")),
        fault="ErrorInvalidRequest",
    ),
    Case(
        "operation without namespace",
        envelope(
            find()
            .replace("<m:FindItem", '<FindItem xmlns=""')
            .replace("</m:FindItem>", "</FindItem>")
        ),
        fault="ErrorInvalidRequest",
    ),
    Case(
        "EWS operation this server lacks",
        envelope("<m:SyncFolderItems/>"),
        fault="ErrorInvalidRequest",
    ),
    Case(
        "wrong element order",
        envelope(
            f'<m:FindItem Traversal="Shallow"><m:ParentFolderIds>{CAL}</m:ParentFolderIds>{shape()}{GOOD_VIEW}</m:FindItem>'
        ),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "missing ItemShape",
        envelope(find(item_shape="<m:Nothing/>").replace("<m:Nothing/>", "").replace(shape(), "")),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "unexpected element",
        envelope(find(view=GOOD_VIEW + "<m:Bogus/>")),
        fault="ErrorSchemaValidation",
    ),
    Case("missing Traversal", envelope(find(traversal="")), fault="ErrorSchemaValidation"),
    Case(
        "Deep traversal of items",
        envelope(find(traversal=' Traversal="Deep"')),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "StartDate not a date",
        envelope(
            find(view='<m:CalendarView StartDate="tomorrow" EndDate="2026-03-17T00:00:00Z"/>')
        ),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "date without time",
        envelope(
            find(view='<m:CalendarView StartDate="2026-03-16" EndDate="2026-03-17T00:00:00Z"/>')
        ),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "impossible date",
        envelope(
            find(
                view='<m:CalendarView StartDate="2026-02-30T00:00:00Z" EndDate="2026-03-17T00:00:00Z"/>'
            )
        ),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "MaxEntriesReturned not a number",
        envelope(
            find(
                view=GOOD_VIEW.replace(
                    "<m:CalendarView", '<m:CalendarView MaxEntriesReturned="many"'
                )
            )
        ),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "unknown BaseShape",
        envelope(find(item_shape=shape("Everything"))),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "unknown FieldURI",
        envelope(find(item_shape=shape("IdOnly", "calendar:Mood"))),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "unknown distinguished folder",
        envelope(find(folder='<t:DistinguishedFolderId Id="attic"/>')),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "DeleteItem without DeleteType",
        envelope('<m:DeleteItem><m:ItemIds><t:ItemId Id="AAMkx"/></m:ItemIds></m:DeleteItem>'),
        fault="ErrorSchemaValidation",
    ),
    Case(
        "server version from the future",
        envelope(find(), version="Exchange2010_SP1"),
        fault="ErrorInvalidServerVersion",
    ),
    Case(
        "empty ConnectingSID",
        envelope(
            find(), headers="<t:ExchangeImpersonation><t:ConnectingSID/></t:ExchangeImpersonation>"
        ),
        fault="ErrorInvalidExchangeImpersonationHeaderData",
    ),
    Case(
        "impersonating by SID",
        envelope(
            find(),
            headers="<t:ExchangeImpersonation><t:ConnectingSID><t:SID>S-1-5-21-1</t:SID>"
            "</t:ConnectingSID></t:ExchangeImpersonation>",
        ),
        fault="ErrorImpersonationFailed",
    ),
    Case(
        "impersonating an unknown address",
        envelope(find(), impersonate="ghost@w03ex07.net"),
        fault="ErrorNonExistentMailbox",
    ),
    Case(
        "impersonation without the right",
        envelope(find(), impersonate="carol@w03ex07.net"),
        fault="ErrorImpersonateUserDenied",
    ),
    Case(
        "user impersonating without server right",
        envelope(find(), impersonate=ALICE),
        fault="ErrorImpersonationDenied",
        auth=("bob@w03ex07.net", "bobpw"),
    ),
    Case(
        "huge CalendarView range",
        envelope(
            find(
                view='<m:CalendarView StartDate="1900-01-01T00:00:00Z" EndDate="2999-01-01T00:00:00Z"/>'
            )
        ),
        status=200,
        code="ErrorCalendarViewRangeTooBig",
    ),
    Case(
        "unknown folder id",
        envelope(find(folder='<t:FolderId Id="AAMkAAAAAAAAAAAAAAAAAAAAAAAAAAAA"/>')),
        status=200,
        code="ErrorFolderNotFound",
    ),
    Case(
        "malformed folder id",
        envelope(find(folder='<t:FolderId Id="../../etc/passwd"/>')),
        status=200,
        code="ErrorInvalidIdMalformed",
    ),
    Case(
        "other mailbox without FullAccess",
        envelope(find()),
        status=200,
        code="ErrorAccessDenied",
        auth=("bob@w03ex07.net", "bobpw"),
    ),
    Case(
        "unknown mailbox in folder id",
        envelope(find(folder=distinguished("calendar", "ghost@w03ex07.net"))),
        status=200,
        code="ErrorNonExistentMailbox",
    ),
    Case(
        "unknown header with mustUnderstand",
        envelope(
            find(),
            headers=f'<x:Tracking xmlns:x="urn:x" s:mustUnderstand="1" xmlns:s="{S}">1</x:Tracking><t:TimeZoneContext><t:TimeZoneDefinition Id="UTC"/></t:TimeZoneContext>',
        ),
        status=200,
        code="NoError",
    ),
    Case("missing credentials", auth=None, status=401),
    Case("wrong password", auth=(SERVICE_USER, "guess"), status=401),
    Case("unknown user", auth=("mallory@w03ex07.net", "secret"), status=401),
    Case(
        "NTLM token instead of Basic",
        auth=None,
        headers={"Authorization": "NTLM TlRMTVNTUAABAAAAB4IIogAAAAA="},
        status=401,
    ),
    Case("garbled Basic token", auth=None, headers={"Authorization": "Basic ***"}, status=401),
    Case("GET instead of POST", b"", method="GET", status=405),
    Case("PUT instead of POST", method="PUT", status=405),
    Case("JSON content type", headers={"Content-Type": "application/json"}, status=415),
    Case(
        "form content type",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        status=415,
    ),
    Case(
        "request too large",
        envelope(find()).replace("<s:Header>", "<s:Header>" + " " * (3 * 1024 * 1024)),
        status=413,
    ),
    Case("unknown path", path="/EWS/Other.asmx", status=404),
    Case("path in other case", path="/ews/EXCHANGE.ASMX", status=200, code="NoError"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(ews: EwsServer, case: Case) -> None:
    started = time.monotonic()
    response = ews.post(
        case.body, auth=case.auth, headers=case.headers, method=case.method, path=case.path
    )
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert response.status_code == case.status, response.text[:500]
    assert b"Traceback" not in response.content
    assert fault_code(response.content) == case.fault
    if case.code is not None:
        assert codes(response.content) == [case.code]
    if case.status == 401:
        assert response.headers["WWW-Authenticate"] == 'Basic realm="127.0.0.1"'
    if case.name == "XXE external entity":
        assert b"root:" not in response.content
    entry = ews.site.journal.entries()[-1]
    assert entry.status == case.status
    assert entry.fault == (case.fault or ("ServiceUnavailable" if case.status == 503 else None))


def test_there_are_enough_hostile_cases() -> None:
    assert len([c for c in CASES if c.status != 200 or c.code != "NoError"]) >= 30


def test_fault_shape_is_exactly_exchange_2007(ews: EwsServer) -> None:
    response = ews.post(envelope(find(), impersonate="carol@w03ex07.net"))
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content == (
        b"<?xml version='1.0' encoding='utf-8'?>\n"
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        b'<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">'
        b"a:ErrorImpersonateUserDenied</faultcode>"
        b'<faultstring xml:lang="en-US">The account does not have permission to impersonate '
        b"the requested user.</faultstring><detail>"
        b'<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        b"ErrorImpersonateUserDenied</e:ResponseCode>"
        b'<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        b"The account does not have permission to impersonate the requested user.</e:Message>"
        b"</detail></s:Fault></s:Body></s:Envelope>"
    )


def test_non_existent_mailbox_fault_names_the_address(ews: EwsServer) -> None:
    content = ews.post(envelope(find(), impersonate="ghost@w03ex07.net")).content
    assert (
        f'<t:MessageXml xmlns:t="{T}"><t:Value Name="SmtpAddress">ghost@w03ex07.net'
        "</t:Value></t:MessageXml></detail>"
    ).encode() in content


def test_schema_fault_carries_line_and_violation(ews: EwsServer) -> None:
    content = ews.post(envelope(find(traversal=' Traversal="Deep"'))).content
    assert (
        b"<faultstring xml:lang=\"en-US\">The request failed schema validation: The 'Traversal'"
        in content
    )
    assert b"<t:LineNumber>2</t:LineNumber>" in content
    assert b"The Enumeration constraint failed.</t:Violation>" in content


def test_principal_name_impersonation(ews: EwsServer) -> None:
    response = ews.post(envelope(find(), principal=ALICE))
    assert codes(response.content) == ["NoError"]
    assert ews.site.journal.entries()[-1].impersonated == ALICE
