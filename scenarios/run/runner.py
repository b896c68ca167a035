"""Run one scenario: seed the fakes, freeze time, step the clock, check expectations.

The runner is the one clock for everything: freezegun holds ``datetime.now`` at
each instant the scenario cares about (every poll, every step) and moves it
forward, so the Exchange store (with its skew), the PBX and the engine all see the
same time and a scenario of hours takes a second or two. Nothing sleeps.

Order within one instant (the contract): steps first, then the engine's poll
due at that instant, then the mail side's round (``scenarios.run.mailside``: queued
mail due now is sent), then the expectations. Besides polls and steps, the
runner visits the instants the mail queue asks for (a retry) and the deadlines
of mail expectations. Calls and contact searches have their own helpers
(``scenarios.run.callside``, ``scenarios.run.contactside``), and so have restarts
of the engine and of Exchange (``scenarios.run.restarts``: the engine's poll
schedule follows its restarts).
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from freezegun import freeze_time

from integration.scheduler import Engine, PollEvent, PollSettings
from integration.sources.ews import EwsCalendarSource
from integration.sources.webdav import WebDavCalendarSource
from scenarios.explain.around import why
from scenarios.explain.sentences import Clock
from scenarios.format.accesssteps import AddUser, Grant
from scenarios.format.clientsteps import ClientSetPresence
from scenarios.format.meetingsteps import CancelMeeting
from scenarios.format.model import (
    Call,
    CheckMail,
    CreateAppointment,
    DeleteAppointment,
    ExpectCall,
    ExpectContacts,
    ExpectMail,
    ExpectPresence,
    ExpectTransition,
    Fault,
    Scenario,
    SearchContacts,
    SetPresence,
    Step,
    UpdateAppointment,
    User,
)
from scenarios.format.restartsteps import RestartEngine, RestartExchange
from scenarios.run.accessside import AccessSide, add_pbx_user
from scenarios.run.callside import CallSide
from scenarios.run.clientside import ClientSide
from scenarios.run.contactside import ContactSide
from scenarios.run.environment import Environment
from scenarios.run.faultside import FaultSide
from scenarios.run.inprocess import InProcessPbxGateway
from scenarios.run.mailside import MailSide
from scenarios.run.pbxclock import PbxClock
from scenarios.run.recording import Recording, RunFacts, StoreRecorder, record
from scenarios.run.restarts import RestartSide, engine_polls
from simulators.clock import utc_now
from simulators.exchange import meetings
from simulators.exchange.seed import add_appointment, apply_seed
from simulators.netgate import ConnectionGate
from simulators.pbx import JournalEntry, Pbx

SECOND = timedelta(seconds=1)
MANUAL = "client"  # set_by of set_presence steps (not listed in expect_transitions)
# Plumbing that must keep real time while the scenario clock is frozen: the HTTP
# server's and client's keep-alive and timeout bookkeeping. Frozen, a 30 s jump
# looks like an idle connection timing out, and every poll would reconnect.
REAL_TIME_MODULES = [
    "simulators.wsgi_server",
    "integration.transport",
    "httpcore",
    "anyio",
    "h11",
]


@dataclass(frozen=True)
class Failure:
    """A failed expectation; ``explanation`` holds the engine's decisions that explain
    it, one sentence each (``scenarios.explain``), when it is about a user's presence."""

    line: int
    message: str
    explanation: tuple[str, ...] = ()
    user: str | None = None  # whose presence it is about, when it is
    at: datetime | None = None  # the instant it is about (scenario clock)


@dataclass(frozen=True)
class Activity:
    """A call, mail attempt or contact search, as one line of the timeline; ``after``
    is how many presence changes the journal had then (the timeline's order)."""

    at: datetime
    text: str
    after: int = 0


@dataclass
class ScenarioResult:
    scenario: Scenario
    variant: str
    failures: list[Failure] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)
    polls: list[PollEvent] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)
    error: str | None = None  # the harness itself failed
    recording: Recording | None = None  # the run for reports (scenarios.run.recording)
    seconds: float = 0.0  # wall time the run took

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    def transitions(self) -> list[JournalEntry]:
        return [e for e in self.journal if e.is_transition]


def poll_instants(scenario: Scenario) -> Iterator[datetime]:
    engine = scenario.engine
    at = scenario.start + engine.poll_offset
    while at <= scenario.end:
        yield at
        at += engine.poll_interval


def pbx_for(
    users: Iterable[User], timezone: tzinfo | str, clock: Callable[[], datetime] | None = None
) -> Pbx:
    """A PBX simulator with the scenario's users in their starting presence; on
    ``clock`` when given (``harness serve``'s controlled clock, a scenario's PBX
    clock), else on the (frozen) real time."""
    pbx = Pbx(clock, timezone=timezone)
    for user in users:
        add_pbx_user(pbx, user)
    return pbx


OutsideAction = Callable[[], object]


class _Run:
    """The state of one scenario run under a frozen clock."""

    def __init__(
        self,
        scenario: Scenario,
        variant: str,
        env: Environment,
        outside: Mapping[datetime, OutsideAction] | None = None,
        progress: Callable[[datetime], object] | None = None,
    ) -> None:
        self.scenario = scenario
        self.variant = variant
        self.env = env
        self.outside = dict(outside or {})
        self.progress = progress
        self.result = ScenarioResult(scenario, variant)
        self.item_ids: dict[str, str] = {}
        self.pbx_clock = pbx_clock_for(scenario)
        self.pbx = pbx_for(scenario.users, self.pbx_clock.zone, self.pbx_clock.now)
        self.access = AccessSide(scenario, env.store, self.pbx, note=self.note, local=self.local)
        self.outages: list[tuple[str, datetime, datetime]] = []  # service, from, until
        self.faults = FaultSide(scenario, env.site.faults, self.outages, note=self.note)
        # Explanations: the engine's polls are on the PBX clock; say so when it is off.
        self.clock = Clock(
            scenario.timezone, pbx_true=None if self.pbx_clock.is_true else self.pbx_clock.true
        )
        self.about: tuple[str, datetime, str | None] | None = None  # see explaining()
        # Made by run(), on the scenario's event loop.
        self.gate: ConnectionGate
        self.mail: MailSide
        self.calls: CallSide
        self.contacts: ContactSide
        self.engine: Engine
        self.client: ClientSide
        self.engine_source: EwsCalendarSource | WebDavCalendarSource
        self.restarts: RestartSide

    def local(self, instant: datetime) -> str:
        return instant.astimezone(self.scenario.timezone).strftime("%Y-%m-%d %H:%M:%S")

    def fail(self, line: int, message: str) -> None:
        explanation: tuple[str, ...] = ()
        user: str | None = None
        instant = utc_now()  # the instant being run (the end, for transitions)
        if self.about is not None:
            user, instant, expected = self.about
            # The engine's polls are stamped with the PBX clock: look up to its reading.
            at = self.pbx_clock.at(instant)
            explanation = tuple(why(self.result.polls, user, at, self.clock, expected=expected))
        self.result.failures.append(Failure(line, message, explanation, user, instant))

    @contextmanager
    def explaining(self, user: str, at: datetime, expected: str | None = None) -> Iterator[None]:
        """Failures reported inside this block are explained by ``user``'s decisions
        up to ``at`` (``expected``: the status the expectation wanted)."""
        self.about = (user, at, expected)
        try:
            yield
        finally:
            self.about = None

    def note(self, at: datetime, text: str) -> None:
        self.result.activity.append(Activity(at, text, len(self.result.journal)))

    def note_pbx(self, at: datetime, text: str) -> None:
        """A note stamped with the PBX clock (the mail side runs on it)."""
        self.note(self.pbx_clock.true(at), text)

    def journalled(self, entry: JournalEntry) -> None:
        """A PBX journal entry, put on the scenario clock (the PBX stamps its own)."""
        if not self.pbx_clock.is_true:
            entry = dataclasses.replace(entry, at=self.pbx_clock.true(entry.at))
        self.result.journal.append(entry)

    # ------------------------------------------------------------------ steps
    async def apply(self, step: Step) -> None:
        store = self.env.store
        if isinstance(step, CreateAppointment):
            item = add_appointment(store, step.appointment)
            if step.id:
                self.item_ids[step.id] = item.id
        elif isinstance(step, UpdateAppointment):
            changes = {
                k: getattr(step, k)
                for k in ("subject", "start", "end", "all_day", "busy_status", "location")
                if getattr(step, k) is not None
            }
            store.update_item(self.item_ids[step.id], **changes)
        elif isinstance(step, DeleteAppointment):
            store.delete_item(self.item_ids[step.id])
        elif isinstance(step, SetPresence):
            self.pbx.set_presence(
                step.user, step.status, step.return_time, set_by=MANUAL, reason="set_presence step"
            )
        elif isinstance(step, Fault):  # refused: the gates; the rest: the fault injector
            self.faults.apply(step)
        elif isinstance(step, Call):  # and leave_voicemail
            with self.explaining(step.to, step.at):
                self.calls.place(step)
        elif isinstance(step, SearchContacts):
            await self.contacts.search(step)
        elif isinstance(step, CheckMail):
            await self.mail.check(step, self.pbx_clock.at(step.at))
        elif isinstance(step, RestartEngine):
            await self.restarts.restart_engine(step)
        elif isinstance(step, RestartExchange):
            await self.restarts.restart_exchange(step)
        elif isinstance(step, Grant):  # and revoke
            self.access.change(step)
        elif isinstance(step, AddUser):
            self.access.add_user(step)
        elif isinstance(step, ClientSetPresence):
            await self.client.set_presence(step)
        elif isinstance(step, CancelMeeting):
            item = meetings.cancel(store, self.item_ids[step.id])
            self.note(step.at, f"meeting cancelled by its organizer: now {item.subject!r}")
        else:  # pragma: no cover - the loader only makes the kinds above
            raise TypeError(f"no runner for step {step.verb}")

    def expect(self, step: Step) -> None:
        """An expectation at its instant, after the poll and the mail round."""
        if isinstance(step, ExpectPresence):
            with self.explaining(step.user, step.at, step.status):
                self.expect_presence(step)
        elif isinstance(step, ExpectCall):
            self.calls.expect(step)
        elif isinstance(step, ExpectMail):  # and expect_no_mail
            self.mail.expect(step)
        elif isinstance(step, ExpectContacts):
            self.contacts.expect(step)
        else:  # pragma: no cover - the loader only makes the kinds above
            raise TypeError(f"no runner for expectation {step.verb}")

    def expect_presence(self, step: ExpectPresence) -> None:
        presence = self.pbx.presence(step.user)
        want = step.status
        got = str(presence.status)
        where = self.local(step.at)
        if got != want:
            self.fail(
                step.line,
                f"expected user {step.user} {want} at {where}, got {got}"
                + (f" until {self.local(presence.return_time)}" if presence.return_time else "")
                + f" (set by {presence.set_by})",
            )
        elif step.return_time is not None and presence.return_time != step.return_time:
            got_rt = self.local(presence.return_time) if presence.return_time else "none"
            self.fail(
                step.line,
                f"expected user {step.user} {want} until {self.local(step.return_time)} "
                f"at {where}, got return time {got_rt}",
            )

    # ------------------------------------------------------------ transitions
    def check_transitions(self) -> None:
        expected = self.scenario.expect_transitions
        users = list(dict.fromkeys(e.user for e in expected))
        for user in users:
            want = [e for e in expected if e.user == user]
            got = [
                e
                for e in self.result.journal
                if e.user == user and e.is_transition and e.set_by != MANUAL
            ]
            for index, exp in enumerate(want):
                if index >= len(got):
                    with self.explaining(user, exp.between[1], exp.status):
                        self.fail(
                            exp.line, f"missing transition: {self._describe(exp)}; none happened"
                        )
                    continue
                problem = self._mismatch(exp, got[index])
                if problem:
                    # Explained where it was wanted, or where it happened if later.
                    with self.explaining(user, max(exp.between[1], got[index].at), exp.status):
                        self.fail(exp.line, f"expected {self._describe(exp)}; got {problem}")
            for extra in got[len(want) :]:
                with self.explaining(user, extra.at, str(extra.new_status)):
                    self.fail(
                        want[-1].line if want else 0,
                        f"unexpected transition of user {user} to {extra.new_status} at "
                        f"{self.local(extra.at)} ({extra.reason})",
                    )

    def _describe(self, exp: ExpectTransition) -> str:
        text = (
            f"user {exp.user} -> {exp.status} between {self.local(exp.between[0])} "
            f"and {self.local(exp.between[1])}"
        )
        if exp.return_time is not None:
            text += f" until {self.local(exp.return_time)}"
        return text

    def _mismatch(self, exp: ExpectTransition, entry: JournalEntry) -> str | None:
        got = f"{entry.new_status} at {self.local(entry.at)}"
        if entry.return_time is not None:
            got += f" until {self.local(entry.return_time)}"
        got += f" ({entry.reason})"
        if str(entry.new_status) != exp.status:
            return got
        if not exp.between[0] <= entry.at <= exp.between[1]:
            return got
        if exp.return_time is not None and entry.return_time != exp.return_time:
            return got
        return None

    def source(self, port: int) -> EwsCalendarSource | WebDavCalendarSource:
        """The engine's calendar source for this run's variant, through the gate."""
        svc = self.scenario.seed.service_account
        base = f"{'https' if self.env.site.tls else 'http'}://{self.env.site.host}:{port}"
        ca = self.env.ca_file
        kind, path = (
            (WebDavCalendarSource, "/exchange/")
            if self.variant == "webdav"
            else (EwsCalendarSource, "/EWS/Exchange.asmx")
        )
        return kind(
            base + path,
            svc.user,
            svc.password,
            ca_file=ca,
            concurrency=20,
            timeout=self.scenario.engine.read_timeout.total_seconds(),
        )

    def down(self, service: str, at: datetime) -> bool:
        return any(s == service and start <= at < end for s, start, end in self.outages)

    # ----------------------------------------------------------------- engine
    def new_engine(self) -> Engine:
        """The engine's process: a fresh rule state and source, the same settings."""
        scenario = self.scenario
        self.engine_source = self.source(self.gate.port)
        return Engine(
            self.engine_source,
            InProcessPbxGateway(self.pbx, faults=self.env.site.faults),
            PollSettings(
                interval=scenario.engine.poll_interval,
                lead_time=scenario.engine.lead_time,
                catch_up=scenario.engine.catch_up,
            ),
            on_event=self.result.polls.append,
        )

    def new_contacts(self) -> ContactSide:
        env = self.env
        base = f"{'https' if env.site.tls else 'http'}://{env.site.host}:{self.gate.port}"
        return ContactSide(
            self.scenario, self.variant, base, env.ca_file, note=self.note, fail=self.fail
        )

    async def stop_engine(self, now: datetime) -> None:
        """``restart_engine``: the process ends, with its connections and mail worker."""
        await self.engine_source.aclose()
        await self.contacts.aclose()
        self.mail.stop_engine()

    async def start_engine(self, now: datetime) -> None:
        """A new process with the same configuration and mail queue file."""
        self.engine = self.new_engine()
        self.contacts = self.new_contacts()
        self.mail.start_engine(self.pbx_clock.at(now))  # the mail side runs on the PBX clock

    # -------------------------------------------------------------------- run
    async def sync_gates(self, instant: datetime) -> None:
        """Open or shut the gates in front of the site and the SMTP sink (faults)."""
        await self.gate.set_open(not self.down(self.variant, instant))
        await self.mail.set_open(not self.down("smtp", instant))

    def instants(self) -> tuple[list[datetime], set[datetime], dict[datetime, list[Step]]]:
        """Every instant known before the run (polls, steps, deadlines of waits) as a
        heap, the poll instants, and the steps by instant."""
        polls = set(engine_polls(self.scenario))
        steps_at: dict[datetime, list[Step]] = {}
        for step in self.scenario.steps:
            steps_at.setdefault(step.at, []).append(step)
        deadlines = {s.until for s in self.scenario.steps if s.until != s.at}
        heap = sorted(polls | set(steps_at) | deadlines | set(self.outside))
        return heap, polls, steps_at

    async def run(self, freezer: object) -> None:
        scenario = self.scenario
        env = self.env
        env.reset(
            clock_skew=scenario.exchange.clock_skew,
            webdav_auth=scenario.exchange.webdav_auth,
            allow_relay=scenario.exchange.allow_relay,
        )
        handles = apply_seed(env.store, scenario.seed)
        self.item_ids = {key: item.id for key, item in handles.items()}
        self.pbx.on_journal(self.journalled)
        # The engine reaches the site and the SMTP sink through gates a fault can shut.
        self.gate = gate = ConnectionGate(env.site.host, env.site.port)
        await gate.open()
        self.mail = MailSide(
            scenario, env.sink, self.pbx, note=self.note_pbx, fail=self.fail, local=self.local
        )
        self.calls = CallSide(self.pbx, self.mail, note=self.note, fail=self.fail, local=self.local)
        self.contacts = self.new_contacts()
        self.engine = self.new_engine()
        base = f"{'https' if env.site.tls else 'http'}://{env.site.host}:{gate.port}"
        self.client = ClientSide(
            scenario, self.variant, base, env.ca_file, self.pbx, note=self.note
        )
        self.restarts = RestartSide(env, self, self.outages, note=self.note, local=self.local)
        pending, polls, steps_at = self.instants()
        visited: set[datetime] = set()
        try:
            await self.mail.open()
            while pending:
                instant = heapq.heappop(pending)
                if instant in visited:
                    continue
                if instant > scenario.end:
                    break
                visited.add(instant)
                freezer.move_to(instant)  # type: ignore[attr-defined]
                if self.progress is not None:
                    self.progress(instant)
                self.pbx.tick(self.pbx_clock.at(instant))
                todo = steps_at.get(instant, [])
                await self.restarts.due(instant)  # what a restart took down comes back
                await self.sync_gates(instant)  # outages that began or ended by now
                for step in todo:
                    if not step.is_expectation:
                        await self.apply(step)
                        await self.sync_gates(instant)  # a fault holds for the next step
                if instant in self.outside:
                    self.outside[instant]()  # someone acts through a real client
                if instant in polls and self.restarts.engine_up:
                    # The engine runs on the PBX: "now" is the PBX clock's reading (R13).
                    await self.engine.poll_all(self.pbx_clock.at(instant))
                await self.mail.run_due(self.pbx_clock.at(instant))
                self.faults.notes()  # what the faults acted on at this instant
                due = self.mail.next_due()
                if due is not None:
                    due = self.pbx_clock.true(due)
                if due is not None and instant < due <= scenario.end:
                    heapq.heappush(pending, due)  # the worker wakes for a retry
                self.mail.check_waits(instant)
                for step in todo:
                    if step.is_expectation:
                        self.expect(step)
            freezer.move_to(scenario.end)  # type: ignore[attr-defined]
            self.pbx.tick(self.pbx_clock.at(scenario.end))
            self.mail.finish(scenario.end)
        finally:
            await self.restarts.finish()
            await self.contacts.aclose()
            await self.engine_source.aclose()
            await gate.close()
            await self.mail.aclose()
        self.check_transitions()


def pbx_clock_for(scenario: Scenario) -> PbxClock:
    """The PBX clock of a scenario's ``pbx:`` settings (the scenario clock by default)."""
    settings = scenario.pbx
    return PbxClock(
        zone=settings.timezone or scenario.timezone,
        skew=settings.clock_skew,
        wall_zone=scenario.timezone if settings.clock == "wall" else None,
    )


def run_scenario(
    scenario: Scenario,
    variant: str,
    env: Environment,
    outside: Mapping[datetime, OutsideAction] | None = None,
    *,
    progress: Callable[[datetime], object] | None = None,
) -> ScenarioResult:
    """Run ``scenario`` with the engine reaching Exchange through ``variant``.

    ``outside`` holds actions at instants of the scenario clock, done after that
    instant's steps and before its poll: a person using a real client (a browser on
    OWA, say) against ``env`` while the clock stands still. ``progress`` is told
    each instant the run reaches (``harness run`` shows that it is alive)."""
    began = time.perf_counter()
    run = _Run(scenario, variant, env, outside, progress)
    if variant not in AVAILABLE_VARIANTS:
        run.result.error = f"the {variant} variant is not available in this build"
        return run.result
    start = scenario.start - timedelta(seconds=1)
    recorder = StoreRecorder(env.store)
    try:
        with freeze_time(start, real_asyncio=True, ignore=REAL_TIME_MODULES) as freezer:
            try:
                asyncio.run(run.run(freezer))
            except Exception as exc:  # the harness failed, not an expectation
                run.result.error = f"{type(exc).__name__}: {exc}"
            try:
                run.result.recording = record_run(run, recorder)
            except Exception as exc:  # a bug of the recording is the harness's failure
                run.result.error = run.result.error or f"recording: {type(exc).__name__}: {exc}"
    finally:
        recorder.close()
    run.result.seconds = time.perf_counter() - began
    return run.result


def record_run(run: _Run, recorder: StoreRecorder) -> Recording:
    """The run's ``Recording``, while the store and the site journal still hold it."""
    result = run.result
    return record(
        RunFacts(
            scenario=run.scenario,
            variant=run.variant,
            pbx=run.pbx,
            pbx_clock=run.pbx_clock,
            store=run.env.store,
            changes=recorder.changes,
            journal=result.journal,
            polls=result.polls,
            failures=result.failures,
            outages=run.outages,
            requests=run.env.site.journal.entries(),
            injected=run.faults.windows(run.scenario.end),
            clock=run.clock,
        )
    )


# The engine variants this build can run.
AVAILABLE_VARIANTS: tuple[str, ...] = ("ews", "webdav")


def variants_for(scenario: Scenario, override: str | None = None) -> list[str]:
    """The variants to run: the file's (or the override's), ``both`` meaning every
    available one. An explicitly named variant that is not built yet is still
    returned, so that its run reports the harness error instead of passing."""
    wanted = override or scenario.variant
    if wanted == "both":
        return list(AVAILABLE_VARIANTS)
    return [wanted]
