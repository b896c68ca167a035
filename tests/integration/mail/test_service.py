"""E-mail forwarding inside the running engine, in real time: a call routed to voicemail
(R14) on the PBX simulator arrives as mail in the user's Exchange inbox via the sink."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integration.config import EngineConfig, ExchangeConfig, PbxConfig
from integration.mail.queue import MailQueue
from integration.mail.service import run_mail
from simulators.pbx import Pbx, User
from simulators.pbx.server import PbxServer
from tests.integration.mail.conftest import USER1, MailRig


def engine_config(rig: MailRig, pbx_url: str | None, queue: Path) -> EngineConfig:
    exchange = ExchangeConfig(False, "ews", "", "", "")
    smtp = replace(rig.config(), queue_path=queue)
    return EngineConfig(exchange, pbx=PbxConfig(pbx_url) if pbx_url else None, smtp=smtp)


async def wait_for(condition: Callable[[], object], seconds: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return False


def test_a_voicemail_becomes_mail_while_the_engine_runs(rig: MailRig, tmp_path: Path) -> None:
    pbx = Pbx(timezone="Europe/Berlin")
    pbx.add_user(User("100", "User Test", USER1))
    pbx.set_presence("100", "meeting", datetime.now(UTC) + timedelta(hours=1))
    queue_path = tmp_path / "state" / "mail.sqlite3"
    with PbxServer(pbx) as server:

        async def main() -> bool:
            stop = asyncio.Event()
            config = engine_config(rig, server.url, queue_path)
            runner = asyncio.create_task(run_mail(config, stop, voicemail_poll=0.1))
            pbx.call("100", "+4930555", message_seconds=2)
            arrived = await wait_for(lambda: rig.inbox(USER1))
            stop.set()
            await asyncio.wait_for(runner, 10)
            return arrived

        assert asyncio.run(main())
    [raw] = rig.inbox(USER1)
    assert b"Subject: Voicemail from +4930555 (0:02)" in raw
    with MailQueue(queue_path) as queue:
        assert queue.counts() == {"pending": 0, "sent": 1, "failed": 0}


def test_without_a_pbx_the_worker_still_sends_what_is_queued(rig: MailRig, tmp_path: Path) -> None:
    queue_path = tmp_path / "mail.sqlite3"
    with MailQueue(queue_path) as queue:  # left by an earlier run
        queue.enqueue(
            rig.config().sender,
            [USER1],
            b"Subject: left over\r\n\r\nx\r\n",
            now=datetime.now(UTC),
        )

    async def main() -> bool:
        stop = asyncio.Event()
        runner = asyncio.create_task(run_mail(engine_config(rig, None, queue_path), stop))
        arrived = await wait_for(lambda: rig.inbox(USER1))
        stop.set()
        await asyncio.wait_for(runner, 10)
        return arrived

    assert asyncio.run(main())


def test_a_queue_damaged_while_running_is_moved_aside_and_mail_goes_on(
    rig: MailRig, tmp_path: Path
) -> None:
    pbx = Pbx(timezone="Europe/Berlin")
    pbx.add_user(User("100", "User Test", USER1))
    pbx.set_presence("100", "meeting", datetime.now(UTC) + timedelta(hours=1))
    queue_path = tmp_path / "mail.sqlite3"
    with PbxServer(pbx) as server:

        async def main() -> bool:
            stop = asyncio.Event()
            config = engine_config(rig, server.url, queue_path)
            runner = asyncio.create_task(run_mail(config, stop, voicemail_poll=0.1, recovery=0.2))
            pbx.call("100", "+4930555", message_seconds=1)
            first = await wait_for(lambda: len(rig.inbox(USER1)) == 1)
            for name in ("mail.sqlite3", "mail.sqlite3-wal", "mail.sqlite3-shm"):
                if (tmp_path / name).exists():
                    (tmp_path / name).write_bytes(b"\xde\xad" * 4096)
            pbx.call("100", "+4930777", message_seconds=1)
            second = await wait_for(lambda: len(rig.inbox(USER1)) == 2)
            stop.set()
            await asyncio.wait_for(runner, 10)
            return first and second

        assert asyncio.run(main())
    assert list(tmp_path.glob("mail.sqlite3.corrupt-*"))
    # Each voicemail once: the first is not mailed again from the fresh queue.
    assert len(rig.inbox(USER1)) == 2
    assert sum(b"+4930777" in m for m in rig.inbox(USER1)) == 1
