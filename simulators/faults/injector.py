"""Faults in force: what was asked for, and which request each one acts on.

``FaultInjector.add(service, kind, duration, ...)`` puts a fault of the catalogue
(``simulators.faults.catalogue``) in force for a window of scenario time, with
its triggers (``simulators.faults.triggers``) and values; ``match(service, who)``
is asked once per request (HTTP request, SMTP command stage, PBX call) and
answers the fault that acts on it, counting it. Windows are checked against the
clock at each request, so a frozen, stepped clock opens and closes them without
timers. Every fault that acted is kept in ``applied`` (bounded), for the journal.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from simulators.clock import utc_now
from simulators.faults.catalogue import FaultKind, resolve
from simulators.faults.triggers import Trigger

ClockFn = Callable[[], datetime]
INJECTED_KEY = "harness.injected"  # environ key: the fault applied to this request
DEFAULT_WAIT = timedelta(seconds=30)  # Retry-After / BackOffMilliseconds without a window end
MAX_LATENCY = timedelta(minutes=5)
REFUSED_WHOLE = (
    "refused shuts the port for the whole window: first, every, mailbox, probability "
    "and seed do not apply (pbx unreachable acts per request)"
)


@dataclass
class Fault:
    """One fault in force; ``seen`` counts requests in scope, ``acted`` those it hit."""

    id: int
    row: FaultKind
    start: datetime
    end: datetime
    trigger: Trigger = field(default_factory=Trigger)
    latency: timedelta | None = None
    retry_after: int | None = None
    back_off: timedelta | None = None
    seen: int = 0
    acted: int = 0
    _by_who: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def service(self) -> str:
        return self.row.service

    @property
    def kind(self) -> str:
        return self.row.kind

    @property
    def name(self) -> str:
        """How the journal names it: ``service:kind``."""
        return f"{self.row.service}:{self.row.kind}"

    def covers(self, service: str, at: datetime) -> bool:
        return self.row.service == service and self.start <= at < self.end

    def wait(self, now: datetime, asked: timedelta | None) -> timedelta:
        """What the server tells the client to wait: as asked, else the window's rest."""
        if asked is not None:
            return asked
        rest = self.end - now
        return rest if rest <= timedelta(days=1) else DEFAULT_WAIT

    def delay(self) -> float:
        """The added latency in seconds (1 s when none was given)."""
        return (self.latency or timedelta(seconds=1)).total_seconds()

    def to_json(self) -> dict[str, object]:
        t = self.trigger
        return {
            "id": self.id,
            "service": self.service,
            "kind": self.kind,
            "answer": self.row.answer,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "first": t.first,
            "every": t.every,
            "mailbox": t.mailbox,
            "probability": t.probability,
            "seed": t.seed,
            "latency": self.latency.total_seconds() if self.latency is not None else None,
            "retry_after": self.retry_after,
            "back_off": self.back_off.total_seconds() if self.back_off is not None else None,
            "seen": self.seen,
            "acted": self.acted,
        }


@dataclass(frozen=True)
class Applied:
    """A fault acted on one request."""

    at: datetime
    fault: str  # service:kind
    who: str  # the mailbox or user the request named, if any
    stage: str = ""  # what was answered (an SMTP command, a PBX call, an HTTP path)


class FaultInjector:
    """The faults in force for a set of services on one clock."""

    def __init__(self, clock: ClockFn = utc_now) -> None:
        self.clock = clock
        self._faults: list[Fault] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self.applied: deque[Applied] = deque(maxlen=10_000)

    def add(
        self,
        service: str,
        kind: str,
        duration: timedelta | None = None,
        start: datetime | None = None,
        *,
        end: datetime | None = None,
        trigger: Trigger | None = None,
        latency: timedelta | None = None,
        retry_after: int | None = None,
        back_off: timedelta | None = None,
    ) -> Fault:
        """Put ``kind`` of ``service`` in force from ``start`` (default: now) for
        ``duration`` (or until ``end``; one of them is needed). ValueError for
        anything the catalogue or the triggers do not accept."""
        row = resolve(service, kind)
        if duration is not None and duration <= timedelta():
            raise ValueError("a fault window needs a positive duration")
        begin = start or self.clock()
        finish = begin + duration if duration is not None else end
        if finish is None:
            raise ValueError("a fault needs a duration or an end")
        if finish <= begin:
            raise ValueError("a fault window needs a positive duration")
        for name, given in (
            ("latency", latency),
            ("retry_after", retry_after),
            ("back_off", back_off),
        ):
            if given is not None and name not in row.values:
                takes = ", ".join(row.values) or "no values"
                raise ValueError(f"{service} {row.kind} does not take {name} (it takes {takes})")
        picked = trigger or Trigger()
        if row.action == "refuse" and picked != Trigger():
            raise ValueError(REFUSED_WHOLE)
        if latency is not None and not timedelta() < latency <= MAX_LATENCY:
            raise ValueError("latency must be positive and at most 5m")
        if retry_after is not None and not 0 <= retry_after <= 86_400:
            raise ValueError("retry_after must be 0..86400 seconds")
        if back_off is not None and not timedelta() <= back_off <= timedelta(days=1):
            raise ValueError("back_off must be between 0s and 1 day")
        with self._lock:
            fault = Fault(
                self._next_id,
                row,
                begin,
                finish,
                picked,
                latency,
                retry_after,
                back_off,
            )
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def unavailable(
        self, service: str, duration: timedelta, start: datetime | None = None
    ) -> Fault:
        """The service is down (``refused``) for ``duration``."""
        return self.add(service, "refused", duration, start)

    def match(
        self,
        service: str,
        who: Iterable[str] = (),
        at: datetime | None = None,
        *,
        stage: str = "",
        kinds: Iterable[str] | None = None,
    ) -> Fault | None:
        """The fault that acts on this request of ``service`` naming ``who``, counted;
        ``kinds`` limits the faults asked (those of an SMTP command stage, say)."""
        moment = at or self.clock()
        names = [w.lower() for w in who if w]
        key = names[0] if names else ""
        wanted = set(kinds) if kinds is not None else None
        chosen: Fault | None = None
        with self._lock:
            for fault in self._faults:
                if not fault.covers(service, moment) or not fault.trigger.covers(names):
                    continue
                if wanted is not None and fault.row.kind not in wanted:
                    continue
                fault.seen += 1
                fault._by_who[key] = fault._by_who.get(key, 0) + 1
                if chosen is None and fault.trigger.picks(fault.seen, key, fault._by_who[key]):
                    fault.acted += 1
                    chosen = fault
            if chosen is not None:
                self.applied.append(Applied(moment, chosen.name, key, stage))
        return chosen

    def active(self, service: str, at: datetime | None = None) -> Fault | None:
        """The first fault whose window covers ``at`` (not counted)."""
        moment = at or self.clock()
        with self._lock:
            for fault in self._faults:
                if fault.covers(service, moment):
                    return fault
        return None

    def refusing(self, service: str, at: datetime | None = None) -> Fault | None:
        """A ``refused`` fault of ``service`` in force at ``at``: its port must be shut."""
        moment = at or self.clock()
        with self._lock:
            for fault in self._faults:
                if fault.row.action == "refuse" and fault.covers(service, moment):
                    return fault
        return None

    def idle(self) -> bool:
        """No fault window at all (read without the lock: asked on every request, and
        a list's length is read at once; a window added meanwhile acts from the next)."""
        return not self._faults

    def windows(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            kept = [f for f in self._faults if f.id != fault_id]
            found = len(kept) != len(self._faults)
            self._faults = kept
        return found

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.applied.clear()


# The name the site's fault windows had before the catalogue.
FaultWindow = Fault

__all__ = ["INJECTED_KEY", "Applied", "Fault", "FaultInjector", "FaultWindow"]
