"""Capture: read named calendars from a real Exchange 2007, read-only, for a scenario.

Runs where the engine runs (with its ``[exchange]`` configuration, without the
simulators): over EWS only FindItem and GetItem, over WebDAV only PROPFIND, SEARCH
and GET. ``capture(config, mailboxes, start, end)`` returns a ``model.Capture`` of
the appointments as Exchange holds them; ``anonymise`` turns names, addresses,
locations and the non-keyword words of subjects into stable pseudonyms; the
scenario file is written by ``scenarios.commands.capturefile``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from integration.capture.ews import EwsCapture
from integration.capture.model import Capture
from integration.capture.webdav import WebDavCapture
from integration.config import ExchangeConfig
from integration.http import exchange_login
from integration.sources.webdav import WebDavCalendarSource


async def capture(
    exchange: ExchangeConfig, mailboxes: Sequence[str], start: datetime, end: datetime
) -> Capture:
    """The calendars of ``mailboxes`` in ``[start, end)`` (aware datetimes)."""
    if start.tzinfo is None or end.tzinfo is None or not start < end:
        raise ValueError("the capture window needs aware start < end")
    login = exchange_login(exchange, exchange.variant)
    result = Capture(exchange.variant, exchange.server_url, start, end)
    tls = {"verify": login["verify"], "ca_file": login["ca_file"]}
    reader: EwsCapture | WebDavCapture
    if exchange.variant == "ews":
        reader = EwsCapture.open(login["server_url"], login["username"], login["password"], **tls)
    else:
        reader = WebDavCapture(
            WebDavCalendarSource(
                login["server_url"],
                login["username"],
                login["password"],
                **tls,  # type: ignore[arg-type]
            )
        )
    try:
        for mailbox in mailboxes:
            result.mailboxes.append(await reader.mailbox(mailbox, start, end))
    finally:
        await reader.aclose()
    return result


__all__ = ["capture"]
