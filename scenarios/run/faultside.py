"""``fault:`` steps inside a scenario run, on the scenario clock.

A fault of the catalogue is put in force where its service is: ``refused`` on the
site or the SMTP sink closes the run's TCP gate in front of it for the window (the
runner's outages); every other kind of ``ews``, ``webdav``, ``owa`` and ``smtp``
goes to the environment's ``FaultInjector``, which the site's and the sink's
appliers ask at each request; ``pbx`` faults go to the same injector, asked by the
in-process PBX gateway at each call of the engine. Whatever acted is written to
the timeline (``notes``), one line per request it acted on, so the run's output
shows each fault where it hit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from scenarios.format.model import Fault, Scenario
from simulators.faults.injector import Fault as InjectedFault
from simulators.faults.injector import FaultInjector
from simulators.faults.triggers import Trigger

Note = Callable[[datetime, str], None]
SECOND = timedelta(seconds=1)
GATED = ("ews", "webdav", "owa", "smtp")  # services behind the run's TCP gates


class FaultSide:
    def __init__(
        self,
        scenario: Scenario,
        injector: FaultInjector,
        outages: list[tuple[str, datetime, datetime]],
        *,
        note: Note,
    ) -> None:
        self.scenario = scenario
        self.injector = injector
        self.outages = outages
        self.note = note
        self._noted = 0
        self.faults: list[InjectedFault] = []  # the injector's faults this run put in force

    def apply(self, step: Fault) -> None:
        """Put ``step``'s fault in force from its instant."""
        end = step.at + step.duration if step.duration is not None else self.scenario.end + SECOND
        until = f"for {_span(step.duration)}" if step.duration is not None else "to the end"
        if step.kind == "refused" and step.service in GATED:
            self.outages.append((step.service, step.at, end))
            self.note(step.at, f"fault {step.service} refused {until}: connections refused")
            return
        fault = self.injector.add(
            step.service,
            step.kind,
            start=step.at,
            end=end,
            trigger=Trigger(
                first=step.first,
                every=step.every,
                mailbox=step.mailbox,
                probability=step.probability,
                seed=step.seed,
            ),
            latency=step.latency,
            retry_after=step.retry_after,
            back_off=step.back_off,
        )
        self.faults.append(fault)
        picked = fault.trigger.describe()
        self.note(
            step.at,
            f"fault {fault.name} {until}"
            + (f" ({picked})" if picked else "")
            + f": {fault.row.answer}",
        )

    def windows(self, end: datetime) -> list[tuple[str, str, datetime, datetime]]:
        """(service, label, from, until) of each injected fault, for the timeline. A
        ``first N`` fault that has acted N times ends at its last hit: it acts no more."""
        found = []
        for fault in self.faults:
            until = min(fault.end, end)
            if fault.trigger.first is not None and fault.acted >= fault.trigger.first:
                hits = [h.at for h in self.injector.applied if h.fault == fault.name]
                hits = [at for at in hits if fault.start <= at < fault.end]
                if len(hits) >= fault.trigger.first:
                    until = min(until, hits[fault.trigger.first - 1] + SECOND)
            picked = fault.trigger.describe()
            label = fault.row.kind + (f" ({picked})" if picked else "")
            found.append((fault.service, label, fault.start, until))
        return found

    def notes(self) -> None:
        """One timeline line per request a fault acted on since the last call."""
        applied = list(self.injector.applied)
        for hit in applied[self._noted :]:
            who = f" for {hit.who}" if hit.who else ""
            self.note(hit.at, f"fault {hit.fault} acted{who}")
        self._noted = len(applied)


def _span(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


__all__ = ["FaultSide"]
