"""The engine service: configuration reload without a restart (a bad file is refused
and changes nothing; a good one applies between polls, rule states kept), and the
health endpoint of a running engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from integration.config import (
    ConfigError,
    EngineConfig,
    ExchangeConfig,
    HealthConfig,
    PbxConfig,
    PollingConfig,
)
from integration.service import run_engine
from simulators.exchange.seed import Seed, SeedAppointment, SeedMailbox, apply_seed
from simulators.exchange.store import ExchangeStore
from simulators.pbx import Pbx, User
from simulators.pbx.server import PbxServer
from simulators.site import RunningSite, start_site


@pytest.fixture
def world() -> Iterator[tuple[RunningSite, Pbx, PbxServer]]:
    now = datetime.now(UTC)
    store = ExchangeStore()
    apply_seed(
        store,
        Seed(
            mailboxes=[SeedMailbox("user1@domain.net"), SeedMailbox("user2@domain.net")],
            appointments=[
                SeedAppointment(
                    mailbox="user1@domain.net",
                    subject="Lunch",
                    start=now - timedelta(minutes=5),
                    end=now + timedelta(hours=1),
                    created=now - timedelta(days=1),
                )
            ],
        ),
    )
    pbx = Pbx()
    pbx.add_user(User(extension="100", name="One", email="user1@domain.net"))
    pbx.add_user(User(extension="101", name="Two", email="user2@domain.net"))
    with start_site(store) as site, PbxServer(pbx) as server:
        yield site, pbx, server


async def _until(condition: Callable[[], bool], what: str, deadline: float = 20.0) -> None:
    """Wait for ``condition`` (a loaded CI machine may be slow), failing after ``deadline``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"not within {deadline} s: {what}")
        await asyncio.sleep(0.02)


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def _config(site: RunningSite, server: PbxServer, interval: float) -> EngineConfig:
    return EngineConfig(
        ExchangeConfig(True, "ews", site.ews_url, "OSOMX@domain.net", "secret"),
        PollingConfig(interval=timedelta(seconds=interval), catch_up=True),
        pbx=PbxConfig(server.url),
        health=HealthConfig("127.0.0.1", 0),
    )


def test_reload_applies_a_good_file_refuses_a_bad_one_and_health_answers(
    world: tuple[RunningSite, Pbx, PbxServer], caplog: pytest.LogCaptureFixture
) -> None:
    site, pbx, server = world
    slow, fast = _config(site, server, 20.0), _config(site, server, 0.25)
    files: list[EngineConfig | ConfigError] = [
        ConfigError(["engine.toml: [polling] interval: must be a duration"]),
        fast,
    ]

    def load() -> EngineConfig:
        got = files.pop(0)
        if isinstance(got, ConfigError):
            raise got
        return got

    def reads() -> int:
        return len(site.journal.entries(operation="FindItem"))

    async def main() -> dict[str, object]:
        stop, reload = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(run_engine(slow, stop, reload=reload, load=load))
        # 20 s polling: the first user is read at once, the second only at 10 s.
        await _until(lambda: reads() >= 1, "the first read")
        reload.set()  # the bad file: refused, nothing changes
        await _until(
            lambda: "reload refused, going on with the running configuration:" in _messages(caplog),
            "the bad file refused",
        )
        assert reads() == 1
        reload.set()  # the good one: 0.25 s polling from now on
        await _until(lambda: reads() >= 1 + 8, "0.25 s polling after the good file")
        port = next(
            int(r.getMessage().rsplit(":", 1)[1].split("/")[0])
            for r in caplog.records
            if r.getMessage().startswith("health at ")
        )
        async with httpx.AsyncClient() as client:
            health = (await client.get(f"http://127.0.0.1:{port}/health")).json()
        stop.set()
        await asyncio.wait_for(task, 10)
        return health

    with caplog.at_level("INFO"), caplog.at_level("INFO", logger="integration"):
        health = asyncio.run(main())
    messages = [r.getMessage() for r in caplog.records]
    assert "reload refused, going on with the running configuration:" in messages
    assert "  engine.toml: [polling] interval: must be a duration" in messages
    assert messages.count("configuration reloaded") == 1
    # The same Exchange: rule states kept, so the lunch set before the reload was
    # not set a second time after it.
    assert [e.new_status for e in pbx.journal() if e.user == "100"] == ["lunch"]
    assert health["status"] == "ok" and health["users_polled"] == 2
    assert {u["extension"] for u in health["users"]} == {"100", "101"}  # type: ignore[union-attr]


def test_reload_to_another_exchange_starts_the_rule_states_afresh(
    world: tuple[RunningSite, Pbx, PbxServer], caplog: pytest.LogCaptureFixture
) -> None:
    site, pbx, server = world
    first = _config(site, server, 0.25)
    other = replace(first, exchange=replace(first.exchange, server_url=site.ews_url + "?x=1"))

    async def main() -> None:
        stop, reload = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(run_engine(first, stop, reload=reload, load=lambda: other))
        await _until(lambda: len(site.journal.entries(operation="FindItem")) >= 2, "polls")
        reload.set()
        await _until(
            lambda: (
                "now reading another Exchange: every user's rule state starts afresh"
                in _messages(caplog)
            ),
            "the reload to another Exchange",
        )
        stop.set()
        await asyncio.wait_for(task, 10)

    with caplog.at_level("INFO"), caplog.at_level("INFO", logger="integration"):
        asyncio.run(main())
    messages = [r.getMessage() for r in caplog.records]
    assert "now reading another Exchange: every user's rule state starts afresh" in messages
