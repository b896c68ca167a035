"""The engine's PBX gateway wired straight to an in-process PBX simulator.

Scenarios use it so that presence changes reach the PBX journal at the frozen
instant without an HTTP hop; the engine sees the same ``PresenceGateway`` shape
it uses against the PBX's JSON API in real time. Faults of service ``pbx`` (the
catalogue's ``refused``, ``unreachable`` and ``slow``) act on each call as the
real gateway would see them: ``PbxError`` (at once: the scenario clock stands
still while a real gateway would wait for its timeout), or a late answer.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from integration.pbx import PbxError, PbxPresence, PbxUser
from simulators.faults.injector import FaultInjector
from simulators.pbx import Pbx

_FAILURES = {
    "refuse": "PBX unreachable: connection refused (scenario fault)",
    "pbx_unreachable": "PBX unreachable: no answer before the timeout (scenario fault)",
}


class InProcessPbxGateway:
    def __init__(self, pbx: Pbx, *, faults: FaultInjector | None = None) -> None:
        self.pbx = pbx
        self.faults = faults

    async def _reach(self, call: str, extension: str | None = None) -> None:
        if self.faults is None or not self.faults.windows():
            return
        who = []
        if extension is not None:
            who.append(extension)
            email = next((u.email for u in self.pbx.users() if u.extension == extension), None)
            if email:
                who.append(email)
        fault = self.faults.match("pbx", who, stage=call)
        if fault is None:
            return
        if fault.row.action == "latency":
            await asyncio.sleep(fault.delay())  # real time: the answer is late, not lost
            return
        raise PbxError(_FAILURES.get(fault.row.action, f"PBX fault {fault.kind}"))

    async def system_calendar_integration(self) -> bool:
        await self._reach("system")
        return self.pbx.calendar_integration

    async def users(self) -> list[PbxUser]:
        await self._reach("users")
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
        await self._reach("presence", extension)
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
        await self._reach("set_presence", extension)
        self.pbx.set_presence(extension, status, return_time, set_by=set_by, reason=reason)  # type: ignore[arg-type]
        p = self.pbx.presence(extension)
        return PbxPresence(p.status, p.return_time, p.set_by)
