"""The PBX client (myPortal) writing a presence into Exchange: ``client_set_presence``.

The client does what its "Exchange Calendar Integration" option does: it creates an
appointment in the user's calendar, over the run's protocol, as the service account,
through the same gate as the engine (so faults and restarts apply) - EWS CreateItem
through ExchangeImpersonation, or WebDAV PROPPATCH of a new ``.EML`` in the calendar
folder (found with PROPFIND, logging in with forms when the site asks for it) - and
sets the presence at the PBX as the client (``set_by`` client, like ``set_presence``).
A write Exchange refuses is told on the timeline; the presence is set anyway, as the
client sets it at the PBX whatever Exchange says.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import httpx

from integration.http import exchange_client
from integration.sources.base import SourceError
from integration.sources.ews import NS_M, NS_SOAP, NS_T, parse_xml
from integration.sources.owa_auth import WebDavAuth, rejection
from integration.sources.webdav_xml import PROPFIND_CALENDAR, parse_calendar_folder
from scenarios.format.clientsteps import ClientSetPresence
from scenarios.format.model import Scenario
from simulators.pbx import Pbx

Note = Callable[[datetime, str], None]
CLIENT = "client"  # set_by of the client's presence (as set_presence steps)
TIMEOUT = 5.0


class ClientWriteError(Exception):
    """Exchange refused the client's appointment."""


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ews_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_item_body(mailbox: str, subject: str, start: datetime, end: datetime) -> bytes:
    """EWS CreateItem of a calendar item in ``mailbox``'s calendar, impersonating it."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:m="{NS_M}" xmlns:t="{NS_T}"><s:Header>'
        '<t:RequestServerVersion Version="Exchange2007_SP1"/>'
        "<t:ExchangeImpersonation><t:ConnectingSID>"
        f"<t:PrimarySmtpAddress>{_xml(mailbox)}</t:PrimarySmtpAddress>"
        "</t:ConnectingSID></t:ExchangeImpersonation></s:Header><s:Body>"
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId>'
        '<t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items>'
        f"<t:CalendarItem><t:Subject>{_xml(subject)}</t:Subject>"
        f"<t:Start>{_ews_time(start)}</t:Start><t:End>{_ews_time(end)}</t:End>"
        "<t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus></t:CalendarItem>"
        "</m:Items></m:CreateItem></s:Body></s:Envelope>"
    ).encode()


def proppatch_body(subject: str, start: datetime, end: datetime) -> bytes:
    """A PROPPATCH that creates an appointment (DAV:contentclass and message class set)."""
    stamp = "%Y-%m-%dT%H:%M:%S.000Z"
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<a:propertyupdate xmlns:a="DAV:" xmlns:e="urn:schemas:httpmail:" '
        'xmlns:d="urn:schemas:calendar:" xmlns:x="http://schemas.microsoft.com/exchange/" '
        'xmlns:b="urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/"><a:set><a:prop>'
        "<a:contentclass>urn:content-classes:appointment</a:contentclass>"
        "<x:outlookmessageclass>IPM.Appointment</x:outlookmessageclass>"
        f"<e:subject>{_xml(subject)}</e:subject>"
        f'<d:dtstart b:dt="dateTime.tz">{start.astimezone(UTC).strftime(stamp)}</d:dtstart>'
        f'<d:dtend b:dt="dateTime.tz">{end.astimezone(UTC).strftime(stamp)}</d:dtend>'
        "<d:busystatus>BUSY</d:busystatus>"
        '<d:alldayevent b:dt="boolean">0</d:alldayevent>'
        "</a:prop></a:set></a:propertyupdate>"
    ).encode()


class ClientSide:
    """``client_set_presence`` steps of one run; see the module docstring."""

    def __init__(
        self,
        scenario: Scenario,
        variant: str,
        base: str,
        ca_file: str | None,
        pbx: Pbx,
        *,
        note: Note,
    ) -> None:
        self.scenario = scenario
        self.variant = variant
        self.base = base  # https://host:port of the site, through the run's gate
        self.ca_file = ca_file
        self.pbx = pbx
        self.note = note

    async def set_presence(self, step: ClientSetPresence) -> None:
        try:
            await self.write(step)
        except (ClientWriteError, SourceError, httpx.HTTPError) as exc:
            self.note(step.at, f"client: the appointment for {step.user} was not written: {exc}")
        else:
            self.note(
                step.at,
                f"client: wrote {step.subject!r} into {step.mailbox}'s calendar over "
                f"{self.variant} (until {step.end.astimezone(self.scenario.timezone):%H:%M:%S})",
            )
        self.pbx.set_presence(
            step.user,
            step.status,
            step.end,
            set_by=CLIENT,
            reason="client_set_presence step",  # type: ignore[arg-type]
        )

    async def write(self, step: ClientSetPresence) -> None:
        svc = self.scenario.seed.service_account
        async with exchange_client(
            headers={"User-Agent": "myPortal (harness client)"},
            timeout=TIMEOUT,
            connections=2,
            ca_file=self.ca_file,
        ) as client:
            if self.variant == "webdav":
                await self._proppatch(client, svc.user, svc.password, step)
            else:
                await self._create_item(client, svc.user, svc.password, step)

    async def _create_item(
        self, client: httpx.AsyncClient, user: str, password: str, step: ClientSetPresence
    ) -> None:
        response = await client.post(
            self.base + "/EWS/Exchange.asmx",
            content=create_item_body(step.mailbox, step.subject, step.at, step.end),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            auth=(user, password),
        )
        root = parse_xml(response.content, step.mailbox) if response.content else None
        if root is None:
            raise ClientWriteError(f"CreateItem answered HTTP {response.status_code}")
        message = root.find(f".//{{{NS_M}}}CreateItemResponseMessage")
        if message is None or message.get("ResponseClass") != "Success":
            code = root.findtext(f".//{{{NS_M}}}ResponseCode") or root.findtext(".//faultstring")
            raise ClientWriteError(
                f"CreateItem refused: {code or 'no response message'} (HTTP {response.status_code})"
            )

    async def _proppatch(
        self, client: httpx.AsyncClient, user: str, password: str, step: ClientSetPresence
    ) -> None:
        root = self.base + "/exchange/"
        auth = WebDavAuth(root, user, password, timeout=TIMEOUT, login_retry_delay=0)
        mailbox_url = root + quote(step.mailbox, safe="@") + "/"
        found = await self._dav(
            client, auth, "PROPFIND", mailbox_url, step.mailbox, PROPFIND_CALENDAR, {"Depth": "0"}
        )
        if found.status_code != 207:
            raise ClientWriteError(f"PROPFIND {mailbox_url} answered HTTP {found.status_code}")
        calendar = parse_calendar_folder(found.content, step.mailbox)
        if calendar is None:
            raise ClientWriteError(f"{step.mailbox} has no calendar folder")
        path = urlsplit(calendar).path if "://" in calendar else calendar
        item = self.base + path.rstrip("/") + f"/{uuid.uuid4().hex.upper()}.EML"
        body = proppatch_body(step.subject, step.at, step.end)
        written = await self._dav(client, auth, "PROPPATCH", item, step.mailbox, body, {})
        if written.status_code != 207 or b"201 Created" not in written.content:
            raise ClientWriteError(f"PROPPATCH {item} answered HTTP {written.status_code}")

    @staticmethod
    async def _dav(
        client: httpx.AsyncClient,
        auth: WebDavAuth,
        method: str,
        url: str,
        mailbox: str,
        body: bytes,
        headers: dict[str, str],
    ) -> httpx.Response:
        """One WebDAV request with Basic or forms credentials, renewed once if refused."""
        sent = {"Content-Type": 'text/xml; charset="utf-8"', **headers}
        credentials = await auth.credentials(client, mailbox)
        response = await client.request(
            method, url, content=body, headers={**sent, **credentials.headers}
        )
        reason = rejection(response, credentials)
        if reason is not None:
            credentials = await auth.renew(client, credentials, reason, mailbox)
            response = await client.request(
                method, url, content=body, headers={**sent, **credentials.headers}
            )
        return response


__all__ = ["CLIENT", "ClientSide", "ClientWriteError", "create_item_body", "proppatch_body"]
