"""The engine's one door to the PBX: its user directory and presence.

``PresenceGateway`` is what the scheduler needs; ``HttpPbxGateway`` speaks the PBX
simulator's JSON API (and would speak a real PBX's through an adapter). Scenarios
plug an in-process gateway in instead, so that no HTTP sits between the frozen
clock and the PBX journal. The engine never imports the simulators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

import httpx

from integration.transport import PoolTransport, PreparedRequests


@dataclass(frozen=True, slots=True)
class PbxUser:
    """A PBX user as the engine sees it (R1: joined to a mailbox by ``email``)."""

    extension: str
    name: str
    email: str | None
    language: str = "en"
    auto_back_to_office: bool = False
    calendar_integration: bool = True


@dataclass(frozen=True, slots=True)
class PbxPresence:
    status: str
    return_time: datetime | None
    set_by: str | None


class PbxError(Exception):
    """The PBX could not be reached or refused a request."""


@runtime_checkable
class PresenceGateway(Protocol):
    async def system_calendar_integration(self) -> bool:
        """The system-wide calendar integration switch (R1)."""
        ...

    async def users(self) -> list[PbxUser]: ...

    async def presence(self, extension: str) -> PbxPresence: ...

    async def set_presence(
        self,
        extension: str,
        status: str,
        return_time: datetime | None,
        *,
        set_by: str,
        reason: str,
    ) -> PbxPresence: ...


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class HttpPbxGateway:
    """The PBX simulator's HTTP JSON API (see ``simulators/pbx/api.py`` for shapes)."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, token: str | None = None) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"} if token else None,
            transport=PoolTransport(max_connections=100),  # one read per poll: keep them all
        )
        # The presence read of every poll, its head written once (integration.transport).
        self._reads = PreparedRequests(self._client, "GET", str(self._client.base_url))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = await self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise PbxError(f"PBX at {self._client.base_url} unreachable: {exc}") from exc
        return self._answer(response, method, path)

    @staticmethod
    def _answer(response: httpx.Response, method: str, path: str) -> Any:
        if response.status_code >= 400:
            try:
                detail = response.json().get("error", response.text)
            except ValueError:
                detail = response.text
            raise PbxError(f"PBX refused {method} {path}: {response.status_code} {detail}")
        return response.json()

    async def system_calendar_integration(self) -> bool:
        return bool((await self._request("GET", "api/system"))["calendar_integration"])

    async def users(self) -> list[PbxUser]:
        data = await self._request("GET", "api/users")
        return [
            PbxUser(
                extension=u["extension"],
                name=u["name"],
                email=u.get("email"),
                language=u.get("language", "en"),
                auto_back_to_office=bool(u.get("auto_back_to_office")),
                calendar_integration=bool(u.get("calendar_integration", True)),
            )
            for u in data["users"]
        ]

    async def presence(self, extension: str) -> PbxPresence:
        path = f"api/users/{extension}/presence"
        if not self._reads.usable:
            data = await self._request("GET", path)
        else:
            target = self._reads.url.raw_path + quote(path, safe="/").encode("ascii")
            try:
                response = await self._reads.send(target)
            except httpx.HTTPError as exc:
                raise PbxError(f"PBX at {self._client.base_url} unreachable: {exc}") from exc
            data = self._answer(response, "GET", path)
        return PbxPresence(data["status"], _time(data.get("return_time")), data.get("set_by"))

    async def set_presence(
        self,
        extension: str,
        status: str,
        return_time: datetime | None,
        *,
        set_by: str,
        reason: str,
    ) -> PbxPresence:
        body = {
            "status": status,
            "return_time": return_time.isoformat() if return_time else None,
            "set_by": set_by,
            "reason": reason,
        }
        data = await self._request("PUT", f"api/users/{extension}/presence", body)
        return PbxPresence(data["status"], _time(data.get("return_time")), data.get("set_by"))
