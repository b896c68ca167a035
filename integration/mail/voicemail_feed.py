"""Where voicemail events come from: the PBX's voicemail list, read by polling.

Owns the ``VoicemailFeed`` protocol (what the mail side needs from a PBX) and
``HttpVoicemailFeed``, which reads the PBX simulator's JSON API: the voicemail
list (``GET api/voicemails``; it has no ``since``, so the feed remembers the ids
it has handed out), the user directory for each box's e-mail address and
language, the system's time zone, and each new recording
(``GET api/voicemails/{id}/audio``). A recording is fetched only for voicemails
the caller does not already know (``known``: the queue's keys), so after a
restart old messages cost one list read, not a download each.

``forward_new`` joins a feed to a ``VoicemailForwarder``. Scenarios that hold the
PBX in process skip the feed and call ``VoicemailForwarder.forward`` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from integration.mail.queue import QueuedMail
from integration.mail.voicemail import VoicemailEvent, VoicemailForwarder, voicemail_key
from integration.pbx import PbxError

log = logging.getLogger(__name__)

Known = Callable[[str], bool]


@runtime_checkable
class VoicemailFeed(Protocol):
    async def fetch_new(self, known: Known) -> list[VoicemailEvent]:
        """Voicemails not handed out before whose key ``known`` does not know,
        oldest first, each with its recording and its user's address."""
        ...

    async def timezone(self) -> ZoneInfo | None:
        """The PBX's time zone, in which mails state the time (None: unknown)."""
        ...


class HttpVoicemailFeed:
    """The PBX simulator's HTTP JSON API as a voicemail feed."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", timeout=timeout)
        self._seen: set[str] = set()
        # Every key the last complete listing held (None before the first one).
        self.listed: frozenset[str] | None = None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str) -> httpx.Response:
        try:
            response = await self._client.get(path)
        except httpx.HTTPError as exc:
            raise PbxError(f"PBX at {self._client.base_url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise PbxError(f"PBX refused GET {path}: {response.status_code} {response.text}")
        return response

    async def _json(self, path: str) -> Any:
        response = await self._get(path)
        try:
            return response.json()
        except ValueError as exc:
            raise PbxError(f"PBX answered GET {path} with something not JSON") from exc

    async def timezone(self) -> ZoneInfo | None:
        name = (await self._json("api/system")).get("timezone")
        try:
            return ZoneInfo(name) if isinstance(name, str) and name else None
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("PBX time zone %r unknown here; mails show the UTC offset", name)
            return None

    async def fetch_new(self, known: Known) -> list[VoicemailEvent]:
        listing = (await self._json("api/voicemails"))["voicemails"]
        fresh: list[tuple[str, dict[str, Any]]] = []
        listed: set[str] = set()
        for item in listing:
            try:
                key = voicemail_key(
                    item["extension"], str(item["id"]), datetime.fromisoformat(item["at"])
                )
            except (KeyError, TypeError, ValueError):
                log.warning("PBX voicemail entry not understood, skipped: %r", item)
                continue
            listed.add(key)
            if key in self._seen:
                continue
            if known(key):
                self._seen.add(key)
                continue
            fresh.append((key, item))
        self.listed = frozenset(listed)
        if not fresh:
            return []
        users = {u["extension"]: u for u in (await self._json("api/users"))["users"]}
        events: list[VoicemailEvent] = []
        for key, item in fresh:
            audio_path = str(item.get("audio_url") or f"api/voicemails/{item['id']}/audio")
            try:
                audio = (await self._get(audio_path.lstrip("/"))).content
            except PbxError as exc:  # not marked seen: tried again at the next poll
                log.warning("voicemail %s: recording not fetched: %s", item["id"], exc)
                continue
            user = users.get(item["extension"], {})
            events.append(
                VoicemailEvent(
                    voicemail_id=str(item["id"]),
                    extension=item["extension"],
                    caller=str(item.get("from") or ""),
                    at=datetime.fromisoformat(item["at"]),
                    duration_seconds=float(item.get("duration_seconds") or 0.0),
                    audio=audio,
                    email=user.get("email"),
                    language=user.get("language") or "en",
                    user_name=user.get("name") or "",
                )
            )
            # Only once its recording is in hand: a failed download is retried next poll.
            self._seen.add(key)
        return events


async def forward_new(
    feed: VoicemailFeed, forwarder: VoicemailForwarder, now: datetime | None = None
) -> list[QueuedMail]:
    """Read the feed once and queue a mail for each new voicemail; the queued mails."""
    events = await feed.fetch_new(forwarder.already_forwarded)
    queued: list[QueuedMail] = []
    for event in events:
        mail = forwarder.forward(event, now)
        if mail is not None:
            queued.append(mail)
    return queued
