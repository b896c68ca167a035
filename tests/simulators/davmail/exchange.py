"""What the served store holds, read over the served EWS endpoint with the service
account (impersonation), so the DavMail tests check the one store behind both of
DavMail's modes without reaching into the ``harness serve`` process."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from lxml import etree

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
NS = {"s": S, "m": M, "t": T}


@dataclass(frozen=True)
class StoredItem:
    subject: str
    start: datetime | None
    end: datetime | None
    location: str
    item_type: str  # CalendarItemType, or the element name for other items


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


class ServedExchange:
    """FindItem over the served EWS endpoint, as the service account."""

    def __init__(self, ews_url: str, ca: Path, user: str, password: str) -> None:
        self.url = ews_url
        self.client = httpx.Client(
            auth=(user, password), verify=ssl.create_default_context(cafile=str(ca)), timeout=30
        )

    def close(self) -> None:
        self.client.close()

    def _find(self, mailbox: str, folder: str, fields: tuple[str, ...]) -> list[etree._Element]:
        paths = "".join(f'<t:FieldURI FieldURI="{f}"/>' for f in fields)
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{S}" xmlns:m="{M}" '
            f'xmlns:t="{T}"><s:Header><t:RequestServerVersion Version="Exchange2007_SP1"/>'
            "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>"
            f"{mailbox}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>"
            '</s:Header><s:Body><m:FindItem Traversal="Shallow"><m:ItemShape>'
            f"<t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>{paths}"
            "</t:AdditionalProperties></m:ItemShape>"
            '<m:IndexedPageItemView MaxEntriesReturned="500" Offset="0" BasePoint="Beginning"/>'
            f'<m:ParentFolderIds><t:DistinguishedFolderId Id="{folder}"/></m:ParentFolderIds>'
            "</m:FindItem></s:Body></s:Envelope>"
        )
        response = self.client.post(
            self.url, content=body, headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        response.raise_for_status()
        root = etree.fromstring(response.content)
        code = root.findtext(".//m:ResponseCode", namespaces=NS)
        assert code == "NoError", response.text[:500]
        return list(root.find(".//t:Items", NS))

    def calendar(self, mailbox: str) -> list[StoredItem]:
        """Singles and series masters of a mailbox's calendar."""
        rows = self._find(
            mailbox,
            "calendar",
            (
                "item:Subject",
                "calendar:Start",
                "calendar:End",
                "calendar:Location",
                "calendar:CalendarItemType",
            ),
        )
        return [
            StoredItem(
                row.findtext("t:Subject", "", NS),
                _when(row.findtext("t:Start", None, NS)),
                _when(row.findtext("t:End", None, NS)),
                row.findtext("t:Location", "", NS),
                row.findtext("t:CalendarItemType", "", NS),
            )
            for row in rows
        ]

    def subjects(self, mailbox: str, folder: str) -> list[str]:
        """Subjects of the items in one of a mailbox's default folders."""
        return [
            row.findtext("t:Subject", "", NS)
            for row in self._find(mailbox, folder, ("item:Subject",))
        ]


__all__ = ["ServedExchange", "StoredItem"]
