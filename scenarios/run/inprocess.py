"""The engine's PBX gateway wired straight to an in-process PBX simulator.

Scenarios use it so that presence changes reach the PBX journal at the frozen
instant without an HTTP hop; the engine sees the same ``PresenceGateway`` shape
it uses against the PBX's JSON API in real time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from integration.pbx import PbxError, PbxPresence, PbxUser
from simulators.pbx import Pbx


class InProcessPbxGateway:
    def __init__(self, pbx: Pbx, *, down: Callable[[], bool] = lambda: False) -> None:
        self.pbx = pbx
        self._down = down  # a scenario fault on the PBX

    def _reach(self) -> None:
        if self._down():
            raise PbxError("PBX unreachable (scenario fault)")

    async def system_calendar_integration(self) -> bool:
        self._reach()
        return self.pbx.calendar_integration

    async def users(self) -> list[PbxUser]:
        self._reach()
        return [
            PbxUser(
                extension=u.extension,
                name=u.name,
                email=u.email,
                language=u.language,
                auto_back_to_office=u.auto_back_to_office,
                calendar_integration=u.calendar_integration,
            )
            for u in self.pbx.users()
        ]

    async def presence(self, extension: str) -> PbxPresence:
        self._reach()
        p = self.pbx.presence(extension)
        return PbxPresence(p.status, p.return_time, p.set_by)

    async def set_presence(
        self,
        extension: str,
        status: str,
        return_time: datetime | None,
        *,
        set_by: str,
        reason: str,
    ) -> PbxPresence:
        self._reach()
        self.pbx.set_presence(extension, status, return_time, set_by=set_by, reason=reason)  # type: ignore[arg-type]
        return await self.presence(extension)
