"""The scheduler in real time: every user once per interval, spread over the cycle,
over real sockets (EWS site, the PBX's HTTP API)."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from integration.pbx import HttpPbxGateway, PbxError, PbxPresence, PbxUser
from integration.scheduler import Engine, PollEvent, PollSettings, poll_batches, poll_offsets
from integration.sources.ews import EwsCalendarSource
from simulators.exchange.seed import Seed, SeedAppointment, SeedMailbox, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.faults.triggers import Trigger
from simulators.pbx import Pbx, User
from simulators.pbx.server import PbxServer
from simulators.site import RunningSite, start_site

USERS = 6
INTERVAL = timedelta(seconds=0.6)


@pytest.fixture
def world() -> Iterator[tuple[RunningSite, Pbx, PbxServer]]:
    now = datetime.now(UTC)
    store = ExchangeStore()
    apply_seed(
        store,
        Seed(
            mailboxes=[SeedMailbox(f"user{i}@domain.net") for i in range(USERS)],
            appointments=[
                SeedAppointment(
                    mailbox="user0@domain.net",
                    subject="Lunch",
                    start=now - timedelta(minutes=5),
                    end=now + timedelta(hours=1),
                    created=now - timedelta(days=1),
                )
            ],
        ),
    )
    site = start_site(store)
    pbx = Pbx()
    for i in range(USERS):
        pbx.add_user(User(extension=str(100 + i), name=f"User {i}", email=f"user{i}@domain.net"))
    pbx.add_user(User(extension="200", name="No mail"))  # R1: skipped, reported
    server = PbxServer(pbx).start()
    yield site, pbx, server
    server.stop()
    site.stop()


def test_real_time_polls_spread_over_the_cycle(world: tuple[RunningSite, Pbx, PbxServer]) -> None:
    site, pbx, server = world
    events: list[PollEvent] = []

    async def main() -> None:
        source = EwsCalendarSource(site.ews_url, "OSOMX@domain.net", "secret")
        gateway = HttpPbxGateway(server.url)
        engine = Engine(
            source,
            gateway,
            PollSettings(interval=INTERVAL, catch_up=True),
            on_event=events.append,
        )
        stop = asyncio.Event()
        runner = asyncio.create_task(engine.run(stop))
        await asyncio.sleep(INTERVAL.total_seconds() * 2.5)
        stop.set()
        await runner
        await source.aclose()
        await gateway.aclose()

    asyncio.run(main())
    polls = [e for e in events if e.outcome == "ok"]
    by_user: dict[str, list[datetime]] = {}
    for event in polls:
        by_user.setdefault(event.extension, []).append(event.at)
    assert sorted(by_user) == [str(100 + i) for i in range(USERS)]
    assert all(len(times) >= 2 for times in by_user.values())
    # Polled in directory order, spread over the cycle; each again one interval later.
    firsts = [by_user[str(100 + i)][0] for i in range(USERS)]
    assert firsts == sorted(firsts)
    # The cycle's clock starts before the directory read, which a loaded machine
    # makes slow, so the first poll may come late: a burst would be ~0, the plan 0.5 s.
    assert firsts[-1] - firsts[0] >= INTERVAL * (USERS - 1) / USERS * 0.5
    for times in by_user.values():
        assert times[1] - times[0] >= INTERVAL * 0.9
    # R1: the user without e-mail was reported once, never polled.
    skipped = [e for e in events if e.extension == "200"]
    assert [(e.outcome, e.detail) for e in skipped] == [
        ("skipped", "no e-mail address, so no mailbox to read")
    ]
    # The in-progress lunch was caught up, through the PBX's HTTP API.
    presence = pbx.presence("100")
    assert (str(presence.status), presence.set_by) == ("lunch", "engine")
    assert str(pbx.presence("101").status) == "office"
    assert site.journal.count(operation="FindItem") == len(polls)


@pytest.mark.parametrize(
    ("count", "interval", "expected"),
    [
        (1, 30.0, [0.0]),
        (3, 30.0, [0.0, 10.0, 20.0]),
        (4, 2.0, [0.0, 0.5, 1.0, 1.5]),
        (0, 30.0, []),
    ],
)
def test_poll_offsets_spread_evenly(count: int, interval: float, expected: list[float]) -> None:
    assert poll_offsets(count, interval) == expected


def test_ten_thousand_users_make_a_steady_trickle() -> None:
    offsets = poll_offsets(10_000, 30.0)
    assert offsets[1] == pytest.approx(0.003)
    assert offsets[-1] < 30.0


def test_log_says_each_presence_change_and_when_polling_recovers(
    world: tuple[RunningSite, Pbx, PbxServer], caplog: pytest.LogCaptureFixture
) -> None:
    site, pbx, server = world
    t0 = datetime.now(UTC)
    events: list[PollEvent] = []

    async def main() -> list[PollEvent]:
        source = EwsCalendarSource(site.ews_url, "OSOMX@domain.net", "secret")
        gateway = HttpPbxGateway(server.url)
        engine = Engine(source, gateway, PollSettings(catch_up=True), on_event=events.append)
        try:
            first = await engine.poll_all(t0)  # catches up the lunch
            # IIS answers 503 with Retry-After (the window's rest, ~300 s): the engine
            # holds every read until then, and a little longer per mailbox (jitter).
            site.faults.add("ews", "http_503", timedelta(minutes=5))
            await engine.poll_all(t0 + timedelta(seconds=30))
            await engine.poll_all(t0 + timedelta(seconds=60))
            site.faults.clear()
            await engine.poll_all(t0 + timedelta(seconds=90))  # still held back
            await engine.poll_all(t0 + timedelta(minutes=7))
            return first
        finally:
            await source.aclose()
            await gateway.aclose()

    with caplog.at_level("INFO", logger="integration.scheduler"):
        first = asyncio.run(main())
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    info = [m for level, m in messages if level == "INFO"]
    changes = [m for m in info if m.startswith("presence ")]
    assert len(changes) == 1
    assert changes[0].startswith("presence 100 (user0@domain.net): office -> lunch until ")
    assert changes[0].endswith("[R3 catch_up: 'Lunch']")
    warnings = [m for level, m in messages if level == "WARNING"]
    backoff = [m for m in warnings if "asks to back off" in m]
    assert len(backoff) == 1
    assert re.match(r"Exchange asks to back off (299|300)\.0 s \(HTTP 503\)", backoff[0])
    # Per user: one WARNING when its trouble starts (the failure, when it retries),
    # one when it changes (held back), never the same twice in a row.
    mine = [m for m in warnings if m.startswith("poll 100 (user0@domain.net)")]
    assert len(mine) == 2
    assert "failed (Exchange): user0@domain.net: server error Service Unavailable" in mine[0]
    assert "; next try at " in mine[0]
    assert "skipped (Exchange): not read: backing off until " in mine[1]
    outcomes = [e.outcome for e in events if e.extension == "100"]
    assert outcomes == ["ok", "failed", "skipped", "skipped", "ok"]
    recovered = [m for m in info if "recovered" in m]
    assert len(recovered) == USERS
    assert any(
        m.startswith("polling 100 (user0@domain.net) recovered after 3 poll(s) without a read")
        for m in recovered
    )
    # The poll's event carries the rules' decisions.
    (lunch,) = [d for e in first if e.extension == "100" for d in e.decisions]
    assert (lunch.subject, lunch.verdict, lunch.rule) == ("Lunch", "caught_up", "R3")


class _HangingDirectory:
    """A PBX whose directory answers once and then never again (a hung PBX API);
    presence reads still answer."""

    def __init__(self, users: list[PbxUser]) -> None:
        self._users = users
        self.directory_reads = 0

    async def system_calendar_integration(self) -> bool:
        return True

    async def users(self) -> list[PbxUser]:
        self.directory_reads += 1
        if self.directory_reads > 1:
            await asyncio.Event().wait()  # hangs until cancelled
        return self._users

    async def presence(self, extension: str) -> PbxPresence:
        return PbxPresence("office", None, "pbx")

    async def set_presence(self, extension: str, *args: object, **kwargs: object) -> PbxPresence:
        return PbxPresence("office", None, "engine")


class _EmptyCalendars:
    def __init__(self) -> None:
        self.reads: list[str] = []

    async def read(self, mailbox: str, start: datetime, end: datetime) -> list[object]:
        self.reads.append(mailbox)
        return []


def test_a_hung_pbx_directory_does_not_stall_polling() -> None:
    users = [PbxUser(str(100 + i), f"U{i}", f"u{i}@domain.net") for i in range(3)]
    pbx, source = _HangingDirectory(users), _EmptyCalendars()
    engine = Engine(source, pbx, PollSettings(interval=timedelta(seconds=0.2)))  # type: ignore[arg-type]

    async def main() -> None:
        stop = asyncio.Event()
        runner = asyncio.create_task(engine.run(stop))
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.wait_for(runner, 5)

    asyncio.run(main())
    # The directory hung from its second read on; every cycle still polled everyone.
    assert pbx.directory_reads == 2
    for user in users:
        assert source.reads.count(user.email) >= 4
    health = engine.health()
    assert health["status"] == "ok" and health["users_polled"] == 3
    row = health["users"][0]  # type: ignore[index]
    assert row["extension"] == "100" and row["failures_in_a_row"] == 0
    assert row["last_good_poll"] is not None and row["next_poll"] is not None


class _DownPbx:
    """A PBX that refuses everything (PbxError) while ``down``."""

    def __init__(self, users: list[PbxUser]) -> None:
        self._users = users
        self.down = False

    def _reach(self) -> None:
        if self.down:
            raise PbxError("PBX unreachable: connection refused")

    async def system_calendar_integration(self) -> bool:
        self._reach()
        return True

    async def users(self) -> list[PbxUser]:
        self._reach()
        return self._users

    async def presence(self, extension: str) -> PbxPresence:
        self._reach()
        return PbxPresence("office", None, "pbx")

    async def set_presence(self, extension: str, *args: object, **kwargs: object) -> PbxPresence:
        self._reach()
        return PbxPresence("office", None, "engine")


def test_poll_all_polls_the_known_users_when_the_directory_fails() -> None:
    users = [PbxUser(str(100 + i), f"U{i}", f"u{i}@domain.net") for i in range(2)]
    pbx, source = _DownPbx(users), _EmptyCalendars()
    engine = Engine(source, pbx)  # type: ignore[arg-type]
    t0 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)

    async def main() -> list[list[PollEvent]]:
        first = await engine.poll_all(t0)
        pbx.down = True
        down = await engine.poll_all(t0 + timedelta(seconds=30))  # used to raise PbxError
        pbx.down = False
        return [first, down, await engine.poll_all(t0 + timedelta(seconds=60))]

    first, down, back = asyncio.run(main())
    assert [e.outcome for e in first] == ["ok", "ok"]
    assert [(e.extension, e.outcome) for e in down] == [("100", "failed"), ("101", "failed")]
    assert all("connection refused" in e.detail for e in down)
    assert [e.outcome for e in back] == ["ok", "ok"]
    assert source.reads.count("u0@domain.net") == 3  # the calendar was read while the PBX was down


def test_a_short_back_off_defers_the_polls_it_holds_instead_of_skipping_them(
    world: tuple[RunningSite, Pbx, PbxServer],
) -> None:
    site, pbx, server = world
    # Six users over 6 s: one a second. The first read gets ErrorServerBusy asking for
    # 2 s of quiet, so the next user's turn (1 s later) falls inside the hold.
    site.faults.add(
        "ews",
        "ErrorServerBusy",
        timedelta(minutes=5),
        trigger=Trigger(first=1, mailbox="user0@domain.net"),
        back_off=timedelta(seconds=2),
    )
    events: list[PollEvent] = []

    def first(extension: str) -> PollEvent | None:
        return next((e for e in events if e.extension == extension), None)

    async def main() -> None:
        source = EwsCalendarSource(site.ews_url, "OSOMX@domain.net", "secret")
        gateway = HttpPbxGateway(server.url)
        settings = PollSettings(interval=timedelta(seconds=6))
        engine = Engine(source, gateway, settings, on_event=events.append)
        stop = asyncio.Event()
        runner = asyncio.create_task(engine.run(stop))
        deadline = asyncio.get_running_loop().time() + 20
        while first("101") is None:
            assert asyncio.get_running_loop().time() < deadline, events
            await asyncio.sleep(0.02)
        stop.set()
        await runner
        await source.aclose()
        await gateway.aclose()

    asyncio.run(main())
    failed, held = first("100"), first("101")
    assert failed is not None and held is not None
    assert failed.outcome == "failed" and "ErrorServerBusy" in failed.detail
    # Read once the hold was over (2 s, plus at most 10 % jitter), not skipped.
    assert held.outcome == "ok"
    assert timedelta(seconds=2) <= held.at - failed.at < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("offsets", "expected"),
    [
        ([], []),
        ([0.0, 10.0, 20.0], [(0.0, 1), (10.0, 1), (20.0, 1)]),  # far apart: each on its own
        ([0.0, 0.1, 0.2, 0.3, 0.4], [(0.0, 3), (0.3, 2)]),
        ([0.0, 0.25, 0.5], [(0.0, 1), (0.25, 1), (0.5, 1)]),  # a full tick apart: not batched
    ],
)
def test_poll_batches_start_users_due_within_a_tick_together(
    offsets: list[float], expected: list[tuple[float, int]]
) -> None:
    assert poll_batches(offsets, 0.25) == expected


def test_ten_thousand_users_wake_the_loop_four_times_a_second() -> None:
    batches = poll_batches(poll_offsets(10_000, 30.0))
    assert sum(count for _, count in batches) == 10_000
    assert len(batches) == 120  # 30 s / 0.25 s
    assert all(0.25 <= b - a < 0.26 for (a, _), (b, _) in itertools.pairwise(batches))
    assert batches[-1][0] < 30.0
