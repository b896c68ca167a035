"""The Exchange checks: log-in, server version, the rights the service account needs,
every PBX user's mailbox, one calendar read, the public folders.

Calendar reads go through the engine's own sources (``EwsCalendarSource``,
``WebDavCalendarSource``), so the doctor sees exactly what polling would; the
server's own error codes decide which right is missing. Advice names the Active
Directory rights and the Exchange 2007 Management Shell commands that grant them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from integration.config import ExchangeConfig
from integration.contacts import open_contact_search
from integration.doctor.report import Status, fail, ok
from integration.http import basic_authorization, exchange_client
from integration.sources.base import AccessDenied, MailboxNotFound, SourceError
from integration.sources.ews import EwsCalendarSource, ews_headers, parse_xml
from integration.sources.webdav import WebDavCalendarSource

Verdict = tuple[Status, str, str]
CalendarSource = EwsCalendarSource | WebDavCalendarSource

NS_T = "http://schemas.microsoft.com/exchange/services/2006/types"
_PROBE = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
    b' xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"'
    b' xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
    b'<s:Header><t:RequestServerVersion Version="Exchange2007_SP1"/></s:Header><s:Body>'
    b"<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    b'<m:FolderIds><t:DistinguishedFolderId Id="publicfoldersroot"/></m:FolderIds>'
    b"</m:GetFolder></s:Body></s:Envelope>"
)
_SERVICE_PACKS = {0: "RTM", 1: "SP1", 2: "SP2", 3: "SP3"}
SERVER_RIGHT = "ms-Exch-EPI-Impersonation"
MAILBOX_RIGHT = "ms-Exch-EPI-May-Impersonate"


def grant_server_right(account: str) -> str:
    return (
        f"grant the service account the AD right {SERVER_RIGHT} on every Client Access "
        "server (Exchange Management Shell: Get-ExchangeServer | where {$_.IsClientAccessServer "
        f"-eq $TRUE}} | ForEach-Object {{Add-ADPermission -Identity $_.DistinguishedName "
        f"-User {account} -ExtendedRights {SERVER_RIGHT}}})"
    )


def grant_mailbox_right(account: str, mailboxes: str = "") -> str:
    target = f" (for {mailboxes})" if mailboxes else ""
    return (
        f"grant the service account the AD right {MAILBOX_RIGHT} on the mailbox database"
        f"{target} (Get-MailboxDatabase | ForEach-Object {{Add-ADPermission -Identity "
        f"$_.DistinguishedName -User {account} -ExtendedRights {MAILBOX_RIGHT}}}), or on "
        f"each user (Add-ADPermission -Identity <user> -User {account} -ExtendedRights "
        f"{MAILBOX_RIGHT})"
    )


def grant_full_access(account: str, mailboxes: str = "") -> str:
    if "," in mailboxes:  # several: the command takes one identity at a time
        return (
            f"give the service account FullAccess to {mailboxes} (Exchange Management Shell, "
            f"for each: Add-MailboxPermission -Identity <mailbox> -User {account} "
            "-AccessRights FullAccess)"
        )
    who = mailboxes or "<mailbox>"
    return (
        f"give the service account FullAccess to {who} (Exchange Management Shell: "
        f"Add-MailboxPermission -Identity {who} -User {account} -AccessRights FullAccess)"
    )


@dataclass
class ExchangeState:
    """What earlier Exchange checks found, for the later ones."""

    exchange: ExchangeConfig
    timeout: float
    source: CalendarSource
    target: str | None = None  # the mailbox the rights and the calendar are checked on
    target_error: SourceError | None = None
    probe: httpx.Response | None = None
    readable: list[str] = field(default_factory=list)

    @property
    def account(self) -> str:
        return self.exchange.username.split("@", 1)[0]


def open_source(exchange: ExchangeConfig, timeout: float) -> CalendarSource:
    ca_file = str(exchange.ca_file) if exchange.ca_file else None
    kind = WebDavCalendarSource if exchange.variant == "webdav" else EwsCalendarSource
    return kind(
        exchange.server_url,
        exchange.username,
        exchange.password,
        verify=exchange.verify_tls,
        ca_file=ca_file,
        timeout=timeout,
        concurrency=10,
    )


async def _probe(state: ExchangeState) -> httpx.Response:
    """One request as the service account itself (no mailbox): GetFolder of the public
    folder root over EWS, a GET of the /exchange/ root over WebDAV."""
    exchange = state.exchange
    if exchange.variant == "ews":
        headers = ews_headers(exchange.username, exchange.password)
    else:
        headers = {"Authorization": basic_authorization(exchange.username, exchange.password)}
    async with exchange_client(
        headers=headers,
        timeout=state.timeout,
        connections=1,
        verify=exchange.verify_tls,
        ca_file=str(exchange.ca_file) if exchange.ca_file else None,
    ) as client:
        if exchange.variant == "ews":
            return await client.post(exchange.server_url, content=_PROBE)
        return await client.get(exchange.server_url)


async def authentication(state: ExchangeState) -> Verdict:
    exchange = state.exchange
    who = exchange.username
    fix_login = (
        "check [exchange] username and password; the account must be able to log in "
        "(not disabled or locked out, password not expired); give it as the UPN "
        "(OSOMX@domain.net) or DOMAIN\\OSOMX"
    )
    try:
        state.probe = response = await _probe(state)
    except httpx.HTTPError as exc:
        return fail(f"no answer from {exchange.server_url} ({exc})", "see the checks above")
    if response.status_code == 401:
        return fail(f"the server refused the log-in of {who} (HTTP 401)", fix_login)
    if response.status_code == 404:
        path = "/EWS/Exchange.asmx" if exchange.variant == "ews" else "/exchange/"
        return fail(
            f"nothing at {exchange.server_url} (HTTP 404)",
            f"set [exchange] server_url to https://<server>{path}",
        )
    if exchange.variant == "webdav":
        # Forms-based log-in (OWA) answers the probe with its log-on page; the source
        # logs in the way polling does.
        if state.target is not None and isinstance(state.source, WebDavCalendarSource):
            try:
                await state.source.calendar_folder(state.target)
            except AccessDenied as exc:
                if "credentials refused" in exc.message:
                    return fail(f"the server refused the log-in of {who} ({exc.code})", fix_login)
                state.target_error = exc
            except SourceError as exc:
                state.target_error = exc
        mode = getattr(state.source, "auth_mode", None) or "basic"
        return ok(f"{who} logs in ({mode} authentication)")
    if response.status_code >= 400 and response.status_code != 500:
        return fail(
            f"{exchange.server_url} answered HTTP {response.status_code}",
            "check that server_url is the Exchange server's EWS URL",
        )
    return ok(f"{who} logs in (HTTP Basic)")


async def server_version(state: ExchangeState) -> Verdict:
    response = state.probe
    assert response is not None
    if state.exchange.variant == "webdav":
        said = [
            f"{name}: {response.headers[name]}"
            for name in ("Server", "X-OWA-Version", "MS-Author-Via")
            if name in response.headers
        ]
        if not said:
            return fail(
                "the server does not say what it is",
                "check that server_url is the /exchange/ URL of an Exchange 2007 server",
            )
        return ok("the server says " + "; ".join(said))
    try:
        root = parse_xml(response.content)
    except SourceError as exc:
        return fail(f"not a SOAP answer ({exc.message})", "server_url must be Exchange's EWS URL")
    info = root.find(f".//{{{NS_T}}}ServerVersionInfo")
    if info is None:
        return fail(
            "the answer has no ServerVersionInfo header",
            "check that server_url is /EWS/Exchange.asmx of an Exchange 2007 server",
        )
    major, minor = int(info.get("MajorVersion", "0")), int(info.get("MinorVersion", "0"))
    build = ".".join(
        info.get(a, "?")
        for a in ("MajorVersion", "MinorVersion", "MajorBuildNumber", "MinorBuildNumber")
    )
    if major < 8:
        return fail(f"version {build} has no EWS", "EWS needs Exchange 2007 or later")
    if major == 8:
        return ok(f"Exchange 2007 {_SERVICE_PACKS.get(minor, f'SP{minor}')} ({build})")
    return ok(f"Exchange {build}, newer than 2007 (the engine asks for Exchange2007_SP1)")


async def _read_target(state: ExchangeState) -> SourceError | None:
    if state.target is None:
        return None
    if state.target_error is None and state.target not in state.readable:
        start = datetime.now(UTC)
        try:
            await state.source.read(state.target, start, start + timedelta(days=1))
            state.readable.append(state.target)
        except SourceError as exc:
            state.target_error = exc
    return state.target_error


async def impersonation_server(state: ExchangeState) -> Verdict:
    if state.target is None:
        return fail(
            "no mailbox to try impersonation on",
            "give --mailbox ADDRESS, or give a PBX user an e-mail address",
        )
    error = await _read_target(state)
    if error is not None and error.code == "ErrorImpersonationDenied":
        return fail(
            f"{state.exchange.username} may not impersonate anyone (ErrorImpersonationDenied)",
            grant_server_right(state.account),
        )
    if error is not None and error.code not in {
        "ErrorImpersonateUserDenied",
        "ErrorNonExistentMailbox",
    }:
        return fail(f"reading {state.target} failed: {error}", "see the server's words")
    return ok(f"{SERVER_RIGHT} granted")


async def impersonation_mailbox(state: ExchangeState) -> Verdict:
    error = await _read_target(state)
    if error is not None and error.code == "ErrorNonExistentMailbox":
        return fail(
            f"{state.target} has no mailbox (ErrorNonExistentMailbox)",
            "give --mailbox an address that has a mailbox",
        )
    if error is not None:
        return fail(
            f"{state.exchange.username} may not impersonate {state.target} ({error.code})",
            grant_mailbox_right(state.account),
        )
    return ok(f"{MAILBOX_RIGHT} granted on {state.target}")


async def full_access(state: ExchangeState) -> Verdict:
    error = await _read_target(state)
    if isinstance(error, MailboxNotFound):
        return fail(
            f"{state.target} has no mailbox ({error.code})",
            "give --mailbox an address that has a mailbox",
        )
    if error is not None:
        return fail(
            f"{state.exchange.username} may not open {state.target} ({error.code})",
            grant_full_access(state.account, state.target or ""),
        )
    return ok(f"FullAccess to {state.target}")


async def mailboxes(state: ExchangeState, addresses: list[str], no_address: list[str]) -> Verdict:
    """Every PBX user's mailbox, read the way polling reads it."""
    start = datetime.now(UTC)
    denied: list[str] = []
    missing: list[str] = []
    other: list[str] = []
    for address in addresses:
        try:
            await state.source.read(address, start, start + timedelta(days=1))
        except AccessDenied as exc:
            denied.append(f"{address} ({exc.code})")
            continue
        except MailboxNotFound as exc:
            missing.append(f"{address} ({exc.code})")
            continue
        except SourceError as exc:
            other.append(f"{address} ({exc})")
            continue
        if address not in state.readable:
            state.readable.append(address)
    unpolled = ""
    if no_address:
        many = len(no_address) > 1
        unpolled = (
            f"; {len(no_address)} PBX user{'s' if many else ''} without an e-mail address "
            f"{'are' if many else 'is'} not polled ({', '.join(no_address)})"
        )
    if not (denied or missing or other):
        return ok(f"all {len(addresses)} PBX users' mailboxes open{unpolled}")
    parts, advice = [], []
    if denied:
        parts.append("may not open " + ", ".join(denied))
        names = ", ".join(d.split(" ", 1)[0] for d in denied)
        advice.append(
            grant_mailbox_right(state.account, names)
            if state.exchange.variant == "ews"
            else grant_full_access(state.account, names)
        )
    if missing:
        parts.append("no mailbox for " + ", ".join(missing))
        advice.append("correct those users' e-mail addresses on the PBX, or create the mailboxes")
    if other:
        parts.append("failed: " + ", ".join(other))
    failing = len(denied) + len(missing) + len(other)
    return fail(
        f"{failing} of {len(addresses)} mailboxes cannot be read: " + "; ".join(parts) + unpolled,
        "; ".join(advice) or "see the server's words",
    )


async def calendar_read(state: ExchangeState) -> Verdict:
    if not state.readable:
        return fail("no mailbox could be read", "see the checks above")
    mailbox = state.target if state.target in state.readable else state.readable[0]
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        found = await state.source.read(mailbox, start, start + timedelta(days=7))
    except SourceError as exc:
        return fail(f"reading {mailbox} failed: {exc}", "see the server's words")
    series = sum(1 for a in found if a.kind in ("occurrence", "exception"))
    return ok(
        f"{mailbox}: {len(found)} appointments in the next 7 days, {series} of them "
        "occurrences of recurring series (expanded by the server)"
    )


async def public_folders(state: ExchangeState) -> Verdict:
    search = open_contact_search(state.exchange, timeout=state.timeout)
    try:
        folders = await search.folders()
    except SourceError as exc:
        return fail(
            f"the public folders cannot be listed: {exc}",
            "give the service account at least read access to the public folders "
            "(Add-PublicFolderClientPermission -Identity \\ -User "
            f"{state.account} -AccessRights Reviewer)",
        )
    finally:
        await search.aclose()
    names = ", ".join(sorted(f.name for f in folders)) or "none"
    return ok(f"{len(folders)} first-level folders: {names}")


__all__ = [
    "ExchangeState",
    "authentication",
    "calendar_read",
    "full_access",
    "grant_full_access",
    "grant_mailbox_right",
    "grant_server_right",
    "impersonation_mailbox",
    "impersonation_server",
    "mailboxes",
    "open_source",
    "public_folders",
    "server_version",
]
