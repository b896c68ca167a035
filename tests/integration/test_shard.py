"""``--shard I/N``: each user is polled (or reported) by exactly one shard, chosen by a
hash that is the same everywhere; the engine polls only its shard's users."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integration.pbx import PbxPresence, PbxUser
from integration.scheduler import Engine
from integration.shard import Shard, shard_key, shard_of
from scenarios.commands.cli import main


def test_the_hash_is_fixed_across_processes_and_versions() -> None:
    # SHA-1 of the lower-cased address: these values must never change (a deployment's
    # shards would swap their users after an upgrade).
    assert [shard_of(f"user{i}@domain.net", 4) for i in range(8)] == [0, 3, 2, 3, 0, 0, 2, 2]
    assert shard_key("User1@Domain.NET", "100") == "user1@domain.net"
    assert shard_key(None, "200") == "extension:200"
    assert shard_of("extension:200", 3) == 1


def test_every_user_belongs_to_exactly_one_shard_and_they_spread() -> None:
    users = [(f"user{i}@domain.net", str(1000 + i)) for i in range(4000)] + [(None, "9")]
    shards = [Shard(i, 4) for i in range(4)]
    counts = [sum(s.owns(email, ext) for email, ext in users) for s in shards]
    assert sum(counts) == len(users)
    assert all(800 < c < 1200 for c in counts), counts
    assert all(Shard(0, 1).owns(email, ext) for email, ext in users)


@pytest.mark.parametrize(
    ("text", "message"),
    [("4/4", "0..3"), ("1", "I/N"), ("-1/2", "I/N"), ("0/0", "at least 1"), ("a/b", "I/N")],
)
def test_bad_shards_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Shard.parse(text)


def test_parse_and_str_round_trip() -> None:
    assert Shard.parse(" 2 / 5 ") == Shard(2, 5)
    assert str(Shard(2, 5)) == "2/5"


class Directory:
    def __init__(self, users: list[PbxUser]) -> None:
        self._users = users

    async def system_calendar_integration(self) -> bool:
        return True

    async def users(self) -> list[PbxUser]:
        return self._users

    async def presence(self, extension: str) -> PbxPresence:
        return PbxPresence("office", None, None)

    async def set_presence(self, *args: object, **kwargs: object) -> PbxPresence:
        raise AssertionError("no presence is set here")


class Calendar:
    def __init__(self) -> None:
        self.reads: list[str] = []

    async def read(self, mailbox: str, start: datetime, end: datetime) -> list[object]:
        self.reads.append(mailbox)
        return []


def test_the_engine_polls_and_reports_only_its_shard() -> None:
    users = [PbxUser(str(100 + i), f"U{i}", f"user{i}@domain.net") for i in range(8)]
    users.append(PbxUser("200", "No mail", None))  # skipped (R1) by one shard only
    polled: list[list[str]] = []
    skipped: list[str] = []
    for index in range(4):
        calendar = Calendar()
        engine = Engine(
            calendar,  # type: ignore[arg-type]
            Directory(users),
            shard=Shard(index, 4),
            on_event=lambda e: skipped.append(e.extension) if e.outcome == "skipped" else None,
        )
        asyncio.run(engine.poll_all(datetime(2026, 3, 16, 9, tzinfo=UTC)))
        polled.append(sorted(calendar.reads))
    assert polled[0] == ["user0@domain.net", "user4@domain.net", "user5@domain.net"]
    assert sorted(m for shard in polled for m in shard) == sorted(u.email for u in users[:8])  # type: ignore[type-var]
    assert skipped == ["200"]


def test_harness_engine_refuses_a_bad_shard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "engine.toml"
    config.write_text(
        '[exchange]\nserver_url = "https://ex/EWS/Exchange.asmx"\nusername = "u"\n'
        'password = "p"\n[pbx]\nurl = "http://127.0.0.1:1/"\n',
        encoding="utf-8",
    )
    assert main(["engine", "--config", str(config), "--shard", "4/4"]) == 2
    assert "--shard: shard index must be 0..3, not 4" in capsys.readouterr().err
